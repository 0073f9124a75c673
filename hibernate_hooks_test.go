//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Hooks cannot tell hibernation from std: the same client script, run
// against std (net.Listen + http.Server) and against pollnet with
// hibernation, must give the user's ConnState hook the same sequence of
// states with the same net.Conn per TCP connection, run ConnContext once
// per TCP connection, and give every request the context it returned.

// hookRecorder records what a server's hooks see. Conns are numbered in the
// order their first state arrives.
type hookRecorder struct {
	mu       sync.Mutex
	ids      map[net.Conn]int
	trace    []string
	contexts int
	// typed names the net.Conn's type in the trace and in the context
	// value: for TLS, where std and pollnet both hand hooks a *tls.Conn
	// (plain HTTP hands them different types by design).
	typed bool
}

type ctxKey struct{}

func newHookRecorder() *hookRecorder { return &hookRecorder{ids: map[net.Conn]int{}} }

// installHooks sets srv's ConnState and ConnContext to record into r; the
// context value ConnContext adds (under ctxKey) numbers the call.
func (r *hookRecorder) installHooks(srv *http.Server) {
	srv.ConnState = func(c net.Conn, s http.ConnState) {
		r.mu.Lock()
		defer r.mu.Unlock()
		id, ok := r.ids[c]
		if !ok {
			id = len(r.ids)
			r.ids[c] = id
		}
		if r.typed {
			r.trace = append(r.trace, fmt.Sprintf("conn%d %T %v", id, c, s))
		} else {
			r.trace = append(r.trace, fmt.Sprintf("conn%d %v", id, s))
		}
	}
	srv.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.contexts++
		if r.typed {
			return context.WithValue(ctx, ctxKey{}, fmt.Sprintf("ctx%d %T", r.contexts, c))
		}
		return context.WithValue(ctx, ctxKey{}, r.contexts)
	}
}

// install records srv's hooks and answers every request with its context
// value.
func (r *hookRecorder) install(srv *http.Server) {
	r.installHooks(srv)
	srv.Handler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		fmt.Fprintf(w, "ctx %v", req.Context().Value(ctxKey{}))
	})
}

func (r *hookRecorder) snapshot() ([]string, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.trace), r.contexts
}

func (r *hookRecorder) waitStates(t *testing.T, n int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d hook calls", n), func() bool {
		tr, _ := r.snapshot()
		return len(tr) >= n
	})
}

// hookServer is one side of the comparison.
type hookServer struct {
	name string
	ln   net.Listener
	srv  *http.Server
	rec  *hookRecorder
	// idle waits until a connection that just got its response is idle in
	// the way that matters: parked for pollnet, past the grace for std.
	idle func(t *testing.T, parked int64)
}

func startHookServers(t *testing.T, configure func(*http.Server)) []*hookServer {
	var out []*hookServer
	for _, name := range []string{"std", "pollnet"} {
		hs := &hookServer{name: name, rec: newHookRecorder(), srv: &http.Server{}}
		if configure != nil {
			configure(hs.srv)
		}
		hs.rec.install(hs.srv)
		if name == "std" {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			hs.ln = ln
			hs.idle = func(*testing.T, int64) { time.Sleep(hibPause) }
		} else {
			ln := listenTest(t, hibConfig())
			hs.ln = ln
			Hibernate(hs.srv)
			hs.idle = func(t *testing.T, n int64) { waitParked(t, ln, n) }
		}
		done := make(chan struct{})
		go func() { hs.srv.Serve(hs.ln); close(done) }()
		t.Cleanup(func() { hs.srv.Close(); <-done })
		out = append(out, hs)
	}
	return out
}

// compareHooks runs script against both servers and compares what the hooks saw.
func compareHooks(t *testing.T, configure func(*http.Server), wantStates int, script func(t *testing.T, hs *hookServer)) {
	servers := startHookServers(t, configure)
	var traces [][]string
	var contexts []int
	for _, hs := range servers {
		script(t, hs)
		hs.rec.waitStates(t, wantStates)
		time.Sleep(hibPause) // any extra hook call would show up meanwhile
		tr, n := hs.rec.snapshot()
		traces = append(traces, sortClosings(tr))
		contexts = append(contexts, n)
	}
	sameHooks(t, traces, contexts, wantStates)
}

// sameHooks fails unless std (index 0) and pollnet (1) gave ConnState the
// same wantStates states and ran ConnContext as often.
func sameHooks(t *testing.T, traces [][]string, contexts []int, wantStates int) {
	t.Helper()
	if !slices.Equal(traces[0], traces[1]) {
		t.Fatalf("ConnState differs:\nstd:     %q\npollnet: %q", traces[0], traces[1])
	}
	if len(traces[0]) != wantStates {
		t.Fatalf("std's hook saw %d states, the test expects %d: %q", len(traces[0]), wantStates, traces[0])
	}
	if contexts[0] != contexts[1] {
		t.Fatalf("ConnContext ran %d times on std, %d on pollnet", contexts[0], contexts[1])
	}
}

// sortClosings orders the trailing run of StateClosed calls: connections
// that close together (at Shutdown) close in no particular order, on std too.
func sortClosings(trace []string) []string {
	i := len(trace)
	for i > 0 && strings.HasSuffix(trace[i-1], " closed") {
		i--
	}
	slices.Sort(trace[i:])
	return trace
}

func (hs *hookServer) getCtx(t *testing.T, c *rawClient, want string) {
	t.Helper()
	c.write(getRequest("/"))
	c.expect("GET", 200, want)
}

func TestHibernateHooksSeeStdAcrossParks(t *testing.T) {
	compareHooks(t, nil, 8, func(t *testing.T, hs *hookServer) {
		c := dialRaw(t, hs.ln.Addr())
		for range 3 {
			hs.getCtx(t, c, "ctx 1") // the same ConnContext value on every request
			hs.idle(t, 1)
		}
		c.conn.Close() // the peer closes while parked
	})
}

func TestHibernateHooksSeeStdAtIdleTimeout(t *testing.T) {
	configure := func(srv *http.Server) { srv.IdleTimeout = 300 * time.Millisecond }
	compareHooks(t, configure, 4, func(t *testing.T, hs *hookServer) {
		c := dialRaw(t, hs.ln.Addr())
		hs.getCtx(t, c, "ctx 1")
		c.expectClosed() // the idle timeout passes while parked
	})
}

func TestHibernateHooksSeeStdAtShutdown(t *testing.T) {
	compareHooks(t, nil, 8, func(t *testing.T, hs *hookServer) {
		a := dialRaw(t, hs.ln.Addr())
		hs.getCtx(t, a, "ctx 1")
		hs.idle(t, 1)
		b := dialRaw(t, hs.ln.Addr())
		hs.getCtx(t, b, "ctx 2")
		hs.idle(t, 2)
		hs.rec.waitStates(t, 6)
		shutdownTest(t, hs.srv)
		a.expectClosed()
		b.expectClosed()
	})
}
