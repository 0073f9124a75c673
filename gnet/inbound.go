//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package gnet

import (
	"io"

	"github.com/valyala/bytebufferpool"
)

// Inbound data of a connection is, at any moment, exactly one of:
//   - c.in.B[c.inOff:], input saved from earlier events (a pooled buffer), or
//   - loop.cur, the fresh read being delivered, when c is loop.curConn, or
//   - nothing (idle: no buffer held).
// deliver keeps this invariant by appending a fresh read to c.in when c.in
// exists. All methods here are loop-only. For a datagram (UDP) the input is
// the current datagram only, during its OnTraffic.

var (
	bufPool     bytebufferpool.Pool
	maxKeptSize = 1 << 20 // larger buffers are dropped instead of pooled
)

func getBuf() *bytebufferpool.ByteBuffer {
	b := bufPool.Get()
	b.B = b.B[:0]
	return b
}

func putBuf(b *bytebufferpool.ByteBuffer) {
	if cap(b.B) > maxKeptSize {
		b.B = nil
	}
	bufPool.Put(b)
}

// view returns the unread input.
func (c *conn) view() []byte {
	if c.in != nil {
		return c.in.B[c.inOff:]
	}
	if l := c.loop; l.curConn == c {
		return l.cur
	}
	return nil
}

func (c *conn) consume(n int) {
	if c.in != nil {
		c.inOff += int32(n)
		return
	}
	if l := c.loop; l.curConn == c {
		l.cur = l.cur[n:]
	}
}

// tidyInbound runs after OnTraffic: it returns a drained buffer to the pool
// (so an idle connection holds none) or compacts a mostly-consumed one.
func (c *conn) tidyInbound() {
	if c.in == nil {
		return
	}
	if c.flags&fClosed != 0 || int(c.inOff) >= len(c.in.B) {
		c.releaseInbound()
		return
	}
	if c.inOff > 0 && int(c.inOff) >= len(c.in.B)/2 {
		n := copy(c.in.B, c.in.B[c.inOff:])
		c.in.B = c.in.B[:n]
		c.inOff = 0
	}
}

func (c *conn) releaseInbound() {
	if c.in != nil {
		putBuf(c.in)
		c.in, c.inOff = nil, 0
	}
}

// InboundBuffered returns the number of unread bytes.
func (c *conn) InboundBuffered() int { return len(c.view()) }

// Read copies unread input into p. As in gnet v2, it returns
// io.ErrShortBuffer when nothing is buffered and p is not empty.
func (c *conn) Read(p []byte) (int, error) {
	v := c.view()
	if len(v) == 0 && len(p) > 0 {
		return 0, io.ErrShortBuffer
	}
	n := copy(p, v)
	c.consume(n)
	return n, nil
}

// Next returns the next n bytes (all if n <= 0) and consumes them. With
// fewer than n buffered it returns io.ErrShortBuffer and consumes nothing.
func (c *conn) Next(n int) ([]byte, error) {
	b, err := c.Peek(n)
	c.consume(len(b))
	return b, err
}

// Peek returns the next n bytes (all if n <= 0) without consuming them.
func (c *conn) Peek(n int) ([]byte, error) {
	v := c.view()
	if n > len(v) {
		return nil, io.ErrShortBuffer
	}
	if n <= 0 {
		n = len(v)
	}
	return v[:n:n], nil
}

// Discard skips n bytes; n <= 0 or n beyond the buffered amount skips all.
func (c *conn) Discard(n int) (int, error) {
	v := c.view()
	if n <= 0 || n > len(v) {
		n = len(v)
	}
	c.consume(n)
	return n, nil
}

// WriteTo writes all unread input to w.
func (c *conn) WriteTo(w io.Writer) (int64, error) {
	v := c.view()
	n, err := w.Write(v)
	c.consume(n)
	return int64(n), err
}
