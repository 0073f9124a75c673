package http2compat

import (
	"io"
	"log"
	"net/http"
	"slices"
	"testing"

	"github.com/pollnet/pollnet/compat_test/internal/compat"
	"golang.org/x/net/http2"
	//lint:ignore SA1019 the compat suite tests this widely used package on purpose
	"golang.org/x/net/http2/h2c"
)

// h2cHandler wraps h in x/net's h2c handler (prior knowledge and Upgrade).
func h2cHandler(h http.Handler) http.Handler {
	//lint:ignore SA1019 the compat suite tests this widely used package on purpose
	return h2c.NewHandler(h, &http2.Server{})
}

// TestH2Spec runs h2spec against the same server on a std listener and on a
// pollnet listener with hibernation on (pollnet.Hibernate installed: the
// configuration with the most pollnet code in the path), over TLS and over
// h2c, and requires pollnet's score to equal std's, case by case. (A run
// takes about 12 s, mostly h2spec's 2 s timeouts on the cases Go's server
// fails, so hibernation off is covered by the other tests, not by h2spec.)
func TestH2Spec(t *testing.T) {
	pair := compat.NewTLSPair(t)
	for _, variant := range []struct {
		name    string
		handler http.Handler
		useTLS  bool
	}{
		{"tls", newMux(), true},
		{"h2c", h2cHandler(newMux()), false},
	} {
		t.Run(variant.name, func(t *testing.T) {
			compat.CheckLeaks(t)
			scores := map[compat.Mode]h2specScore{}
			for _, m := range []compat.Mode{compat.Std, compat.Hibernating} {
				t.Run(m.String(), func(t *testing.T) {
					hs := serve(t, m, variant.handler, variant.useTLS, pair)
					scores[m] = runH2Spec(t, hs.Ln.Addr().String(), variant.useTLS)
					t.Logf("h2spec %s %v: %v; failed: %q", variant.name, m, scores[m], scores[m].FailedCases)
					compat.WaitDrained(t, hs.Ln)
					if s := hs.Stats(); s.Parks != 0 {
						t.Errorf("an HTTP/2 connection parked: %+v", s)
					}
				})
			}
			std := scores[compat.Std]
			if std.Passed == 0 {
				t.Fatalf("h2spec passed nothing against std: %v", std)
			}
			got := scores[compat.Hibernating]
			if got.Passed != std.Passed || got.Failed != std.Failed || got.Skipped != std.Skipped ||
				!slices.Equal(got.FailedCases, std.FailedCases) {
				t.Errorf("%s pollnet: %v, failed %q; std: %v, failed %q", variant.name, got, got.FailedCases, std, std.FailedCases)
			}
		})
	}
}

// serve starts h on mode m, over TLS (ServeTLS) when useTLS. The server's
// log is dropped: h2spec makes it log a connection error per bad frame.
func serve(t *testing.T, m compat.Mode, h http.Handler, useTLS bool, pair *compat.TLSPair) *compat.HTTPServer {
	quiet := func(srv *http.Server) { srv.ErrorLog = log.New(io.Discard, "", 0) }
	if useTLS {
		return compat.ServeHTTP(t, m, h, pair.ServerConfig(), quiet)
	}
	return compat.ServeHTTP(t, m, h, nil, quiet)
}
