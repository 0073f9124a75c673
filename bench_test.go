//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"
)

// Benchmarks run std and pollnet side by side in one process; compare them
// with benchstat (README.md, "Performance").

type listenFunc func(b *testing.B) net.Listener

var listeners = []struct {
	name   string
	listen listenFunc
}{
	{"std", func(b *testing.B) net.Listener {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		return ln
	}},
	{"pollnet", func(b *testing.B) net.Listener {
		ln, err := Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		return ln
	}},
}

// BenchmarkEcho: request/response round trips of 512 bytes over loopback,
// from parallel clients, each on its own connection.
func BenchmarkEcho(b *testing.B) {
	for _, l := range listeners {
		b.Run(l.name, func(b *testing.B) {
			ln := l.listen(b)
			defer ln.Close()
			go serveEcho(ln)
			b.SetBytes(512)
			b.RunParallel(func(pb *testing.PB) {
				c, err := net.Dial("tcp", ln.Addr().String())
				if err != nil {
					b.Error(err)
					return
				}
				defer c.Close()
				buf := make([]byte, 512)
				for pb.Next() {
					if _, err := c.Write(buf); err != nil {
						b.Error(err)
						return
					}
					if _, err := io.ReadFull(c, buf); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkHTTP: keep-alive GET requests against http.Serve on each
// listener, and pollnet.Serve (hibernation armed; busy connections never
// reach the grace period, so this measures the rule's overhead).
func BenchmarkHTTP(b *testing.B) {
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "Hello, World!") })
	servers := []struct {
		name  string
		ln    listenFunc
		serve func(net.Listener, http.Handler) error
	}{
		{"std", listeners[0].listen, http.Serve},
		{"pollnet-listener", listeners[1].listen, http.Serve},
		{"pollnet-serve", listeners[1].listen, Serve},
	}
	for _, s := range servers {
		b.Run(s.name, func(b *testing.B) {
			ln := s.ln(b)
			defer ln.Close()
			go s.serve(ln, hello)
			b.RunParallel(func(pb *testing.PB) {
				c, err := net.Dial("tcp", ln.Addr().String())
				if err != nil {
					b.Error(err)
					return
				}
				defer c.Close()
				getLoop(b, pb, c)
			})
		})
	}
}

// getLoop sends keep-alive GET / requests on c while pb has iterations,
// reading each response in full and expecting 200; it reports the first
// failure on b and stops there.
func getLoop(b *testing.B, pb *testing.PB, c io.ReadWriter) {
	req := []byte("GET / HTTP/1.1\r\nHost: bench\r\n\r\n")
	br := bufio.NewReader(c)
	for pb.Next() {
		if _, err := c.Write(req); err != nil {
			b.Error(err)
			return
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			b.Error(err)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Errorf("status %d", resp.StatusCode)
			return
		}
	}
}
