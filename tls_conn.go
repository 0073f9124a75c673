//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// tlsView is how net/http sees an HTTP/1.x connection served by
// ServeServerTLS: a plaintext net.Conn over the connection's *tls.Conn, on
// which the hibernation rule runs exactly as on a plaintext *Conn
// (hibernate.go). net/http never holds the *tls.Conn itself, so when it
// closes the view at the parking io.EOF the *tls.Conn lives on:
//
//	parked  the *tls.Conn and its view stay, untouched (keys, sequence
//	        numbers, a partial record in its input buffer); the *Conn under
//	        them parks kept (hub.parkKept), detached on the listener's
//	        pollset, and carries the view (waitState.keeper).
//	woken   the hub queues the *Conn for Accept (hub.wakeKept); tlsListener
//	        hands net/http the same view again, and the next request is
//	        decrypted by the same *tls.Conn as if nothing happened.
//	closed  at the idle deadline, when the peer goes, or when the listener
//	        closes, closeKept closes the *tls.Conn (close_notify, as std
//	        sends when net/http closes an idle connection) and tells
//	        ConnState.
//
// The server's hooks see the *tls.Conn, never the view, the same one for the
// whole TCP connection (hibernate_hooks.go); net/http fills Request.TLS
// from ConnectionState, as for any net.Conn that has that method.
// Connections that negotiated another protocol (HTTP/2) are handed out as
// their *tls.Conn and never park: http1 is false.
type tlsView struct {
	tc    *tls.Conn
	c     *Conn
	http1 bool         // served as a view; false: handed out as tc
	hooks *serverHooks // the server's hooks, set at the first StateNew
	// announced: ConnState saw StateNew at the handshake (tlsListener);
	// net/http's first StateNew is not shown again. Set before the Conn
	// is queued for Accept, cleared by that StateNew.
	announced bool
	idle      idleState // the hibernation rule, on the plaintext
	// rdl is the caller's read deadline (unix ns; 0: none): the rule's
	// guard 5 and idle deadline, and what a grace or a probe restores.
	rdl atomic.Int64

	// What waitReadable found held by crypto/tls, for the next Reads.
	held    atomic.Bool // len(pending) > 0
	readMu  sync.Mutex
	pending []byte
}

// newTLSView makes the view of a connection whose handshake is done and
// attaches it to the *Conn under it.
func newTLSView(tc *tls.Conn, c *Conn) *tlsView {
	v := &tlsView{tc: tc, c: c}
	switch tc.ConnectionState().NegotiatedProtocol {
	case "", "http/1.1", "http/1.0": // what net/http serves as HTTP/1.x
		v.http1 = true
	}
	if !v.http1 || !c.hub.hibernates() {
		v.idle.proto.Store(protoOther)
	}
	w := c.waitState()
	w.mu.Lock()
	w.x().keeper = v
	w.mu.Unlock()
	return v
}

// tlsViewOf returns the view a *Conn carries, or nil.
func tlsViewOf(c *Conn) *tlsView {
	v, _ := c.keeper().(*tlsView)
	return v
}

// handOut returns what net/http serves: the view of an HTTP/1.x
// connection, the *tls.Conn of any other. A woken view starts afresh: its
// rule is off and its read deadline cleared (net/http set the idle deadline
// on it, and std clears it once the next request's first bytes came). It
// is fresh, as a woken *Conn is (hibernate.go), when the hub found its park
// longer than the grace period.
func (v *tlsView) handOut() net.Conn {
	if !v.http1 {
		return v.tc
	}
	u := &v.c.idle
	u.mu.Lock()
	fresh := u.fresh
	u.fresh = false
	u.mu.Unlock()
	v.idle.woke(fresh)
	v.SetReadDeadline(time.Time{})
	return v
}

// closeKept closes a parked or queued view for good (keeper). It must not
// block: the close_notify write may wait up to tls.Conn's 5 s.
func (v *tlsView) closeKept() {
	go func() {
		v.tc.Close()
		if v.hooks != nil && v.hooks.connState != nil {
			v.hooks.connState(v.tc, http.StateClosed)
		}
	}()
}

// waitReadable is OnReadable for a view (a hijacked connection). crypto/tls
// may hold plaintext or whole records it read ahead, which never make the
// socket readable: a read with a deadline in the past takes them first (it
// returns a timeout, touching no socket, when there are none); then fn runs
// at once, else the *Conn waits on the socket.
func (v *tlsView) waitReadable(fn func()) error {
	v.readMu.Lock()
	var buf [512]byte
	v.tc.SetReadDeadline(aLongTimeAgo)
	n, err := v.tc.Read(buf[:])
	v.tc.SetReadDeadline(unixTime(v.rdl.Load()))
	v.pending = append(v.pending, buf[:n]...)
	held := len(v.pending) > 0
	v.held.Store(held)
	v.readMu.Unlock()
	if held || err != nil && !isTimeout(err) { // data, or an error the next Read gets again
		go fn()
		return nil
	}
	return v.c.onReadable(fn)
}

// unhijack is Unhijack for a view: the *Conn under it is taken back as a
// plaintext one is, the given-back plaintext is read first, and the hub
// queues the *Conn for Accept, which hands net/http this view again as a
// new connection, over the same *tls.Conn.
func (v *tlsView) unhijack(buffered []byte) error {
	h := v.c.hub
	if !v.http1 {
		return errNotAccepted // served as its *tls.Conn: never hijacked as a view
	}
	if err := h.takeBack(v.c, nil); err != nil {
		return err
	}
	v.readMu.Lock()
	v.pending = append(append([]byte(nil), buffered...), v.pending...)
	v.held.Store(len(v.pending) > 0)
	v.readMu.Unlock()
	v.idle.rehire(h.hibernates())
	h.push(v.c)
	return nil
}

// readHeld reads what waitReadable took from crypto/tls.
func (v *tlsView) readHeld(p []byte) int {
	v.readMu.Lock()
	defer v.readMu.Unlock()
	n, empty := drain(p, &v.pending)
	if empty {
		v.held.Store(false)
	}
	return n
}

// Read reads plaintext, as tls.Conn.Read. At idle it runs the hibernation
// rule, which may end it with the parking io.EOF.
func (v *tlsView) Read(p []byte) (int, error) {
	if v.held.Load() && len(p) > 0 {
		if n := v.readHeld(p); n > 0 {
			if v.idle.proto.Load() == protoUnknown { // given back by Unhijack
				v.idle.sniff(p[:n])
			}
			return n, nil
		}
	}
	if v.idle.phase.Load() != phaseOff {
		if n, done, err := v.idleRead(p); done {
			return n, err
		}
	}
	n, err := v.tc.Read(p)
	if v.idle.proto.Load() == protoUnknown {
		v.idle.sniff(p[:n])
	}
	return n, err
}

// idleRead is the rule's grace period on a view (Conn.idleRead's): a read
// of the *tls.Conn bounded by the grace, none for a fresh view. A timeout
// there leaves the *tls.Conn usable: a record that came in part stays in
// its input buffer. The *Conn under it waits as a detached or attached
// Conn waits (conn.go).
func (v *tlsView) idleRead(p []byte) (n int, done bool, err error) {
	s := &v.idle
	h := v.c.hub
	s.mu.Lock()
	grace := h.grace
	if s.fresh {
		grace = 0
	}
	s.fresh = false
	graceEnd, ok := s.beginGrace(h, p, grace, v.rdl.Load())
	if !ok {
		s.mu.Unlock()
		return 0, false, nil
	}
	v.tc.SetReadDeadline(graceEnd)
	s.mu.Unlock()

	n, err = v.tc.Read(p)

	s.mu.Lock()
	defer s.mu.Unlock()
	// The deadline goes back to the caller's: a call that interrupted the
	// grace recorded its own.
	rd := v.rdl.Load()
	v.tc.SetReadDeadline(unixTime(rd))
	switch park, again := s.endGrace(h, n, err, rd); {
	case park:
		return 0, true, io.EOF
	case again:
		return 0, false, nil
	}
	return n, true, err
}

// Write writes plaintext, as tls.Conn.Write.
func (v *tlsView) Write(p []byte) (int, error) {
	v.idle.interrupt()
	return v.tc.Write(p)
}

// Close closes the connection (sending close_notify, as tls.Conn.Close),
// unless it closes right after the parking io.EOF: then it hibernates.
func (v *tlsView) Close() error {
	if v.idle.takeParkPending() && v.c.hub.tryParkKept(v.c, v.rdl.Load()) {
		return nil
	}
	return v.tc.Close()
}

// CloseWrite sends close_notify, as tls.Conn.CloseWrite.
func (v *tlsView) CloseWrite() error {
	v.idle.interrupt()
	return v.tc.CloseWrite()
}

// ConnectionState returns the TLS connection's state; net/http fills
// Request.TLS from it.
func (v *tlsView) ConnectionState() tls.ConnectionState { return v.tc.ConnectionState() }

// NetConn returns the *tls.Conn the view reads and writes through.
func (v *tlsView) NetConn() net.Conn { return v.tc }

// LocalAddr returns the local network address.
func (v *tlsView) LocalAddr() net.Addr { return v.tc.LocalAddr() }

// RemoteAddr returns the remote network address.
func (v *tlsView) RemoteAddr() net.Addr { return v.tc.RemoteAddr() }

// SetDeadline sets the read and write deadlines, as net.Conn.SetDeadline.
func (v *tlsView) SetDeadline(t time.Time) error {
	v.idle.interrupt()
	v.rdl.Store(unixNano(t))
	return v.tc.SetDeadline(t)
}

// SetReadDeadline sets the read deadline, as net.Conn.SetReadDeadline.
func (v *tlsView) SetReadDeadline(t time.Time) error {
	if v.idle.phase.Load() != phaseOff {
		v.idle.mu.Lock()
		defer v.idle.mu.Unlock()
		v.idle.noteReadDeadline()
	}
	v.rdl.Store(unixNano(t))
	return v.tc.SetReadDeadline(t)
}

// SetWriteDeadline sets the write deadline, as net.Conn.SetWriteDeadline.
func (v *tlsView) SetWriteDeadline(t time.Time) error {
	v.idle.interrupt()
	return v.tc.SetWriteDeadline(t)
}

// onViewState is the server's ConnState hook for a view: the user's hook
// sees the *tls.Conn, and as for a kept *Conn (onState) neither the
// StateClosed of a park nor the StateNew of its wake-up.
func (h *serverHooks) onViewState(v *tlsView, state http.ConnState) {
	switch state {
	case http.StateNew:
		v.hooks = h
		if w := v.c.wait.Load(); w != nil && w.takeNew() {
			return
		}
		if v.takeAnnounced() {
			v.idle.onState(state)
			return
		}
	case http.StateClosed:
		if v.c.hub.completeKeptPark(v.c) {
			return
		}
	}
	if h.connState != nil {
		h.connState(v.tc, state)
	}
	v.idle.onState(state)
}

// takeAnnounced reports, once, whether ConnState saw the connection's
// StateNew at the handshake, so that net/http's is not shown again.
func (v *tlsView) takeAnnounced() bool {
	was := v.announced
	v.announced = false
	return was
}

// announcedTLS is takeAnnounced for a *tls.Conn that net/http serves as
// itself (HTTP/2).
func announcedTLS(nc net.Conn) bool {
	tc, ok := nc.(*tls.Conn)
	if !ok {
		return false
	}
	c, ok := tc.NetConn().(*Conn)
	if !ok {
		return false
	}
	v := tlsViewOf(c)
	return v != nil && v.takeAnnounced()
}

// unixNano is a deadline in unix nanoseconds; 0 for none.
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}
