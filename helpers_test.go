//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// listenTest starts a pollnet listener on loopback with the given config.
func listenTest(t *testing.T, lc ListenConfig) *Listener {
	t.Helper()
	ln, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.(*Listener)
}

// acceptPair dials ln from a std client and accepts the connection: the
// server's *Conn and the client. The caller closes both.
func acceptPair(t *testing.T, ln *Listener) (*Conn, net.Conn) {
	t.Helper()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	nc, err := ln.Accept()
	if err != nil {
		client.Close()
		t.Fatal(err)
	}
	return nc.(*Conn), client
}

// serveEcho echoes every connection ln accepts back to its sender, until
// ln closes.
func serveEcho(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() { io.Copy(c, c); c.Close() }()
	}
}

// shutdownTest shuts srv down gracefully, failing t if that takes more
// than 10 seconds or fails.
func shutdownTest(t *testing.T, srv *http.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

// serveTest serves h with hibernation on a fresh listener and returns it.
func serveTest(t *testing.T, lc ListenConfig, h http.Handler, configure func(*http.Server)) (*Listener, *http.Server) {
	t.Helper()
	ln := listenTest(t, lc)
	return ln, serveOn(t, ln, h, configure)
}

// serveOn serves h with hibernation on ln (for handlers that need ln: make
// it first, so that the handler's reads of it happen after).
func serveOn(t *testing.T, ln *Listener, h http.Handler, configure func(*http.Server)) *http.Server {
	t.Helper()
	srv := &http.Server{Handler: h}
	if configure != nil {
		configure(srv)
	}
	Hibernate(srv)
	done := make(chan struct{})
	go func() { srv.Serve(ln); close(done) }()
	t.Cleanup(func() { srv.Close(); <-done })
	return srv
}

// waitBound bounds every wait of the tests: a bound on waiting for
// something to happen, never a timing assertion.
const waitBound = 20 * time.Second

// waitFor polls cond until it holds; it fails the test after waitBound.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitBound)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// waitStats waits until cond holds for ln's counters.
func waitStats(t testing.TB, ln *Listener, what string, cond func(Stats) bool) {
	t.Helper()
	deadline := time.Now().Add(waitBound)
	for !cond(ln.Stats()) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; stats %+v", what, ln.Stats())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// waitParked waits until exactly n sockets are parked.
func waitParked(t testing.TB, ln *Listener, n int64) {
	t.Helper()
	waitStats(t, ln, fmt.Sprintf("%d parked", n), func(s Stats) bool { return s.Parked == n })
}

// parkClients opens n raw clients that each GET path and then idle, and
// waits until ln holds exactly n parked.
func parkClients(t *testing.T, ln *Listener, n int, path string) []*rawClient {
	t.Helper()
	clients := make([]*rawClient, 0, n)
	for range n {
		c := dialRaw(t, ln.Addr())
		c.get(path)
		clients = append(clients, c)
	}
	waitParked(t, ln, int64(n))
	return clients
}

// countFDs counts this process's open fds, or returns -1 where there is no
// /proc/self/fd (the BSDs, macOS): fd checks are then left out, not the
// whole test.
func countFDs() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}

// fdList describes this process's open fds, for leak reports.
func fdList() string {
	var sb strings.Builder
	ents, _ := os.ReadDir("/proc/self/fd")
	for _, e := range ents {
		target, _ := os.Readlink("/proc/self/fd/" + e.Name())
		fmt.Fprintf(&sb, "%s->%s ", e.Name(), target)
	}
	return sb.String()
}

// leakBaseline is the fd and goroutine count a test must return to.
type leakBaseline struct {
	fds, goroutines int
}

// takeBaseline warms up what the runtime opens once per process (the
// netpoller) and then counts fds and goroutines.
func takeBaseline(t testing.TB) leakBaseline {
	t.Helper()
	warm, err := Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if c, err := net.Dial("tcp", warm.Addr().String()); err == nil {
		c.Close()
	}
	warm.Close()
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	settleGoroutines(t, runtime.NumGoroutine()) // let exiting goroutines go
	runtime.GC()
	return leakBaseline{fds: countFDs(), goroutines: runtime.NumGoroutine()}
}

// checkLeaks takes a baseline now and checks, when the test ends (after
// every cleanup registered later, which run first), that fds and goroutines
// came back to it. Call it first in a test.
func checkLeaks(t *testing.T) {
	t.Helper()
	b := takeBaseline(t)
	t.Cleanup(func() {
		if !t.Failed() {
			b.check(t)
		}
	})
}

// check waits (bounded) until fds and goroutines are back to the baseline.
func (b leakBaseline) check(t testing.TB) {
	t.Helper()
	settleGoroutines(t, b.goroutines)
	deadline := time.Now().Add(waitBound)
	for b.fds >= 0 && countFDs() > b.fds {
		if time.Now().After(deadline) {
			t.Fatalf("fd leak: %d open, baseline %d: %s", countFDs(), b.fds, fdList())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// settleGoroutines waits until the goroutine count drops to at most want.
func settleGoroutines(t testing.TB, want int) {
	t.Helper()
	deadline := time.Now().Add(waitBound)
	for runtime.NumGoroutine() > want {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines: %d, want <= %d\n%s", runtime.NumGoroutine(), want, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
