//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pollnet/pollnet/internal/testcert"
)

// Everything tls.Config offers works under ServeServerTLS as with
// srv.ServeTLS, also across hibernation.

// getOn sends GET path on a raw client and returns the body.
func getOn(t *testing.T, c *rawClient, path string) string {
	t.Helper()
	c.write(getRequest(path))
	resp, body := c.response("GET")
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s %q", path, resp.Status, body)
	}
	return body
}

// onSession dials with adjust, then GETs /tls three times with a park
// between, and checks every answer is the same; it returns it.
func onSession(t *testing.T, ts *tlsServer, adjust func(*tls.Config)) (string, *tls.Conn) {
	t.Helper()
	tc := ts.dialTLS(t, adjust)
	tc.SetDeadline(time.Now().Add(30 * time.Second))
	c := &rawClient{t: t, conn: tc, br: newBufReader(tc)}
	parks := ts.pl.Stats().Parks
	first := getOn(t, c, "/tls")
	for i := range 2 {
		waitStats(t, ts.pl, "a park", func(s Stats) bool { return s.Parks > parks })
		parks = ts.pl.Stats().Parks
		if got := getOn(t, c, "/tls"); got != first {
			t.Fatalf("request %d after a park: %q, first %q", i+2, got, first)
		}
	}
	return first, tc
}

// SNI picks between two certificates (Certificates and GetCertificate),
// and the session survives parks.
func TestServeTLSSNITwoCertificates(t *testing.T) {
	a := issue(t, "a.test", []string{"a.test"}, nil, false)
	b := issue(t, "b.test", []string{"b.test"}, nil, false)
	pool := x509.NewCertPool()
	pool.AddCert(a.Leaf)
	pool.AddCert(b.Leaf)
	var called atomic.Int32
	for _, viaCallback := range []bool{false, true} {
		ts := startTLS(t, false, tlsMux(), func(srv *http.Server) {
			if viaCallback {
				srv.TLSConfig = &tls.Config{GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
					called.Add(1)
					if h.Context().Value(http.ServerContextKey) != srv {
						return nil, errors.New("no ServerContextKey in the handshake's context")
					}
					if h.ServerName == "b.test" {
						return &b, nil
					}
					return &a, nil
				}}
			} else {
				srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{a, b}}
			}
		})
		for _, name := range []string{"a.test", "b.test"} {
			desc, tc := onSession(t, ts, func(c *tls.Config) { c.ServerName, c.RootCAs = name, pool })
			if cn := tc.ConnectionState().PeerCertificates[0].Subject.CommonName; cn != name || !strings.Contains(desc, `sni="`+name+`"`) {
				t.Fatalf("asked for %s: certificate %s, server saw %q", name, cn, desc)
			}
		}
	}
	if called.Load() != 2 {
		t.Fatalf("GetCertificate called %d times, want 2", called.Load())
	}
}

// Client certificates: required and verified, seen by handlers across
// parks; a client without one fails its handshake, logged as std logs it.
func TestServeTLSClientCertificates(t *testing.T) {
	ca := issue(t, "client CA", nil, nil, false)
	clientCert := issue(t, "client 1", nil, &ca, true)
	cas := x509.NewCertPool()
	cas.AddCert(ca.Leaf)
	var logs []string
	for _, std := range []bool{true, false} {
		ts := startTLS(t, std, tlsMux(), func(srv *http.Server) {
			srv.TLSConfig.ClientAuth = tls.RequireAndVerifyClientCert
			srv.TLSConfig.ClientCAs = cas
		})
		if !std {
			desc, _ := onSession(t, ts, func(c *tls.Config) { c.Certificates = []tls.Certificate{clientCert} })
			if !strings.Contains(desc, "peers=1") {
				t.Fatalf("handler saw %q, want the client's certificate", desc)
			}
		}
		// No certificate: in TLS 1.3 the client learns it at its first read.
		tc := ts.dialTLS(t, nil)
		io.WriteString(tc, getRequest("/"))
		if _, err := tc.Read(make([]byte, 1)); err == nil {
			t.Fatal("a client without a certificate was served")
		}
		waitFor(t, "the handshake error logged", func() bool { return len(handshakeLog(ts)) == 1 })
		logs = append(logs, handshakeLog(ts)...)
	}
	if logs[0] != logs[1] {
		t.Fatalf("std logged %q, pollnet %q", logs[0], logs[1])
	}
}

// Session tickets: a second connection resumes the first's session, TLS
// 1.3 and 1.2, and a resumed session survives parks too.
func TestServeTLSResumption(t *testing.T) {
	ts := startTLS(t, false, tlsMux(), nil)
	for _, version := range []uint16{tls.VersionTLS13, tls.VersionTLS12} {
		cache := tls.NewLRUClientSessionCache(4)
		adjust := func(c *tls.Config) { c.ClientSessionCache, c.MaxVersion = cache, version }
		first, tc := onSession(t, ts, adjust)
		tc.Close()
		second, _ := onSession(t, ts, adjust)
		if !strings.Contains(first, "resumed=false") || !strings.Contains(second, "resumed=true") {
			t.Fatalf("%s: first %q, second %q: want the second resumed", tls.VersionName(version), first, second)
		}
	}
}

// MinVersion refuses an old client as std does (same log line), and
// GetConfigForClient's config is the one used.
func TestServeTLSVersionsAndConfigForClient(t *testing.T) {
	var logs []string
	for _, std := range []bool{true, false} {
		ts := startTLS(t, std, tlsMux(), func(srv *http.Server) { srv.TLSConfig.MinVersion = tls.VersionTLS13 })
		tc := tls.Client(dialTCP(t, ts), &tls.Config{RootCAs: ts.pool, ServerName: "127.0.0.1", MaxVersion: tls.VersionTLS12})
		if err := tc.Handshake(); err == nil {
			t.Fatal("a TLS 1.2 client was accepted with MinVersion TLS 1.3")
		}
		waitFor(t, "the handshake error logged", func() bool { return len(handshakeLog(ts)) == 1 })
		logs = append(logs, handshakeLog(ts)...)
	}
	if logs[0] != logs[1] {
		t.Fatalf("std logged %q, pollnet %q", logs[0], logs[1])
	}

	var saw atomic.Value
	ts := startTLS(t, false, tlsMux(), func(srv *http.Server) {
		base := srv.TLSConfig
		srv.TLSConfig = &tls.Config{GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
			saw.Store(fmt.Sprint(h.SupportedProtos))
			c := base.Clone()
			c.MaxVersion = tls.VersionTLS12
			return c, nil
		}}
	})
	desc, _ := onSession(t, ts, nil)
	if !strings.HasPrefix(desc, "TLS 1.2 ") || saw.Load() != "[http/1.1]" {
		t.Fatalf("handler saw %q, GetConfigForClient saw protos %v", desc, saw.Load())
	}
}

func dialTCP(t *testing.T, ts *tlsServer) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", ts.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(30 * time.Second))
	return c
}

// ALPN: the protocol each client offer ends up with is std's, for servers
// with HTTP/2 on (TLSConfig without "h2": ServeTLS's own setup adds it),
// HTTP/2 off (empty TLSNextProto), Protocols set, and a custom protocol
// served by TLSNextProto.
func TestServeTLSALPNLikeStd(t *testing.T) {
	custom := func(srv *http.Server, tc *tls.Conn, h http.Handler) {
		io.WriteString(tc, "custom protocol")
		tc.Close()
	}
	servers := map[string]func(*http.Server){
		"default":    nil,
		"own protos": func(srv *http.Server) { srv.TLSConfig.NextProtos = []string{"x-own", "http/1.1"} },
		"h2 off":     func(srv *http.Server) { srv.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){} },
		"http1 only": func(srv *http.Server) { srv.Protocols = new(http.Protocols); srv.Protocols.SetHTTP1(true) },
		"h2 only":    func(srv *http.Server) { srv.Protocols = new(http.Protocols); srv.Protocols.SetHTTP2(true) },
		"custom": func(srv *http.Server) {
			srv.TLSConfig.NextProtos = []string{"x-custom"}
			srv.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){"x-custom": custom}
		},
	}
	offers := [][]string{nil, {"h2", "http/1.1"}, {"http/1.1"}, {"h2"}, {"x-custom", "http/1.1"}, {"x-own"}}
	for name, configure := range servers {
		results := map[bool][]string{}
		for _, std := range []bool{true, false} {
			ts := startTLS(t, std, tlsMux(), configure)
			for _, offer := range offers {
				tc := tls.Client(dialTCP(t, ts), &tls.Config{RootCAs: ts.pool, ServerName: "127.0.0.1", NextProtos: offer})
				r := fmt.Sprintf("%q: ", offer)
				if err := tc.Handshake(); err != nil {
					r += "handshake failed"
				} else {
					r += tc.ConnectionState().NegotiatedProtocol
					if tc.ConnectionState().NegotiatedProtocol == "x-custom" {
						b, _ := io.ReadAll(tc)
						r += " " + string(b)
					}
				}
				tc.Close()
				results[std] = append(results[std], r)
			}
		}
		if !slices.Equal(results[true], results[false]) {
			t.Errorf("%s: std %q, pollnet %q", name, results[true], results[false])
		}
	}
}

// A config HTTP/2 cannot use fails as srv.ServeTLS fails.
func TestServeServerTLSErrorsLikeStd(t *testing.T) {
	cases := map[string]func(*http.Server){
		"HTTP/2 cipher suites": func(srv *http.Server) {
			srv.TLSConfig.MaxVersion = tls.VersionTLS12
			srv.TLSConfig.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384}
		},
		"no certificate": func(srv *http.Server) { srv.TLSConfig = nil },
	}
	for name, configure := range cases {
		var errs []string
		for _, std := range []bool{true, false} {
			srv := &http.Server{TLSConfig: &tls.Config{}}
			configure(srv)
			var ln net.Listener
			var err error
			if std {
				ln, err = net.Listen("tcp", "127.0.0.1:0")
			} else {
				ln, err = Listen("tcp", "127.0.0.1:0")
			}
			if err != nil {
				t.Fatal(err)
			}
			if std {
				err = srv.ServeTLS(ln, "", "")
			} else {
				err = ServeServerTLS(srv, ln, "", "")
			}
			ln.Close()
			errs = append(errs, fmt.Sprint(err))
		}
		if errs[0] != errs[1] || errs[0] == "<nil>" {
			t.Errorf("%s: std %q, pollnet %q", name, errs[0], errs[1])
		}
	}
}

// ServeTLS and ListenAndServeTLS load the key pair from files; ServeTLS on
// a std listener is http.ServeTLS.
func TestServeTLSFiles(t *testing.T) {
	cert, pool := selfSignedCert(t)
	certFile, keyFile, err := testcert.WritePEM(t.TempDir(), cert)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, DisableKeepAlives: true}}
	for _, std := range []bool{false, true} {
		var ln net.Listener
		if std {
			ln, _ = net.Listen("tcp", "127.0.0.1:0")
		} else {
			ln = listenTest(t, hibConfig())
		}
		go ServeTLS(ln, tlsMux(), certFile, keyFile)
		resp, err := client.Get("https://" + ln.Addr().String() + "/x")
		if err != nil {
			t.Fatalf("std=%v: %v", std, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "hello /x" {
			t.Fatalf("std=%v: %q", std, b)
		}
		ln.Close()
	}
	// ListenAndServeTLS on a port it finds free.
	probe, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := probe.Addr().String()
	probe.Close()
	go ListenAndServeTLS(addr, certFile, keyFile, tlsMux())
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, "GET", "https://"+addr+"/y", nil)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("ListenAndServeTLS never served: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := ListenAndServeTLS(addr, certFile, keyFile, tlsMux()); err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("a second ListenAndServeTLS on %s: %v", addr, err)
	}
}

// With hibernation off (IdleGrace < 0) ServeServerTLS is srv.ServeTLS: the
// handlers get net/http's own *tls.Conn handling, nothing parks.
func TestServeServerTLSHibernationOff(t *testing.T) {
	cert, pool := selfSignedCert(t)
	ln := listenTest(t, ListenConfig{IdleGrace: -1})
	srv := &http.Server{Handler: tlsMux(), TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}}
	startServer(t, srv, func() error { return ServeServerTLS(srv, ln, "", "") })
	ts := &tlsServer{srv: srv, ln: ln, pl: ln, pool: pool}
	tc := ts.dialTLS(t, nil)
	tc.SetDeadline(time.Now().Add(30 * time.Second))
	c := &rawClient{t: t, conn: tc, br: newBufReader(tc)}
	getOn(t, c, "/")
	time.Sleep(hibPause)
	getOn(t, c, "/")
	if st := ln.Stats(); st.Parks != 0 || st.Accepted != 1 {
		t.Fatalf("stats %+v", st)
	}
}
