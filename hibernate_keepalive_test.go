//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"net/http"
	"testing"
)

// Go's http.Client keeps one connection across parks: every request goes
// over the same TCP connection (same client port, as the handler sees it),
// and the server parks and wakes it between requests.
func TestHibernateKeepAliveClientReuse(t *testing.T) {
	ln, _ := serveTest(t, hibConfig(), hibMux(), nil)
	var ct connTracker
	client := &http.Client{Transport: newTestTransport(t)}
	const requests = 6
	first := ""
	for i := range requests {
		resp, body := ct.do(t, client, newRequest(t, "GET", ln, "/addr", nil))
		if resp.StatusCode != 200 {
			t.Fatalf("request %d: status %d", i, resp.StatusCode)
		}
		if first == "" {
			first = body
		}
		if body != first {
			t.Fatalf("request %d seen from %s, request 0 from %s: the connection changed", i, body, first)
		}
		waitParked(t, ln, 1)
	}
	ct.oneConn(t, first)
	st := ln.Stats()
	if st.Accepted != 1 || st.Parks != requests || st.Wakes != requests-1 {
		t.Fatalf("stats %+v: want 1 accepted, %d parks, %d wakes", st, requests, requests-1)
	}
}

// Plain http.Serve on a pollnet listener (no ConnState hook) works and never
// parks, however long the connection idles.
func TestHibernatePlainServeNeverParks(t *testing.T) {
	// An http.Server without Hibernate.
	ln := listenTest(t, hibConfig())
	srv := &http.Server{Handler: hibMux()}
	startServer(t, srv, func() error { return srv.Serve(ln) })

	c := dialRaw(t, ln.Addr())
	for range 3 {
		c.get("/plain")
		idleNoPark(t, ln, "http.Server without Hibernate")
	}
	var ct connTracker
	client := &http.Client{Transport: newTestTransport(t)}
	for i := range 3 {
		body := randomBytes(10000+i, uint64(i))
		_, got := ct.do(t, client, newRequest(t, "POST", ln, "/sum", body))
		if got != bodySum(body) {
			t.Fatalf("sum %q, want %q", got, bodySum(body))
		}
		idleNoPark(t, ln, "http.Server without Hibernate")
	}
	ct.oneConn(t, "")
	if st := ln.Stats(); st.Parks != 0 || st.Wakes != 0 || st.Accepted != 2 {
		t.Fatalf("stats %+v: want 0 parks, 0 wakes, 2 accepted", st)
	}

	// http.Serve itself; it returns when the listener closes at cleanup.
	ln2 := listenTest(t, hibConfig())
	go http.Serve(ln2, hibMux())
	c2 := dialRaw(t, ln2.Addr())
	for range 2 {
		c2.get("/http.Serve")
		idleNoPark(t, ln2, "http.Serve")
	}
	if st := ln2.Stats(); st.Parks != 0 || st.Accepted != 1 {
		t.Fatalf("http.Serve: stats %+v, want 0 parks, 1 accepted", st)
	}
}

// The rule only parks connections whose first bytes were an upper-case
// HTTP/1 request line. net/http serves a lower-case method ("get" is a valid
// token), but pollnet's sniff does not recognise it: that connection is
// served normally and never parks, even for later upper-case requests.
func TestHibernateNonUpperMethodNeverParks(t *testing.T) {
	ln, _ := serveTest(t, hibConfig(), hibMux(), nil)
	c := dialRaw(t, ln.Addr())
	c.write("get /lower HTTP/1.1\r\nHost: pollnet.test\r\n\r\n")
	c.expect("GET", 200, "hello /lower")
	idleNoPark(t, ln, "connection that began with a lower-case method")
	c.get("/upper")
	idleNoPark(t, ln, "connection that began with a lower-case method")
	if st := ln.Stats(); st.Parks != 0 || st.Accepted != 1 {
		t.Fatalf("stats %+v: want 0 parks, 1 accepted", st)
	}
}
