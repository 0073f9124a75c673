package pollnet

import (
	"net"
	"net/http"
)

// Serve accepts connections on ln and serves them with h, like http.Serve,
// with idle hibernation: when ln is a *Listener, idle HTTP/1.x keep-alive
// connections give back net/http's goroutine and buffers until their next
// request. With any other listener it is exactly http.Serve.
func Serve(ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h}
	Hibernate(srv)
	return srv.Serve(ln)
}

// ListenAndServe listens on the TCP address addr with Listen and then calls
// Serve, like http.ListenAndServe.
func ListenAndServe(addr string, h http.Handler) error {
	if addr == "" {
		addr = ":http"
	}
	ln, err := Listen("tcp", addr)
	if err != nil {
		return err
	}
	return Serve(ln, h)
}
