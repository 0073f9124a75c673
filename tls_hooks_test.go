//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// Hooks and handlers cannot tell ServeServerTLS from srv.ServeTLS: the same
// client script, run against std and against pollnet (where the connection
// hibernates between requests), must give ConnState the same states with
// the same *tls.Conn per TCP connection, run ConnContext once per TCP
// connection, and give handlers the same request context values and TLS
// state.

// tlsHookRecorder records what a TLS server's hooks and handler see.
type tlsHookRecorder struct {
	hookRecorder
	requests []string // guarded by mu
}

func newTLSHookRecorder() *tlsHookRecorder {
	return &tlsHookRecorder{hookRecorder: hookRecorder{ids: map[net.Conn]int{}, typed: true}}
}

func (r *tlsHookRecorder) install(srv *http.Server) {
	r.installHooks(srv)
	srv.Handler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		ctx := req.Context()
		_, isServer := ctx.Value(http.ServerContextKey).(*http.Server)
		laddr, _ := ctx.Value(http.LocalAddrContextKey).(net.Addr)
		host, _, _ := net.SplitHostPort(req.RemoteAddr)
		desc := describeTLS(req.TLS)
		desc = desc[:strings.Index(desc, " ekm=")] // the session's own secret differs between servers
		seen := fmt.Sprintf("%v server=%v laddr=%v remote=%s tls=%s", ctx.Value(ctxKey{}), isServer, laddr != nil, host, desc)
		r.mu.Lock()
		r.requests = append(r.requests, seen)
		r.mu.Unlock()
		fmt.Fprint(w, seen)
	})
}

func (r *tlsHookRecorder) seenRequests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.requests)
}

// compareTLSHooks runs script against std and pollnet and compares what
// their hooks and handlers saw; idle is where a connection hibernates
// (pollnet waits for n parked, std pauses as long).
func compareTLSHooks(t *testing.T, configure func(*http.Server), wantStates int,
	script func(t *testing.T, ts *tlsServer, idle func(n int64))) {
	var traces, requests [][]string
	var contexts []int
	for _, std := range []bool{true, false} {
		rec := newTLSHookRecorder()
		ts := startTLS(t, std, nil, func(srv *http.Server) {
			if configure != nil {
				configure(srv)
			}
			rec.install(srv)
		})
		idle := func(n int64) {
			if std {
				time.Sleep(hibPause)
			} else {
				waitParked(t, ts.pl, n)
			}
		}
		script(t, ts, idle)
		rec.waitStates(t, wantStates)
		time.Sleep(hibPause) // any extra hook call would show up meanwhile
		tr, n := rec.snapshot()
		traces = append(traces, sortClosings(tr))
		contexts = append(contexts, n)
		requests = append(requests, rec.seenRequests())
	}
	sameHooks(t, traces, contexts, wantStates)
	if !slices.Equal(requests[0], requests[1]) {
		t.Fatalf("handlers saw different requests:\nstd:     %q\npollnet: %q", requests[0], requests[1])
	}
}

// tlsRaw is a raw HTTP/1.1 client over a TLS connection.
func tlsRaw(t *testing.T, ts *tlsServer) *rawClient {
	c := ts.dialTLS(t, nil)
	c.SetDeadline(time.Now().Add(30 * time.Second))
	return &rawClient{t: t, conn: c, br: bufio.NewReader(c)}
}

// expectPrefix reads a 200 response whose body starts with prefix.
func expectPrefix(t *testing.T, c *rawClient, prefix string) {
	t.Helper()
	resp, body := c.response("GET")
	if resp.StatusCode != 200 || !strings.HasPrefix(body, prefix) {
		t.Fatalf("response %d %q, want 200 %q...", resp.StatusCode, body, prefix)
	}
}

func TestServeTLSHooksSeeStdAcrossParks(t *testing.T) {
	compareTLSHooks(t, nil, 8, func(t *testing.T, ts *tlsServer, idle func(int64)) {
		c := tlsRaw(t, ts)
		for range 3 {
			c.write(getRequest("/"))
			expectPrefix(t, c, "ctx1 *tls.Conn server=true laddr=true remote=127.0.0.1 tls=TLS 1.3")
			idle(1)
		}
		c.conn.Close() // the peer closes while parked
	})
}

func TestServeTLSHooksSeeStdAtIdleTimeout(t *testing.T) {
	configure := func(srv *http.Server) { srv.IdleTimeout = 300 * time.Millisecond }
	compareTLSHooks(t, configure, 4, func(t *testing.T, ts *tlsServer, idle func(int64)) {
		c := tlsRaw(t, ts)
		c.write(getRequest("/"))
		expectPrefix(t, c, "ctx1")
		c.expectClosed() // the idle timeout passes while parked
	})
}

func TestServeTLSHooksSeeStdAtShutdown(t *testing.T) {
	compareTLSHooks(t, nil, 8, func(t *testing.T, ts *tlsServer, idle func(int64)) {
		a := tlsRaw(t, ts)
		a.write(getRequest("/"))
		expectPrefix(t, a, "ctx1")
		idle(1)
		b := tlsRaw(t, ts)
		b.write(getRequest("/"))
		expectPrefix(t, b, "ctx2")
		idle(2)
		shutdownTest(t, ts.srv)
		a.expectClosed()
		b.expectClosed()
	})
}

// HTTP/2 connections reach the hooks as their *tls.Conn, as with std.
func TestServeTLSHooksSeeStdHTTP2(t *testing.T) {
	compareTLSHooks(t, nil, 8, func(t *testing.T, ts *tlsServer, idle func(int64)) {
		client := ts.client(t, true)
		for range 2 {
			resp, err := client.Get(ts.url("/"))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.ProtoMajor != 2 {
				t.Fatalf("got %s, want HTTP/2", resp.Proto)
			}
			time.Sleep(hibPause)
		}
		client.CloseIdleConnections()
	})
}

// Connections whose handshake fails reach the hooks as with std: ConnContext
// once, then StateNew before the handshake and StateClosed after it failed,
// with the *tls.Conn. Each of tls_input_test.go's bad clients runs alone, to
// its end, so that connections are numbered alike.
func TestServeTLSHooksSeeStdFailedHandshakes(t *testing.T) {
	var traces [][]string
	var contexts []int
	for _, std := range []bool{true, false} {
		rec := newTLSHookRecorder()
		ts := startTLS(t, std, nil, func(srv *http.Server) {
			srv.ReadHeaderTimeout = 300 * time.Millisecond // ends the silent ones
			rec.install(srv)
		})
		for i, bc := range badClients {
			c, err := net.Dial("tcp", ts.ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			c.SetDeadline(time.Now().Add(20 * time.Second))
			io.WriteString(c, bc.send)
			if _, err := io.ReadAll(c); err != nil && !isConnReset(err) {
				t.Fatalf("std=%v %s: %v; want the server to close", std, bc.name, err)
			}
			c.Close()
			rec.waitStates(t, 2*(i+1))
		}
		time.Sleep(hibPause) // any extra hook call would show up meanwhile
		tr, n := rec.snapshot()
		slices.Sort(tr) // a StateClosed may come after the next connection's StateNew
		traces = append(traces, tr)
		contexts = append(contexts, n)
	}
	sameHooks(t, traces, contexts, 2*len(badClients))
	if contexts[0] != len(badClients) {
		t.Fatalf("std called ConnContext %d times for %d connections", contexts[0], len(badClients))
	}
	t.Logf("both saw: %q", traces[1])
}

// The handshake runs in the context std gives it: BaseContext's and
// ConnContext's values, the server and the local address, as
// ClientHelloInfo.Context() shows them to GetConfigForClient.
func TestServeTLSHandshakeContextLikeStd(t *testing.T) {
	type baseKey struct{}
	var seen []string
	for _, std := range []bool{true, false} {
		rec := newTLSHookRecorder()
		hello := make(chan string, 1)
		ts := startTLS(t, std, nil, func(srv *http.Server) {
			rec.install(srv)
			srv.BaseContext = func(net.Listener) context.Context {
				return context.WithValue(context.Background(), baseKey{}, "base")
			}
			srv.TLSConfig.GetConfigForClient = func(h *tls.ClientHelloInfo) (*tls.Config, error) {
				ctx := h.Context()
				_, isServer := ctx.Value(http.ServerContextKey).(*http.Server)
				laddr, _ := ctx.Value(http.LocalAddrContextKey).(net.Addr)
				hello <- fmt.Sprintf("%v %v server=%v laddr=%v", ctx.Value(baseKey{}), ctx.Value(ctxKey{}), isServer, laddr != nil)
				return nil, nil
			}
		})
		c := tlsRaw(t, ts)
		c.write(getRequest("/"))
		expectPrefix(t, c, "ctx1 *tls.Conn") // the request has the context the handshake had
		seen = append(seen, <-hello)
	}
	if seen[0] != seen[1] {
		t.Fatalf("handshake context differs:\nstd:     %q\npollnet: %q", seen[0], seen[1])
	}
	t.Logf("both: %q", seen[1])
}
