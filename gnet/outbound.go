//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package gnet

import (
	"io"
	"net"
	"os"
	"sync"

	"github.com/valyala/bytebufferpool"
	"golang.org/x/sys/unix"

	"github.com/pollnet/pollnet/internal/poller"
)

// outbound is a connection's pending output: a list of pooled chunks of at
// most WriteBufferCap bytes each. It exists only while output is pending;
// once drained it goes back to its pool with its chunks.
//
// Backpressure: when n exceeds the high-water mark the loop stops reading
// from the connection (so a peer that does not read cannot make us buffer
// its echoes without bound); reading resumes at the low-water mark. The
// writer itself is never refused unless OutboundHardCap is set.
type outbound struct {
	bufs []*bytebufferpool.ByteBuffer
	head int       // bytes of bufs[0] already written
	n    int       // pending bytes
	io   sendState // io_uring: what the send in flight reads (uring_linux.go)
}

var outPool = sync.Pool{New: func() any { return new(outbound) }}

func (o *outbound) append(p []byte, chunk int) {
	o.n += len(p)
	for len(p) > 0 {
		var b *bytebufferpool.ByteBuffer
		if k := len(o.bufs); k > 0 && len(o.bufs[k-1].B) < chunk {
			b = o.bufs[k-1]
		} else {
			b = getBuf()
			o.bufs = append(o.bufs, b)
		}
		m := min(chunk-len(b.B), len(p))
		b.B = append(b.B, p[:m]...)
		p = p[m:]
	}
}

// iovecs appends up to max pending slices to dst.
func (o *outbound) iovecs(dst [][]byte, max int) [][]byte {
	for i, b := range o.bufs {
		if i == max {
			break
		}
		if i == 0 {
			dst = append(dst, b.B[o.head:])
		} else {
			dst = append(dst, b.B)
		}
	}
	return dst
}

// consume drops n written bytes, returning emptied chunks to the pool.
func (o *outbound) consume(n int) {
	o.n -= n
	for n > 0 {
		b := o.bufs[0]
		rest := len(b.B) - o.head
		if n < rest {
			o.head += n
			return
		}
		n -= rest
		putBuf(b)
		o.bufs[0] = nil
		o.bufs = o.bufs[1:]
		o.head = 0
	}
}

func (o *outbound) free() {
	for i, b := range o.bufs {
		putBuf(b)
		o.bufs[i] = nil
	}
	o.bufs, o.head, o.n = o.bufs[:0], 0, 0
	o.io.clear()
	outPool.Put(o)
}

func (c *conn) releaseOutbound() {
	if c.out != nil {
		c.out.free()
		c.out = nil
	}
}

// pending returns the number of bytes waiting to be written.
func (c *conn) pending() int {
	if c.out == nil {
		return 0
	}
	return c.out.n
}

// write is Write/Writev on a stream: it writes directly while nothing is
// pending and queues the rest. Loop-only.
func (c *conn) write(p []byte, bs [][]byte) (int, error) {
	if c.flags&fClosed != 0 || c.flags&fOpen == 0 {
		return 0, net.ErrClosed
	}
	total := len(p)
	for _, b := range bs {
		total += len(b)
	}
	l := c.loop
	if hc := l.eng.opts.OutboundHardCap; hc > 0 && c.pending()+total > hc {
		return 0, ErrOutboundFull
	}
	if total == 0 {
		return 0, nil
	}
	if c.out == nil && l.ur == nil { // io_uring: every write goes through the ring
		var n int
		var err error
		if bs != nil {
			n, err = sockWritev(int(c.fd), bs)
		} else {
			n, err = sockWrite(int(c.fd), p)
		}
		if err != nil && err != unix.EAGAIN {
			l.closeConn(c, os.NewSyscallError("write", err), false)
			return 0, err
		}
		if n > 0 {
			c.lastActive = l.now
		}
		if n == total {
			return total, nil
		}
		// queue the unwritten tail
		if bs == nil {
			p = p[n:]
		} else {
			for len(bs) > 0 && n >= len(bs[0]) {
				n -= len(bs[0])
				bs = bs[1:]
			}
			if len(bs) > 0 {
				p, bs = bs[0][n:], bs[1:]
			}
		}
	}
	if c.out == nil {
		c.out = outPool.Get().(*outbound)
	}
	chunk := l.eng.opts.WriteBufferCap
	c.out.append(p, chunk)
	for _, b := range bs {
		c.out.append(b, chunk)
	}
	l.wantWrite(c, true)
	if c.flags&fClosed != 0 { // the poller refused the change: c is closed
		return 0, net.ErrClosed
	}
	if c.out.n > l.eng.opts.WriteHighWaterMark && c.flags&fClosing == 0 {
		c.flags |= fPaused
	}
	return total, nil
}

// wantWrite registers or drops Writable interest for c.
func (l *eventloop) wantWrite(c *conn, on bool) {
	if l.ur != nil {
		if on {
			l.ur.want(c) // a send is submitted at the next enter
		}
		return
	}
	if on == (c.flags&fWantWrite != 0) {
		return
	}
	in := poller.Readable
	if on {
		in |= poller.Writable
		c.flags |= fWantWrite
	} else {
		c.flags &^= fWantWrite
	}
	if err := l.p.Modify(int(c.fd), poller.MakeKey(int(c.fd), c.gen), in); err != nil {
		l.closeConn(c, os.NewSyscallError("epoll_ctl", err), false)
	}
}

// writeOut writes pending output until it is gone or the socket is full.
// It returns the first error other than EAGAIN.
func (c *conn) writeOut(l *eventloop) error {
	for c.out != nil && c.out.n > 0 {
		l.iov = c.out.iovecs(l.iov[:0], 1024)
		n, err := sockWritev(int(c.fd), l.iov)
		clear(l.iov)
		if n > 0 {
			c.out.consume(n)
			c.lastActive = l.now
		}
		switch err {
		case nil:
		case unix.EAGAIN:
			return nil
		default:
			return err
		}
	}
	return nil
}

// flush writes pending output; on a full drain it frees the buffer, drops
// Writable interest, completes a graceful close, or resumes paused reading.
func (l *eventloop) flush(c *conn) {
	if l.ur != nil {
		l.ur.want(c) // written at the next enter; sent runs at its completion
		return
	}
	if err := c.writeOut(l); err != nil {
		l.closeConn(c, os.NewSyscallError("write", err), false)
		return
	}
	l.sent(c)
}

// sent follows a write of c's output: on a full drain it frees the buffer,
// drops Writable interest and completes a graceful close; at the low-water
// mark it resumes paused reading.
func (l *eventloop) sent(c *conn) {
	if c.out != nil && c.out.n == 0 {
		c.releaseOutbound()
		l.wantWrite(c, false)
		if c.flags&fClosing != 0 {
			l.endConn(c, nil)
			return
		}
	}
	if c.flags&fPaused != 0 && c.pending() <= l.eng.opts.WriteLowWaterMark {
		c.flags &^= fPaused
		l.toBacklog(c) // edges that came while paused were consumed
	}
}

// Write writes p (loop-only). Output the socket cannot take now is queued
// and written as the peer reads: every byte is delivered, also across Close.
// On a UDP connection p is sent at once as one datagram (to the sender of
// the datagram being handled, on a UDP listener); nothing is queued.
func (c *conn) Write(p []byte) (int, error) {
	if c.isDatagram() {
		return c.sendDatagram(p, nil)
	}
	return c.write(p, nil)
}

// Writev writes the buffers in order (loop-only). It is not supported on
// UDP connections (ErrUnsupportedOp), as in gnet v2.
func (c *conn) Writev(bs [][]byte) (int, error) {
	if c.isDatagram() {
		return 0, ErrUnsupportedOp
	}
	return c.write(nil, bs)
}

// ReadFrom writes everything r yields until io.EOF (loop-only). It is not
// supported on UDP connections (ErrUnsupportedOp).
func (c *conn) ReadFrom(r io.Reader) (int64, error) {
	if c.isDatagram() {
		return 0, ErrUnsupportedOp
	}
	b := getBuf()
	defer putBuf(b)
	b.B = append(b.B[:0], make([]byte, 32<<10)...)
	var total int64
	for {
		n, err := r.Read(b.B)
		if n > 0 {
			if _, werr := c.write(b.B[:n], nil); werr != nil {
				return total, werr
			}
			total += int64(n)
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// Flush tries to write pending output now (loop-only). A UDP connection has
// none.
func (c *conn) Flush() error {
	if c.isDatagram() {
		return nil
	}
	if c.flags&fClosed != 0 {
		return net.ErrClosed
	}
	if c.out != nil {
		c.loop.flush(c)
	}
	return nil
}

// OutboundBuffered returns the number of pending output bytes (loop-only).
func (c *conn) OutboundBuffered() int { return c.pending() }
