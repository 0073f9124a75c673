package pollnet

import (
	"net"
	"net/http"
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
// ConnState, ConnContext and BaseContext before calling it) and, when ln is
// a *Listener, performs TLS itself:
//
//   - The tls.Config is the one srv.ServeTLS would use: a clone of
//     srv.TLSConfig with "h2" and "http/1.1" added to NextProtos as net/http
//     configures them, and the key pair from certFile and keyFile when they
//     are given (or when the config has no certificate). Everything
//     tls.Config offers works as with std.
//   - Each new connection's handshake runs in a goroutine of its own, never
//     in Accept, once the client's first bytes arrive (until then the
//     connection waits as in OnReadable: a client that sends nothing holds
//     no goroutine), in the context std gives it (BaseContext's and
//     ConnContext's values, ServerContextKey, LocalAddrContextKey). It is
//     bounded like std's by the least positive ReadHeaderTimeout,
//     ReadTimeout or WriteTimeout, or by DefaultTLSHandshakeTimeout when
//     none is set. ConnState sees StateNew before the handshake and, if it
//     fails, StateClosed, as with std. Errors are logged through
//     srv.ErrorLog as net/http logs them, and a client speaking plaintext
//     HTTP gets net/http's 400 response.
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
