package pollnet

import (
	"crypto/tls"
	"errors"
	"io/fs"
	"net"
	"net/http"
	"slices"
	"time"
)

// ServeTLS accepts connections on ln and serves them with h over TLS, like
// http.ServeTLS, with idle hibernation: when ln is a *Listener, idle
// HTTPS/1.1 keep-alive connections give back net/http's goroutine and
// buffers until their next request, keeping their TLS session. certFile and
// keyFile name the certificate (with any intermediates) and its key. With
// any other listener it is exactly http.ServeTLS.
func ServeTLS(ln net.Listener, h http.Handler, certFile, keyFile string) error {
	return ServeServerTLS(&http.Server{Handler: h}, ln, certFile, keyFile)
}

// ListenAndServeTLS listens on the TCP address addr with Listen and then
// calls ServeTLS, like http.ListenAndServeTLS. An empty addr means ":https".
func ListenAndServeTLS(addr, certFile, keyFile string, h http.Handler) error {
	if addr == "" {
		addr = ":https"
	}
	ln, err := Listen("tcp", addr)
	if err != nil {
		return err
	}
	return ServeTLS(ln, h, certFile, keyFile)
}

// ServeServerTLS is srv.ServeTLS(ln, certFile, keyFile) with idle
// hibernation, for a server of the program's own (its TLSConfig, timeouts,
// hooks): replace the one call. It installs Hibernate's hooks (set srv's
// ConnState and ConnContext before calling it) and, when ln is a *Listener,
// performs TLS itself:
//
//   - The tls.Config is the one srv.ServeTLS would use: a clone of
//     srv.TLSConfig with "h2" and "http/1.1" added to NextProtos as net/http
//     configures them, and the key pair from certFile and keyFile when they
//     are given (or when the config has no certificate). Everything
//     tls.Config offers works as with std.
//   - Each new connection's handshake runs in a goroutine of its own, never
//     in Accept, once the client's first bytes arrive (a connection that
//     sends nothing holds no goroutine). It is bounded like std's by the
//     least positive ReadHeaderTimeout, ReadTimeout or WriteTimeout, or by
//     DefaultTLSHandshakeTimeout when none is set. Errors are logged
//     through srv.ErrorLog as net/http logs them, and a client speaking
//     plaintext HTTP gets net/http's 400 response.
//   - A connection that negotiated HTTP/2 (or another ALPN protocol served
//     by srv.TLSNextProto) goes to net/http as its *tls.Conn, exactly as
//     with std; it never hibernates.
//   - An HTTP/1.x connection goes to net/http as pollnet's plaintext view of
//     its *tls.Conn. Handlers see what std gives them (Request.TLS,
//     RemoteAddr, the context's values); the hooks see the *tls.Conn, the
//     same one across hibernations. Idle, it hibernates as a plaintext
//     connection does, keeping its *tls.Conn (keys, sequence numbers, any
//     partial record): the next request on the same TCP connection is
//     decrypted as if nothing happened. Hijack returns the view, which
//     OnReadable accepts; Unhijack does not support it yet.
//
// With any other listener, and on platforms without pollnet's pollers, it is
// exactly srv.ServeTLS. Like it, it returns http.ErrServerClosed after
// Shutdown or Close.
func ServeServerTLS(srv *http.Server, ln net.Listener, certFile, keyFile string) error {
	Hibernate(srv)
	if handled, err := serveTLSPolled(srv, ln, certFile, keyFile); handled {
		return err
	}
	return srv.ServeTLS(ln, certFile, keyFile)
}

// DefaultTLSHandshakeTimeout bounds the TLS handshake of ServeTLS and
// ServeServerTLS when the server sets none of ReadHeaderTimeout,
// ReadTimeout and WriteTimeout. std waits forever then; pollnet does not let
// a client that never finishes its handshake hold a connection forever.
const DefaultTLSHandshakeTimeout = 10 * time.Second

// tlsHandshakeTimeout is net/http's: the least positive ReadHeaderTimeout,
// ReadTimeout or WriteTimeout; DefaultTLSHandshakeTimeout if none is set.
func tlsHandshakeTimeout(srv *http.Server) time.Duration {
	var d time.Duration
	for _, v := range []time.Duration{srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout} {
		if v > 0 && (d == 0 || v < d) {
			d = v
		}
	}
	if d == 0 {
		d = DefaultTLSHandshakeTimeout
	}
	return d
}

// serverTLSConfig builds the tls.Config srv.ServeTLS(ln, certFile, keyFile)
// would use.
func serverTLSConfig(srv *http.Server, certFile, keyFile string) (*tls.Config, error) {
	if err := setupHTTP2(srv); err != nil {
		return nil, err
	}
	var config *tls.Config
	if srv.TLSConfig != nil {
		config = srv.TLSConfig.Clone()
	} else {
		config = new(tls.Config)
	}
	config.NextProtos = serverNextProtos(srv, config.NextProtos)
	hasCert := len(config.Certificates) > 0 || config.GetCertificate != nil || config.GetConfigForClient != nil
	if !hasCert || certFile != "" || keyFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, err
		}
		config.Certificates = []tls.Certificate{cert}
	}
	return config, nil
}

// probeCertFile is a file name that cannot be opened (it holds a NUL byte).
const probeCertFile = "\x00pollnet: HTTP/2 setup probe"

// setupHTTP2 configures HTTP/2 on srv as srv.ServeTLS does (net/http adds
// "h2" and "http/1.1" to srv.TLSConfig.NextProtos and registers its HTTP/2
// server), and returns the error ServeTLS would return for it. net/http
// exports no other way to run that setup: ServeTLS runs it first, then
// loads the key pair, so a key pair that cannot load stops it right there,
// before it serves anything or calls a hook. TestServeTLSALPNLikeStd
// notices if a Go release changes that order.
func setupHTTP2(srv *http.Server) error {
	err := srv.ServeTLS(nil, probeCertFile, "")
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path == probeCertFile {
		return nil
	}
	return err
}

// serverNextProtos is net/http's adjustment of a TLS config's NextProtos to
// the protocols srv serves: "h2" when net/http has an HTTP/2 server for it,
// "http/1.1" when it serves HTTP/1, each added at the end if missing and
// removed if not served.
func serverNextProtos(srv *http.Server, protos []string) []string {
	h2 := srv.TLSNextProto["h2"] != nil && (srv.Protocols == nil || srv.Protocols.HTTP2())
	// An empty Protocols set means HTTP/1 only (Go 1.27; Go 1.26 serves
	// nothing then, and offering http/1.1 changes nothing).
	h1 := srv.Protocols == nil || srv.Protocols.HTTP1() || !srv.Protocols.HTTP2() && !srv.Protocols.UnencryptedHTTP2()
	protos = slices.DeleteFunc(slices.Clone(protos), func(p string) bool {
		return p == "h2" && !h2 || p == "http/1.1" && !h1
	})
	if h2 && !slices.Contains(protos, "h2") {
		protos = append(protos, "h2")
	}
	if h1 && !slices.Contains(protos, "http/1.1") {
		protos = append(protos, "http/1.1")
	}
	return protos
}

// looksLikeHTTP reports whether a TLS record header is the start of a
// plaintext HTTP request, as net/http decides it.
func looksLikeHTTP(hdr [5]byte) bool {
	switch string(hdr[:]) {
	case "GET /", "HEAD ", "POST ", "PUT /", "OPTIO":
		return true
	}
	return false
}
