//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"
)

// Graceful Shutdown with an in-flight request, an idle connection and parked
// connections: Shutdown waits for the running handler and then returns, the
// in-flight response is delivered, the idle and parked connections are
// closed, and fds and goroutines come back to their baseline.
func TestHibernateGracefulShutdown(t *testing.T) {
	base := takeBaseline(t)

	entered, release := make(chan struct{}), make(chan struct{})
	mux := hibMux()
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		io.WriteString(w, "slow done")
	})
	ln := listenTest(t, hibConfig())
	srv := &http.Server{Handler: mux}
	Hibernate(srv)
	serveDone := make(chan error, 1)
	go func() { serveDone <- srv.Serve(ln) }()

	// Parked connections.
	const parked = 3
	clients := parkClients(t, ln, parked, "/park")

	// An idle connection that never parks: its first bytes are not an
	// upper-case HTTP/1 method (net/http accepts "get"; pollnet's sniff does
	// not), so it stays idle inside net/http.
	idle := dialRaw(t, ln.Addr())
	idle.write("get /idle HTTP/1.1\r\nHost: pollnet.test\r\n\r\n")
	idle.expect("GET", 200, "hello /idle")

	// An in-flight request.
	inflight := dialRaw(t, ln.Addr())
	inflight.write(getRequest("/slow"))
	<-entered

	shutdownDone := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		shutdownDone <- srv.Shutdown(ctx)
	}()

	// The parked and idle connections are closed while the handler runs.
	for _, c := range clients {
		c.expectClosed()
	}
	idle.expectClosed()
	waitStats(t, ln, "parked sockets closed", func(s Stats) bool { return s.Parked == 0 && s.Open == 1 })
	select {
	case err := <-shutdownDone:
		t.Fatalf("Shutdown returned (%v) while a handler was still running", err)
	default:
	}

	close(release)
	resp := inflight.expect("GET", 200, "slow done")
	if !resp.Close {
		t.Fatalf("in-flight response during shutdown should close the connection; headers %v", resp.Header)
	}
	inflight.expectClosed()
	select {
	case err := <-shutdownDone:
		if err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Shutdown did not return after the handler finished")
	}
	if err := <-serveDone; !errors.Is(err, http.ErrServerClosed) {
		t.Fatalf("Serve returned %v, want ErrServerClosed", err)
	}
	st := ln.Stats()
	if st.Open != 0 || st.Parked != 0 || st.Parks != parked || st.Accepted != parked+2 {
		t.Fatalf("stats %+v: want 0 open, 0 parked, %d parks, %d accepted", st, parked, parked+2)
	}
	if _, err := ln.Accept(); err == nil {
		t.Fatal("Accept after Shutdown succeeded")
	}

	for _, c := range append(clients, idle, inflight) {
		c.conn.Close()
	}
	base.check(t)
}
