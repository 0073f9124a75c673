package http2compat

import (
	"crypto/tls"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/pollnet/pollnet/compat_test/internal/compat"
)

// TestServeTLS: pollnet.ServeServerTLS (hibernation on) and srv.ServeTLS
// (hibernation off) on a pollnet listener negotiate h2 or http/1.1 by ALPN,
// and each client keeps its one connection across idle pauses. HTTP/2 never
// parks; with hibernation on, an idle HTTP/1.1 connection parks and wakes
// on the same TLS session.
func TestServeTLS(t *testing.T) {
	pair := compat.NewTLSPair(t)
	for _, m := range compat.PollnetModes {
		t.Run(m.String(), func(t *testing.T) {
			compat.CheckLeaks(t)
			hs := compat.ServeHTTP(t, m, newMux(), pair.ServerConfig(), nil)

			t.Run("h2", func(t *testing.T) {
				tr := &http.Transport{TLSClientConfig: pair.ClientConfig(), ForceAttemptHTTP2: true}
				defer tr.CloseIdleConnections()
				tlsRoundTrips(t, hs, &http.Client{Transport: tr}, "HTTP/2.0", "h2")
				if s := hs.Stats(); s.Parks != 0 {
					t.Errorf("an HTTP/2 connection parked: %+v", s)
				}
			})
			t.Run("http1.1", func(t *testing.T) {
				tr := &http.Transport{
					TLSClientConfig: pair.ClientConfig("http/1.1"),
					TLSNextProto:    map[string]func(string, *tls.Conn) http.RoundTripper{}, // no h2
				}
				defer tr.CloseIdleConnections()
				tlsRoundTrips(t, hs, &http.Client{Transport: tr}, "HTTP/1.1", "http/1.1")
			})

			compat.WaitDrained(t, hs.Ln)
			s := hs.Stats()
			if m == compat.Hibernating && (s.Parks == 0 || s.Wakes == 0) {
				t.Errorf("no HTTP/1.1 connection hibernated: %+v", s)
			}
			if m != compat.Hibernating && s.Parks != 0 {
				t.Errorf("a TLS connection parked without hibernation: %+v", s)
			}
		})
	}
}

func tlsRoundTrips(t *testing.T, hs *compat.HTTPServer, c *http.Client, wantProto, wantALPN string) {
	before := hs.Stats()
	resp, err := c.Get(hs.URL + "/hello")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body) // read to the end, so the connection is reused
	resp.Body.Close()
	if got := resp.TLS.NegotiatedProtocol; got != wantALPN {
		t.Fatalf("ALPN chose %q, want %q", got, wantALPN)
	}
	if err := get(c, hs.URL+"/hello", "hello", wantProto); err != nil {
		t.Fatal(err)
	}
	time.Sleep(compat.IdlePause)
	if err := get(c, hs.URL+"/hello", "hello", wantProto); err != nil {
		t.Fatal(err)
	}
	if got := hs.Stats().Accepted - before.Accepted; got != 1 {
		t.Fatalf("%d connections for sequential requests with idle pauses, want 1", got)
	}
	n := 24
	if wantProto == "HTTP/1.1" {
		n = 6 // one connection each: keep the handshakes few
	}
	exercise(t, c, hs.URL, wantProto, n)
	time.Sleep(compat.IdlePause)
	exercise(t, c, hs.URL, wantProto, n)
}
