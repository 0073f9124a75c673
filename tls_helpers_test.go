//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/pollnet/pollnet/internal/testcert"
)

// Shared pieces of the ServeServerTLS tests (tls_*_test.go).

// selfSignedCert makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSignedCert(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	cert, pool, err := testcert.Loopback()
	if err != nil {
		t.Fatal(err)
	}
	return cert, pool
}

// issue is testcert.Issue that fails t on error.
func issue(t *testing.T, cn string, names []string, ca *tls.Certificate, client bool) tls.Certificate {
	t.Helper()
	cert, err := testcert.Issue(cn, names, ca, client)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// tlsServer is a server under test: a pollnet listener served by
// ServeServerTLS (pollnet), or a std listener served by srv.ServeTLS (std).
type tlsServer struct {
	srv  *http.Server
	ln   net.Listener
	pl   *Listener // nil for std
	pool *x509.CertPool
	log  *syncBuffer // the server's ErrorLog
}

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// lines returns the logged lines that contain substr.
func (b *syncBuffer) lines(substr string) []string {
	var out []string
	for _, l := range strings.Split(b.String(), "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return out
}

// startTLS serves h over TLS with the test certificate: on a pollnet
// listener with hibConfig through ServeServerTLS, or, when std, on a std
// listener through srv.ServeTLS. configure may adjust the server (its
// TLSConfig already holds the certificate).
func startTLS(t *testing.T, std bool, h http.Handler, configure func(*http.Server)) *tlsServer {
	t.Helper()
	cert, pool := selfSignedCert(t)
	ts := &tlsServer{pool: pool, log: &syncBuffer{}}
	ts.srv = &http.Server{
		Handler:   h,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}},
		ErrorLog:  log.New(ts.log, "", 0),
	}
	if configure != nil {
		configure(ts.srv)
	}
	if std {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ts.ln = ln
		startServer(t, ts.srv, func() error { return ts.srv.ServeTLS(ln, "", "") })
	} else {
		ts.pl = listenTest(t, hibConfig())
		ts.ln = ts.pl
		startServer(t, ts.srv, func() error { return ServeServerTLS(ts.srv, ts.pl, "", "") })
	}
	return ts
}

// client returns an HTTPS client trusting the test certificate, HTTP/1.1
// only unless h2.
func (ts *tlsServer) client(t *testing.T, h2 bool) *http.Client {
	tr := newTestTransport(t)
	tr.TLSClientConfig = &tls.Config{RootCAs: ts.pool}
	tr.ForceAttemptHTTP2 = h2
	if !h2 {
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	return &http.Client{Transport: tr}
}

// url returns https://addr/path.
func (ts *tlsServer) url(path string) string { return "https://" + ts.ln.Addr().String() + path }

// dialTLS opens a TLS connection to the server (HTTP/1.1 ALPN) with config
// adjustments, closed at the end of the test.
func (ts *tlsServer) dialTLS(t *testing.T, adjust func(*tls.Config)) *tls.Conn {
	t.Helper()
	cfg := &tls.Config{RootCAs: ts.pool, NextProtos: []string{"http/1.1"}}
	if adjust != nil {
		adjust(cfg)
	}
	c, err := tls.Dial("tcp", ts.ln.Addr().String(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// startTLSUpgrade starts a pollnet TLS server whose /upgrade is
// upgradeHandler, and opens a raw TLS client to it; the handler sends each
// hijacked connection on the channel.
func startTLSUpgrade(t *testing.T) (*tlsServer, *rawClient, <-chan net.Conn) {
	t.Helper()
	hijacked := make(chan net.Conn, 1)
	mux := tlsMux()
	mux.HandleFunc("/upgrade", upgradeHandler(t, hijacked))
	ts := startTLS(t, false, mux, nil)
	return ts, tlsRaw(t, ts), hijacked
}

// upgradeHandler hijacks the connection, answers 101 Switching Protocols and
// sends the hijacked net.Conn on conns.
func upgradeHandler(t *testing.T, conns chan<- net.Conn) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n")
		rw.Flush()
		conns <- c
	}
}
