package compat

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/pollnet/pollnet"
)

// HTTPServer is a net/http server under test on a listener of some Mode.
type HTTPServer struct {
	Srv  *http.Server
	Ln   net.Listener
	Mode Mode
	URL  string // http://addr or https://addr
}

// Stats returns the listener's pollnet counters (zero for Std).
func (s *HTTPServer) Stats() pollnet.Stats { return Stats(s.Ln) }

// ServeHTTP serves h on a fresh listener of mode m, the way a user would:
// Hibernating installs pollnet.Hibernate on the server and serves TLS with
// pollnet.ServeServerTLS (idle HTTPS/1.1 connections hibernate too), the
// other modes call srv.Serve (or srv.ServeTLS when tlsConf is not nil)
// unchanged. configure, if
// not nil, adjusts the server first. The server is shut down in t.Cleanup.
func ServeHTTP(t testing.TB, m Mode, h http.Handler, tlsConf *tls.Config, configure func(*http.Server)) *HTTPServer {
	t.Helper()
	ln := Listen(t, m)
	srv := &http.Server{Handler: h, TLSConfig: tlsConf, ReadHeaderTimeout: 30 * time.Second}
	if configure != nil {
		configure(srv)
	}
	if m == Hibernating {
		pollnet.Hibernate(srv)
	}
	s := &HTTPServer{Srv: srv, Ln: ln, Mode: m, URL: "http://" + ln.Addr().String()}
	done := make(chan error, 1)
	if tlsConf != nil {
		s.URL = "https://" + ln.Addr().String()
		if m == Hibernating {
			go func() { done <- pollnet.ServeServerTLS(srv, ln, "", "") }()
		} else {
			go func() { done <- srv.ServeTLS(ln, "", "") }()
		}
	} else {
		go func() { done <- srv.Serve(ln) }()
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown (%v): %v", m, err)
			srv.Close()
		}
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve (%v) returned %v, want http.ErrServerClosed", m, err)
		}
	})
	return s
}
