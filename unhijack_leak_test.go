//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"io"
	"net"
	"net/http"
	"testing"
)

// A Conn that waited in OnReadable and was given back with Unhijack, then
// served and hibernated (its socket parked, the Conn dropped), must not
// keep the shared pollset of waiting Conns running: no goroutine or fd of
// it may be left once every connection has closed.
func TestUnhijackReleasesSharedPollset(t *testing.T) {
	base := takeBaseline(t)
	func() {
		conns := make(chan net.Conn, 1)
		mux := http.NewServeMux()
		mux.HandleFunc("/poll", func(w http.ResponseWriter, r *http.Request) {
			c, _, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			if err := OnReadable(c, func() {}); err != nil {
				t.Error(err)
			}
			conns <- c
		})
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello "+r.URL.Path) })
		ln, srv := serveTest(t, hibConfig(), mux, nil)
		client := dialRaw(t, ln.Addr())
		client.write(getRequest("/poll"))
		c := <-conns
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnews")
		if err := Unhijack(c, nil); err != nil {
			t.Fatal(err)
		}
		client.expect("GET", 200, "news")
		client.get("/")
		waitParked(t, ln, 1) // the socket parks; its Conn is gone
		client.conn.Close()
		waitStats(t, ln, "nothing open", func(s Stats) bool { return s.Open == 0 && s.Parked == 0 })
		srv.Close()
		ln.Close()
	}()
	waitFor(t, "the shared pollset stopped", func() bool {
		shared.mu.Lock()
		defer shared.mu.Unlock()
		return shared.set == nil
	})
	base.check(t)
}
