// Package http2compat runs net/http's HTTP/2 server, unchanged, on pollnet
// listeners: srv.ServeTLS with ALPN ("h2", "http/1.1"), and h2c through
// golang.org/x/net/http2/h2c, with hibernation on (pollnet.Hibernate) and
// off. It runs the h2spec conformance suite (github.com/summerwind/h2spec,
// as a library) against each, and against the same server on a std
// listener, and requires pollnet's score to equal std's.
//
// HTTP/2 and TLS connections never hibernate (the ConnState hook sees a
// *tls.Conn, and an h2c connection starts with "PRI" or is hijacked), while
// plain HTTP/1 requests to the same h2c-wrapped server do.
package http2compat
