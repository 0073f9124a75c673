//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// A parked socket is closed when the idle deadline net/http set passes
// (IdleTimeout, else ReadTimeout): Stats.Expired counts it and the client
// reads EOF, not earlier than the timeout after its request.
func TestHibernateIdleTimeoutClosesParked(t *testing.T) {
	const timeout = 400 * time.Millisecond
	for _, field := range []string{"IdleTimeout", "ReadTimeout"} {
		t.Run(field, func(t *testing.T) {
			ln, _ := serveTest(t, hibConfig(), hibMux(), func(srv *http.Server) {
				if field == "IdleTimeout" {
					srv.IdleTimeout = timeout
					srv.ReadTimeout = time.Hour // IdleTimeout wins
				} else {
					srv.ReadTimeout = timeout
				}
			})
			c := dialRaw(t, ln.Addr())
			c.get("/first")
			waitParked(t, ln, 1)
			c.get("/second") // a parked socket wakes before its deadline
			start := time.Now()
			c.write(getRequest("/last"))
			c.expect("GET", 200, "hello /last")
			waitParked(t, ln, 1)
			c.expectClosed()
			// net/http set the deadline after the request was sent, so the
			// close cannot come before start+timeout (a lower bound: safe on
			// a slow machine).
			if elapsed := time.Since(start); elapsed < timeout {
				t.Fatalf("closed %v after the request, before the %v idle timeout", elapsed, timeout)
			}
			waitStats(t, ln, "the expired socket released", func(s Stats) bool { return s.Open == 0 && s.Parked == 0 })
			// Whether the connection parked between /second and /last
			// depends on scheduling; each park ended in a wake or the expiry.
			if st := ln.Stats(); st.Expired != 1 || st.PeerGone != 0 || st.Parks < 2 || st.Parks != st.Wakes+1 {
				t.Fatalf("stats %+v: want 1 expired, 0 peer gone, parks = wakes + 1 >= 2", st)
			}
		})
	}
}

// A slowloris client sends header bytes one at a time, each after a pause
// longer than the grace period: ReadHeaderTimeout cuts it off, on a fresh
// connection and on one woken from a park, and it never parks meanwhile.
func TestHibernateReadHeaderTimeoutSlowloris(t *testing.T) {
	const timeout = 400 * time.Millisecond
	for _, woken := range []bool{false, true} {
		t.Run(fmt.Sprintf("woken %v", woken), func(t *testing.T) {
			ln, _ := serveTest(t, hibConfig(), hibMux(), func(srv *http.Server) {
				srv.ReadHeaderTimeout = timeout
				srv.IdleTimeout = time.Minute
			})
			// net/http starts the header timeout when it starts reading a
			// request: after the dial, or after the wake-up.
			start := time.Now()
			c := dialRaw(t, ln.Addr())
			var parks uint64
			if woken {
				c.get("/first")
				waitParked(t, ln, 1)
				parks = 1
				start = time.Now()
			}
			closed := make(chan error, 1)
			go func() {
				_, err := io.ReadAll(c.br) // the server sends nothing: it closes
				closed <- err
			}()
			c.write("GET /slow HTTP/1.1\r\nHost: pollnet.test\r\nX-Slow: ")
			sent := 0
		drip:
			for ; sent < 200; sent++ { // at most 200 * 3 graces
				select {
				case err := <-closed:
					if err != nil && !isConnReset(err) {
						t.Fatalf("want the server to close, got %v", err)
					}
					break drip
				case <-time.After(3 * hibGrace):
				}
				if _, err := c.conn.Write([]byte("x")); err != nil {
					if !isConnReset(err) {
						t.Fatalf("write: %v", err)
					}
					if err := <-closed; err != nil && !isConnReset(err) {
						t.Fatalf("want the server to close, got %v", err)
					}
					break
				}
			}
			if sent == 200 {
				t.Fatalf("slowloris not cut off after %d header bytes over %v", sent, time.Since(start))
			}
			if elapsed := time.Since(start); elapsed < timeout {
				t.Fatalf("cut off after %v, before ReadHeaderTimeout %v", elapsed, timeout)
			}
			waitStats(t, ln, "the slowloris connection closed", func(s Stats) bool { return s.Open == 0 })
			if st := ln.Stats(); st.Parks != parks || st.Accepted != 1 {
				t.Fatalf("stats %+v: want %d parks (none during the slow header), 1 accepted", st, parks)
			}
		})
	}
}

// A peer that closes (FIN or RST) while its connection is parked releases
// the socket: Stats.PeerGone counts it, Open and Parked drop, and the fd is
// closed. Also many at once.
func TestHibernatePeerClosesWhileParked(t *testing.T) {
	for _, rst := range []bool{false, true} {
		t.Run(map[bool]string{false: "FIN", true: "RST"}[rst], func(t *testing.T) {
			ln, _ := serveTest(t, hibConfig(), hibMux(), nil)
			const conns = 20
			fdsBefore := countFDs()
			clients := parkClients(t, ln, conns, "/x")
			if st := ln.Stats(); st.Open != conns {
				t.Fatalf("stats %+v: want %d open", st, conns)
			}
			for _, c := range clients {
				if rst {
					c.conn.(*net.TCPConn).SetLinger(0)
				}
				c.conn.Close()
			}
			waitStats(t, ln, "every parked socket released", func(s Stats) bool {
				return s.PeerGone == conns && s.Parked == 0 && s.Open == 0
			})
			if fdsBefore >= 0 {
				waitFor(t, "fds back to their count before the connections", func() bool { return countFDs() <= fdsBefore })
			}
			if st := ln.Stats(); st.Parks != conns || st.Wakes != 0 || st.Expired != 0 {
				t.Fatalf("stats %+v: want %d parks, 0 wakes, 0 expired", st, conns)
			}
		})
	}
}

// A parked connection whose peer sends one last request and half-closes at
// once (data and FIN arrive together): the request is served, then the
// connection closes; nothing is counted as peer gone while it parked.
func TestHibernateLastRequestThenFIN(t *testing.T) {
	ln, _ := serveTest(t, hibConfig(), hibMux(), nil)
	c := dialRaw(t, ln.Addr())
	c.get("/first")
	waitParked(t, ln, 1)
	c.write(getRequest("/last"))
	if err := c.conn.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	c.expect("GET", 200, "hello /last")
	c.expectClosed()
	waitStats(t, ln, "the connection closed", func(s Stats) bool { return s.Open == 0 && s.Parked == 0 })
	if st := ln.Stats(); st.Parks != 1 || st.Wakes != 1 || st.PeerGone != 0 {
		t.Fatalf("stats %+v: want 1 park, 1 wake, 0 peer gone", st)
	}
}
