//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"
)

// Hibernation on IPv6 loopback and on a Unix socket: the same keep-alive
// connection parks and wakes between requests.
func TestHibernateNetworks(t *testing.T) {
	for _, network := range []string{"tcp6", "unix"} {
		t.Run(network, func(t *testing.T) {
			addr := "[::1]:0"
			if network == "unix" {
				addr = filepath.Join(t.TempDir(), "s")
			}
			lc := hibConfig()
			nl, err := lc.Listen(t.Context(), network, addr)
			if err != nil {
				if network == "tcp6" {
					t.Skipf("no IPv6 loopback: %v", err)
				}
				t.Fatal(err)
			}
			ln := nl.(*Listener)
			t.Cleanup(func() { ln.Close() })
			srv := &http.Server{Handler: hibMux()}
			Hibernate(srv)
			startServer(t, srv, func() error { return srv.Serve(ln) })

			tr := newTestTransport(t)
			tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, network, ln.Addr().String())
			}
			client := &http.Client{Transport: tr}
			var ct connTracker
			for i := range 3 {
				body := randomBytes(5000+i, uint64(i))
				req, err := http.NewRequestWithContext(t.Context(), "POST", "http://pollnet.test/sum", bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				if resp, got := ct.do(t, client, req); resp.StatusCode != 200 || got != bodySum(body) {
					t.Fatalf("request %d: %d %q, want %q", i, resp.StatusCode, got, bodySum(body))
				}
				waitParked(t, ln, 1)
			}
			ct.oneConn(t, "")
			if st := ln.Stats(); st.Accepted != 1 || st.Parks != 3 || st.Wakes != 2 {
				t.Fatalf("stats %+v: want 1 accepted, 3 parks, 2 wakes", st)
			}
		})
	}
}

// Connections net/http does not keep alive (Connection: close, HTTP/1.0
// without keep-alive) are closed after the response, never parked; an
// HTTP/1.0 keep-alive connection parks like an HTTP/1.1 one.
func TestHibernateKeepAliveVariants(t *testing.T) {
	ln, _ := serveTest(t, hibConfig(), hibMux(), nil)
	closes := []string{
		"GET /close HTTP/1.1\r\nHost: pollnet.test\r\nConnection: close\r\n\r\n",
		"GET /close HTTP/1.0\r\nHost: pollnet.test\r\n\r\n",
	}
	for _, req := range closes {
		c := dialRaw(t, ln.Addr())
		c.write(req)
		c.expect("GET", 200, "hello /close")
		c.expectClosed()
	}
	waitStats(t, ln, "closed connections released", func(s Stats) bool { return s.Open == 0 })
	if st := ln.Stats(); st.Parks != 0 {
		t.Fatalf("stats %+v: a connection net/http closes must not park", st)
	}

	c := dialRaw(t, ln.Addr())
	for range 2 {
		c.write("GET /ka HTTP/1.0\r\nHost: pollnet.test\r\nConnection: keep-alive\r\n\r\n")
		c.expect("GET", 200, "hello /ka")
		waitParked(t, ln, 1)
	}
	if st := ln.Stats(); st.Parks != 2 || st.Wakes != 1 || st.Accepted != 3 {
		t.Fatalf("stats %+v: want 2 parks and 1 wake (HTTP/1.0 keep-alive), 3 accepted", st)
	}
}

// An IdleTimeout shorter than the grace period: the connection does not park
// (guard 5) and net/http closes it at its idle timeout, as std does.
func TestHibernateIdleTimeoutShorterThanGrace(t *testing.T) {
	lc := hibConfig()
	lc.IdleGrace = 300 * time.Millisecond
	ln, _ := serveTest(t, lc, hibMux(), func(srv *http.Server) { srv.IdleTimeout = 50 * time.Millisecond })
	c := dialRaw(t, ln.Addr())
	c.get("/x")
	c.expectClosed()
	waitStats(t, ln, "the connection closed", func(s Stats) bool { return s.Open == 0 })
	if st := ln.Stats(); st.Parks != 0 || st.Expired != 0 {
		t.Fatalf("stats %+v: want no park (idle timeout before the grace ends)", st)
	}
}
