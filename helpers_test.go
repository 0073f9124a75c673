//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"net"
	"net/http"
	"os"
	"runtime"
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

// serveTest serves h with hibernation on a fresh listener and returns it.
func serveTest(t *testing.T, lc ListenConfig, h http.Handler, configure func(*http.Server)) (*Listener, *http.Server) {
	t.Helper()
	ln := listenTest(t, lc)
	srv := &http.Server{Handler: h}
	if configure != nil {
		configure(srv)
	}
	Hibernate(srv)
	done := make(chan struct{})
	go func() { srv.Serve(ln); close(done) }()
	t.Cleanup(func() { srv.Close(); <-done })
	return ln, srv
}

// waitFor polls cond until it holds or 10 s pass (a bound on waiting, not a
// timing assertion).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// openFDs counts this process's open file descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd on this platform")
	}
	return len(ents)
}

// settleGoroutines waits until the goroutine count drops to at most want.
func settleGoroutines(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > want {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines: %d, want <= %d\n%s", runtime.NumGoroutine(), want, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var _ = net.ErrClosed
