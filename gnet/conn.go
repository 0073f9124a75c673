//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package gnet

import (
	"net"
	"net/netip"
	"sync/atomic"
	"syscall"

	"github.com/valyala/bytebufferpool"
	"golang.org/x/sys/unix"

	"github.com/pollnet/pollnet/internal/sock"
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
	fListening                    // not a connection: a UDP listener's socket (datagram.go)
	fRecv                         // io_uring: a multishot receive is armed
	fSending                      // io_uring: a send is in flight
	fCancel                       // io_uring: the receive's cancellation is submitted
	fDirty                        // io_uring: queued to sync with the kernel at the next enter
	fStash                        // io_uring: c.in holds input OnTraffic has not seen (came while paused)
	fFed                          // io_uring: input arrived since the receive was armed
)

// fdClosed is the top bit of conn.fdRefs; the other bits count calls in
// progress on the descriptor from other goroutines (socket options, and
// datagram sends).
const fdClosed = 1 << 31

// conn is one connection. It is kept compact because an idle connection is
// nothing but this record (plus one slot in its loop's fd table): no buffer,
// no goroutine. in and out are nil while idle; x is nil unless deadlines,
// close callbacks or a deferred close error are in use.
//
// The same record serves, with fListening, as a UDP listener's socket in its
// loop's fd table, and, with ad.udpSock set, as one datagram received on such a
// socket (datagram.go).
//
// Immutable after construction (safe from any goroutine): loop, fd, ad, rip,
// rport. Atomic: fdRefs. Everything else is loop-only.
type conn struct {
	loop       *eventloop
	ctx        any
	in         *bytebufferpool.ByteBuffer // unread input saved between events
	out        *outbound                  // pending output
	x          *connExt
	ad         *connAddrs // addresses and kind; shared with the listener
	lastActive int64      // loop clock of the last read (idle timeout)
	fd         int32
	gen        uint32
	inOff      int32         // read offset into in.B
	heapIdx    int32         // index in the loop's timer heap, -1 if not there
	fdRefs     atomic.Uint32 // see fdClosed
	flags      uint16
	rport      uint16
	rip        [16]byte // remote IP of an accepted TCP conn (ad.raddr == nil)
	hungryFrom uint32   // io_uring: the turn its receive first got nothing, 0 once fed (see starved)
}

// connAddrs is the immutable description of a connection's socket. An
// accepted TCP connection shares its listener's record and keeps the remote
// address compact in the conn.
type connAddrs struct {
	laddr, raddr net.Addr
	kind         sockKind
	family       uint8 // address family of the socket (SendTo converts for it)

	// For a datagram received on a UDP listener's socket: that socket's
	// record (its descriptor and close state), and the sender, where
	// Write replies. Both nil for every other connection.
	udpSock *conn
	peer    syscall.Sockaddr
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

// socket is the record that owns c's descriptor: the listener's socket for
// a received datagram, c itself otherwise. Its fdRefs field guards the fd.
func (c *conn) socket() *conn {
	if s := c.ad.udpSock; s != nil {
		return s
	}
	return c
}

// isDatagram reports whether c is a UDP connection (any goroutine).
func (c *conn) isDatagram() bool { return c.ad.kind == kindUDP }

// connFromNetConn duplicates nc's descriptor into a new conn for loop l.
func connFromNetConn(l *eventloop, nc net.Conn) (*conn, error) {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil, ErrUnsupportedProtocol
	}
	var kind sockKind
	switch nc.(type) {
	case *net.TCPConn:
		kind = kindTCP
	case *net.UnixConn:
		kind = kindUnix
	case *net.UDPConn:
		kind = kindUDP
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
	if kind == kindTCP {
		setConnOpts(nfd, o)
	}
	if o.SocketRecvBuffer > 0 {
		unix.SetsockoptInt(nfd, unix.SOL_SOCKET, unix.SO_RCVBUF, o.SocketRecvBuffer)
	}
	if o.SocketSendBuffer > 0 {
		unix.SetsockoptInt(nfd, unix.SOL_SOCKET, unix.SO_SNDBUF, o.SocketSendBuffer)
	}
	ad := &connAddrs{laddr: nc.LocalAddr(), raddr: nc.RemoteAddr(), kind: kind, family: unix.AF_UNIX}
	if kind != kindUnix {
		ad.family = unix.AF_INET6
		if sa, err := syscall.Getsockname(nfd); err == nil {
			if _, ok := sa.(*syscall.SockaddrInet4); ok {
				ad.family = unix.AF_INET
			}
		}
	}
	return newConn(l, nfd, ad), nil
}

// ---- addresses ----

// LocalAddr returns the local address (safe from any goroutine).
func (c *conn) LocalAddr() net.Addr { return c.ad.laddr }

// RemoteAddr returns the remote address (safe from any goroutine).
func (c *conn) RemoteAddr() net.Addr {
	switch {
	case c.ad.raddr != nil:
		return c.ad.raddr
	case c.ad.peer != nil:
		return sock.DatagramAddr(c.ad.peer)
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
