//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package gnet

import (
	"net"
	"time"
)

// The Conn methods in this file are safe from any goroutine at any time:
// they post their work to the connection's loop (except datagram sends,
// which go out at once, as in gnet v2).

// Wake makes the loop call OnTraffic for c, then callback. For a datagram
// received on a UDP listener there is nothing to wake: callback alone runs,
// as in gnet v2.
func (c *conn) Wake(callback AsyncCallback) error {
	l := c.loop
	return l.post(func() {
		if c.nothingToDo(callback) {
			return
		}
		if c.flags&fClosing == 0 {
			l.traffic(c, nil)
		}
		if callback != nil {
			callback(c, nil)
		}
	})
}

// nothingToDo reports whether a Wake or CloseWithCallback of c has nothing
// to act on, and if so calls callback: a datagram received on a UDP
// listener is no connection (callback gets nil, as in gnet v2); a
// connection not (or no longer) open gets net.ErrClosed. It runs on the
// loop.
func (c *conn) nothingToDo(callback AsyncCallback) bool {
	var err error
	switch {
	case c.ad.udpSock != nil:
	case c.flags&fClosed == 0 && c.flags&fOpen != 0:
		return false
	default:
		err = net.ErrClosed
	}
	if callback != nil {
		callback(c, err)
	}
	return true
}

// Close closes c once its pending output is delivered. Safe from any
// goroutine; the close happens on the loop. A datagram received on a UDP
// listener is not a connection: closing it does nothing.
func (c *conn) Close() error {
	if c.ad.udpSock != nil {
		return nil
	}
	l := c.loop
	return l.post(func() {
		if c.flags&fOpen != 0 {
			l.closeConn(c, nil, true)
		}
	})
}

// CloseWithCallback is Close, then callback on the loop once c is closed.
// callback receives ErrEngineShutdown if c's OnClose returned Shutdown (as
// in gnet v2), and net.ErrClosed if c was already closed.
func (c *conn) CloseWithCallback(callback AsyncCallback) error {
	l := c.loop
	return l.post(func() {
		if c.nothingToDo(callback) {
			return
		}
		if callback != nil {
			x := c.ext()
			x.closeCbs = append(x.closeCbs, callback)
		}
		l.closeConn(c, nil, true)
	})
}

// AsyncWrite queues buf for writing on the loop, then calls callback there.
// On a UDP connection buf is sent at once as one datagram, and callback
// runs on the calling goroutine (gnet v2 does the same, with a nil Conn).
func (c *conn) AsyncWrite(buf []byte, callback AsyncCallback) error {
	if c.isDatagram() {
		_, err := c.sendDatagram(buf, nil)
		if callback != nil {
			callback(c, err)
		}
		return err
	}
	return c.loop.post(func() {
		_, err := c.write(buf, nil)
		if callback != nil {
			callback(c, err)
		}
	})
}

// AsyncWritev is AsyncWrite for several buffers. It is not supported on UDP
// connections (ErrUnsupportedOp), as in gnet v2.
func (c *conn) AsyncWritev(bs [][]byte, callback AsyncCallback) error {
	if c.isDatagram() {
		return ErrUnsupportedOp
	}
	return c.loop.post(func() {
		_, err := c.write(nil, bs)
		if callback != nil {
			callback(c, err)
		}
	})
}

// ---- deadlines ----

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return max(t.UnixNano(), 1)
}

// SetDeadline sets the read and write deadlines.
func (c *conn) SetDeadline(t time.Time) error { return c.setDeadline(unixNano(t), true, true) }

// SetReadDeadline sets the read deadline.
func (c *conn) SetReadDeadline(t time.Time) error { return c.setDeadline(unixNano(t), true, false) }

// SetWriteDeadline sets the write deadline.
func (c *conn) SetWriteDeadline(t time.Time) error {
	return c.setDeadline(unixNano(t), false, true)
}

// setDeadline posts the new deadlines to the loop, which reschedules c in
// its timer heap. A datagram received on a UDP listener has no lifetime to
// bound: ErrUnsupportedOp, as gnet v2 answers for every connection.
func (c *conn) setDeadline(ns int64, rd, wr bool) error {
	if c.ad.udpSock != nil {
		return ErrUnsupportedOp
	}
	if c.fdRefs.Load()&fdClosed != 0 {
		return net.ErrClosed
	}
	l := c.loop
	return l.post(func() {
		if c.flags&fClosed != 0 {
			return
		}
		x := c.ext()
		if rd {
			x.rdl = ns
		}
		if wr {
			x.wdl = ns
		}
		l.schedule(c)
	})
}
