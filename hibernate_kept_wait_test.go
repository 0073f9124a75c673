//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"net"
	"net/http"
	"testing"
)

// A kept Conn (the server has hooks) that hibernated, woke and was then
// hijacked can wait in OnReadable: the registration its park left on the
// listener's pollset goes when it moves to the shared one.
func TestKeptConnWokenThenOnReadable(t *testing.T) {
	hijacked := make(chan net.Conn, 1)
	mux := hibMux()
	mux.HandleFunc("/hijack", upgradeHandler(t, hijacked))
	ln, _ := serveTest(t, hibConfig(), mux, func(srv *http.Server) {
		srv.ConnState = func(net.Conn, http.ConnState) {} // hooks: parks keep the Conn
	})
	client := dialRaw(t, ln.Addr())
	client.get("/")
	waitParked(t, ln, 1)
	client.write(getRequest("/hijack"))
	client.response("GET")
	c := <-hijacked
	defer c.Close()
	ran := onReadableChan(t, c)
	client.write("x")
	mustRun(t, ran, "data on the hijacked conn")
}
