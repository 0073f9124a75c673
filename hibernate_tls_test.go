//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"crypto/tls"
	"net/http"
	"testing"
)

// tlsRounds sends GET /addr and POST /sum over client with pauses longer
// than the grace period, checks the protocol version and that one TCP
// connection carried everything, and that ln never parked.
func tlsRounds(t *testing.T, ln *Listener, client *http.Client, scheme string, protoMajor int) {
	t.Helper()
	var ct connTracker
	first := ""
	for i := range 4 {
		req := newRequest(t, "GET", ln, "/addr", nil)
		req.URL.Scheme = scheme
		resp, addr := ct.do(t, client, req)
		if resp.StatusCode != 200 || resp.ProtoMajor != protoMajor {
			t.Fatalf("request %d: status %d over %s, want 200 over HTTP/%d", i, resp.StatusCode, resp.Proto, protoMajor)
		}
		if first == "" {
			first = addr
		}
		if addr != first {
			t.Fatalf("request %d from %s, first from %s: the connection changed", i, addr, first)
		}
		body := randomBytes(200000+i, uint64(i))
		req = newRequest(t, "POST", ln, "/sum", body)
		req.URL.Scheme = scheme
		if resp, got := ct.do(t, client, req); got != bodySum(body) || resp.ProtoMajor != protoMajor {
			t.Fatalf("request %d: sum %q over %s, want %q", i, got, resp.Proto, bodySum(body))
		}
		idleNoPark(t, ln, scheme+" connection idle")
	}
	ct.oneConn(t, first)
	if st := ln.Stats(); st.Parks != 0 || st.Accepted != 1 {
		t.Fatalf("stats %+v: want 0 parks, 1 accepted", st)
	}
}

// HTTP/2 over TLS (ServeTLS on a pollnet listener with Hibernate): works,
// one connection, never parks (the hook sees a *tls.Conn). Also HTTP/1.1
// over TLS, and tls.NewListener over a pollnet listener.
func TestHibernateHTTP2OverTLS(t *testing.T) {
	cert, pool := selfSignedCert(t)
	tlsClient := func(h2 bool) *http.Client {
		tr := newTestTransport(t)
		tr.TLSClientConfig = &tls.Config{RootCAs: pool}
		tr.ForceAttemptHTTP2 = h2
		if !h2 {
			tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{} // HTTP/1.1 only
		}
		return &http.Client{Transport: tr}
	}

	for _, h2 := range []bool{true, false} {
		name := map[bool]string{true: "ServeTLS HTTP/2", false: "ServeTLS HTTP/1.1"}[h2]
		t.Run(name, func(t *testing.T) {
			ln := listenTest(t, hibConfig())
			srv := &http.Server{Handler: hibMux(), TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}}
			Hibernate(srv)
			startServer(t, srv, func() error { return srv.ServeTLS(ln, "", "") })
			major := 1
			if h2 {
				major = 2
			}
			tlsRounds(t, ln, tlsClient(h2), "https", major)
		})
	}

	t.Run("tls.NewListener", func(t *testing.T) {
		ln := listenTest(t, hibConfig())
		srv := &http.Server{Handler: hibMux()}
		Hibernate(srv)
		tln := tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}})
		startServer(t, srv, func() error { return srv.Serve(tln) })
		tlsRounds(t, ln, tlsClient(false), "https", 1)
	})
}

// h2c (HTTP/2 with prior knowledge, no TLS) on a server that speaks both
// HTTP/1 and unencrypted HTTP/2: the HTTP/2 connection works and never
// parks; an HTTP/1.1 connection to the same server still parks.
func TestHibernateH2C(t *testing.T) {
	ln, _ := serveTest(t, hibConfig(), hibMux(), func(srv *http.Server) {
		srv.Protocols = new(http.Protocols)
		srv.Protocols.SetHTTP1(true)
		srv.Protocols.SetUnencryptedHTTP2(true)
	})
	tr := newTestTransport(t)
	tr.Protocols = new(http.Protocols)
	tr.Protocols.SetUnencryptedHTTP2(true)
	tlsRounds(t, ln, &http.Client{Transport: tr}, "http", 2)

	c := dialRaw(t, ln.Addr())
	c.get("/http1")
	waitParked(t, ln, 1)
	c.get("/http1-again")
	waitParked(t, ln, 1)
	if st := ln.Stats(); st.Parks != 2 || st.Wakes != 1 || st.Accepted != 2 {
		t.Fatalf("stats %+v: want 2 parks and 1 wake (all on the HTTP/1 connection), 2 accepted", st)
	}
}
