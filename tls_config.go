//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"crypto/tls"
	"errors"
	"io/fs"
	"net/http"
	"slices"
	"time"
)

// The TLS configuration of ServeServerTLS, built as net/http's ServeTLS
// builds it.

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
