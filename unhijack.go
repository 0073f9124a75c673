//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"errors"
	"net"
)

var (
	errNotAccepted = errors.New("pollnet: Unhijack needs a connection accepted by a pollnet Listener")
	errConnInUse   = errors.New("pollnet: Unhijack of a connection with a call in flight")
)

// Unhijack gives a connection taken with http.Hijacker back to the listener
// that accepted it: the server then reads and serves the next request on it
// as on any keep-alive connection (to net/http it is a new connection: its
// ConnState hook sees StateNew). This is how a long-poll answered from an
// event keeps its connection: write a complete HTTP/1.1 response on c (framed
// with Content-Length or chunked encoding), then call Unhijack.
//
// buffered holds bytes the program read from c and did not consume, such as
// what the hijack's bufio.Reader still buffers: the server reads them
// before anything from the socket, so a request the client sent early is
// not lost.
//
// c must be a *Conn accepted by a pollnet Listener that is still open, or
// the net.Conn Hijack returns under ServeServerTLS (HTTPS: buffered is then
// plaintext), with no call in flight; a wait in OnReadable ends. After
// Unhijack the program must not use c.
func Unhijack(c net.Conn, buffered []byte) error {
	switch c := c.(type) {
	case *Conn:
		if c.hub != nil {
			return c.hub.unhijack(c, buffered)
		}
	case *tlsView:
		return c.unhijack(buffered)
	}
	return errNotAccepted
}

func (h *hub) unhijack(c *Conn, buffered []byte) error {
	if err := h.takeBack(c, buffered); err != nil {
		return err
	}
	c.idle.rehire(h.hibernates())
	h.push(c)
	return nil
}

// takeBack ends whatever the program's use of a hijacked c left behind (a
// wait in OnReadable, its place in the shared pollset, its registration in
// the runtime poller) so that the hub can serve it again; buffered is read
// back first.
func (h *hub) takeBack(c *Conn, buffered []byte) error {
	if h.closed.Load() {
		return c.opError("unhijack", net.ErrClosed)
	}
	w := c.waitState()
	w.mu.Lock()
	if w.closed || c.sock.closed() {
		w.mu.Unlock()
		return c.opError("unhijack", net.ErrClosed)
	}
	if w.mode == modeReadable {
		w.disarmLocked()
		w.setMode(modeNone)
		w.fn = nil
	}
	// c leaves the shared pollset of waiting Conns now: if the server
	// hibernates it, its socket parks and c is dropped without a Close.
	if w.registered {
		w.lot.forget(w.fd)
		w.registered = false
	}
	w.leaveSet()
	// Reads of a detached socket look at the given-back bytes first.
	if c.sock.file.Load() != nil {
		if !c.sock.askDetach() {
			c.sock.cancelDetach()
			w.mu.Unlock()
			return errConnInUse
		}
		if err := w.detachLocked(); err != nil {
			w.mu.Unlock()
			return c.opError("unhijack", err)
		}
	}
	if len(buffered) > 0 {
		// Before what an earlier Unhijack gave back and nobody read yet.
		x := w.x()
		x.prefix = append(append([]byte(nil), buffered...), x.prefix...)
		w.prefixed.Store(true)
	}
	w.mu.Unlock()
	return nil
}
