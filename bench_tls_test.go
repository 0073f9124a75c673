//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http"
	"testing"
)

// BenchmarkHTTPS: keep-alive GET requests over TLS 1.3 (HTTP/1.1), from
// parallel clients each on its own connection, against srv.ServeTLS on a
// std listener and pollnet.ServeServerTLS (hibernation armed; busy
// connections never reach the grace period, so this measures the view's
// and the rule's overhead). The handshakes happen once per client.
func BenchmarkHTTPS(b *testing.B) {
	cert, pool := selfSignedCert(b)
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "Hello, World!") })
	for i, name := range []string{"std", "pollnet"} {
		b.Run(name, func(b *testing.B) {
			ln := listeners[i].listen(b)
			srv := &http.Server{Handler: hello, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}},
				ErrorLog: log.New(io.Discard, "", 0)} // b.N = 1 rounds close clients before their handshake
			if name == "std" {
				go srv.ServeTLS(ln, "", "")
			} else {
				go ServeServerTLS(srv, ln, "", "")
			}
			defer srv.Close()
			config := &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", NextProtos: []string{"http/1.1"}}
			b.RunParallel(func(pb *testing.PB) {
				nc, err := net.Dial("tcp", ln.Addr().String())
				if err != nil {
					b.Error(err)
					return
				}
				c := tls.Client(nc, config)
				defer c.Close()
				getLoop(b, pb, c)
			})
		})
	}
}
