//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package gnet

import (
	"net"
	"net/netip"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pollnet/pollnet/internal/sock"
	"github.com/valyala/bytebufferpool"
	"golang.org/x/sys/unix"
)

// Connection state bits (conn.flags). Loop-only.
const (
	fOpen      uint16 = 1 << iota // OnOpen has fired
	fClosing                      // Close requested; output still draining, input dropped
	fClosed                       // OnClose has fired, fd closed
	fPaused                       // reading paused: output above the high-water mark
	fInBacklog                    // queued in the loop's backlog
	fHup                          // the poller reported a hangup
	fWantWrite                    // Writable interest is registered
	fUnix                         // AF_UNIX socket
	fRecv                         // io_uring: a multishot receive is armed
	fSending                      // io_uring: a send is in flight
	fCancel                       // io_uring: the receive's cancellation is submitted
	fDirty                        // io_uring: queued to sync with the kernel at the next enter
	fStash                        // io_uring: c.in holds input OnTraffic has not seen (came while paused)
)

// sockClosed is the top bit of conn.sock; the other bits count socket-option
// calls in progress on other goroutines.
const sockClosed = 1 << 31

// conn is one connection. It is kept compact because an idle connection is
// nothing but this record (plus one slot in its loop's fd table): no buffer,
// no goroutine. in and out are nil while idle; x is nil unless deadlines,
// close callbacks or a deferred close error are in use.
//
// Immutable after construction (safe from any goroutine): loop, fd, ad, rip,
// rport. Atomic: sock. Everything else is loop-only.
type conn struct {
	loop       *eventloop
	ctx        any
	in         *bytebufferpool.ByteBuffer // unread input saved between events
	out        *outbound                  // pending output
	x          *connExt
	ad         *connAddrs // local address, and the remote one unless compact
	lastActive int64      // loop clock of the last read (idle timeout)
	fd         int32
	gen        uint32
	inOff      int32 // read offset into in.B
	heapIdx    int32 // index in the loop's timer heap, -1 if not there
	sock       atomic.Uint32
	flags      uint16
	rport      uint16
	rip        [16]byte // remote IP of an accepted TCP conn (ad.raddr == nil)
}

// connAddrs holds addresses; accepted TCP connections share their
// listener's record and keep the remote address compact in the conn.
type connAddrs struct {
	laddr, raddr net.Addr
}

// connExt is state few connections need.
type connExt struct {
	rdl, wdl int64 // read/write deadlines in Unix ns, 0: none
	closeErr error // error for OnClose once a graceful close completes
	closeCbs []AsyncCallback
}

func (c *conn) ext() *connExt {
	if c.x == nil {
		c.x = new(connExt)
	}
	return c.x
}

func newConn(l *eventloop, fd int, ad *connAddrs) *conn {
	return &conn{loop: l, fd: int32(fd), ad: ad, heapIdx: -1}
}

// connFromNetConn duplicates nc's descriptor into a new conn for loop l.
func connFromNetConn(l *eventloop, nc net.Conn) (*conn, error) {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil, ErrUnsupportedProtocol
	}
	var unixConn bool
	switch nc.(type) {
	case *net.TCPConn:
	case *net.UnixConn:
		unixConn = true
	default:
		return nil, ErrUnsupportedProtocol
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil, err
	}
	nfd := -1
	var derr error
	if err := rc.Control(func(fd uintptr) { nfd, derr = sock.DupCloexec(int(fd)) }); err != nil {
		return nil, err
	}
	if derr != nil {
		return nil, derr
	}
	if err := unix.SetNonblock(nfd, true); err != nil {
		unix.Close(nfd)
		return nil, err
	}
	o := l.eng.opts
	if !unixConn {
		setConnOpts(nfd, o)
	}
	if o.SocketRecvBuffer > 0 {
		unix.SetsockoptInt(nfd, unix.SOL_SOCKET, unix.SO_RCVBUF, o.SocketRecvBuffer)
	}
	if o.SocketSendBuffer > 0 {
		unix.SetsockoptInt(nfd, unix.SOL_SOCKET, unix.SO_SNDBUF, o.SocketSendBuffer)
	}
	c := newConn(l, nfd, &connAddrs{laddr: nc.LocalAddr(), raddr: nc.RemoteAddr()})
	if unixConn {
		c.flags |= fUnix
	}
	return c, nil
}

// ---- addresses ----

// LocalAddr returns the local address (safe from any goroutine).
func (c *conn) LocalAddr() net.Addr { return c.ad.laddr }

// RemoteAddr returns the remote address (safe from any goroutine).
func (c *conn) RemoteAddr() net.Addr {
	if c.ad.raddr != nil {
		return c.ad.raddr
	}
	ip := netip.AddrFrom16(c.rip).Unmap()
	return &net.TCPAddr{IP: ip.AsSlice(), Port: int(c.rport)}
}

// ---- loop-only user state ----

// Context returns the value set by SetContext (loop-only).
func (c *conn) Context() any { return c.ctx }

// SetContext stores a value with the connection (loop-only).
func (c *conn) SetContext(ctx any) { c.ctx = ctx }

// EventLoop returns the connection's loop.
func (c *conn) EventLoop() EventLoop { return c.loop }

// ---- asynchronous operations (any goroutine) ----

// Wake makes the loop call OnTraffic for c, then callback.
func (c *conn) Wake(callback AsyncCallback) error {
	l := c.loop
	return l.post(func() {
		if c.gone(callback) {
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

// gone reports whether c is not (or no longer) open on its loop; if so it
// tells callback with net.ErrClosed. It runs on the loop.
func (c *conn) gone(callback AsyncCallback) bool {
	if c.flags&fClosed == 0 && c.flags&fOpen != 0 {
		return false
	}
	if callback != nil {
		callback(c, net.ErrClosed)
	}
	return true
}

// Close closes c once its pending output is delivered. Safe from any
// goroutine; the close happens on the loop.
func (c *conn) Close() error {
	l := c.loop
	return l.post(func() {
		if c.flags&fOpen != 0 {
			l.closeConn(c, nil, true)
		}
	})
}

// CloseWithCallback is Close, then callback on the loop once c is closed.
func (c *conn) CloseWithCallback(callback AsyncCallback) error {
	l := c.loop
	return l.post(func() {
		if c.gone(callback) {
			return
		}
		if callback != nil {
			x := c.ext()
			x.closeCbs = append(x.closeCbs, callback)
		}
		l.closeConn(c, nil, true)
	})
}

// AsyncWrite queues buf for writing on the loop, then calls callback.
func (c *conn) AsyncWrite(buf []byte, callback AsyncCallback) error {
	return c.loop.post(func() {
		_, err := c.write(buf, nil)
		if callback != nil {
			callback(c, err)
		}
	})
}

// AsyncWritev is AsyncWrite for several buffers.
func (c *conn) AsyncWritev(bs [][]byte, callback AsyncCallback) error {
	return c.loop.post(func() {
		_, err := c.write(nil, bs)
		if callback != nil {
			callback(c, err)
		}
	})
}

// ---- deadlines (any goroutine) ----

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

func (c *conn) setDeadline(ns int64, rd, wr bool) error {
	if c.sock.Load()&sockClosed != 0 {
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

// ---- socket (any goroutine) ----

// acquire marks a socket-option call in progress; false if c is closed.
func (c *conn) acquire() bool {
	for {
		s := c.sock.Load()
		if s&sockClosed != 0 {
			return false
		}
		if c.sock.CompareAndSwap(s, s+1) {
			return true
		}
	}
}

func (c *conn) release() { c.sock.Add(^uint32(0)) }

// sockClose forbids further socket-option calls and waits for those in
// progress, so none of them can reach the fd number after close(2) frees it.
func (c *conn) sockClose() {
	for {
		s := c.sock.Load()
		if c.sock.CompareAndSwap(s, s|sockClosed) {
			break
		}
	}
	for c.sock.Load() != sockClosed {
		runtime.Gosched()
	}
}

func (c *conn) withFd(f func(fd int) error) error {
	if !c.acquire() {
		return net.ErrClosed
	}
	defer c.release()
	return f(int(c.fd))
}

// Fd returns the socket descriptor.
func (c *conn) Fd() int { return int(c.fd) }

// Dup returns a duplicate of the descriptor.
func (c *conn) Dup() (fd int, err error) {
	err = c.withFd(func(f int) error { fd, err = sock.DupCloexec(f); return err })
	if err != nil {
		return -1, err
	}
	return fd, nil
}

// SetReadBuffer sets SO_RCVBUF.
func (c *conn) SetReadBuffer(n int) error {
	return c.withFd(func(fd int) error { return unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, n) })
}

// SetWriteBuffer sets SO_SNDBUF.
func (c *conn) SetWriteBuffer(n int) error {
	return c.withFd(func(fd int) error { return unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, n) })
}

// SetLinger sets SO_LINGER; secs < 0 turns it off.
func (c *conn) SetLinger(secs int) error {
	return c.withFd(func(fd int) error {
		lg := unix.Linger{}
		if secs >= 0 {
			lg.Onoff, lg.Linger = 1, int32(secs)
		}
		return unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &lg)
	})
}

// SetNoDelay sets TCP_NODELAY.
func (c *conn) SetNoDelay(noDelay bool) error {
	if c.isUnixSocket() {
		return ErrUnsupportedOp
	}
	v := 0
	if noDelay {
		v = 1
	}
	return c.withFd(func(fd int) error { return unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, v) })
}

// SetKeepAlivePeriod turns keep-alive on with period d.
func (c *conn) SetKeepAlivePeriod(d time.Duration) error {
	if c.isUnixSocket() {
		return ErrUnsupportedOp
	}
	return c.withFd(func(fd int) error { return setKeepAlive(fd, true, d, d/5, 5) })
}

// SetKeepAlive sets keep-alive with idle time, interval and probe count.
func (c *conn) SetKeepAlive(enabled bool, idle, intvl time.Duration, cnt int) error {
	if c.isUnixSocket() {
		return ErrUnsupportedOp
	}
	return c.withFd(func(fd int) error { return setKeepAlive(fd, enabled, idle, intvl, cnt) })
}

// isUnixSocket reports whether c is a unix socket. Unlike fUnix (flags
// are loop-only) it reads immutable state, so any goroutine may call it.
func (c *conn) isUnixSocket() bool {
	_, ok := c.ad.laddr.(*net.UnixAddr)
	return ok
}
