//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"io"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"time"
)

// Conn is a stream connection (TCP or Unix) accepted by a Listener or made by
// a Dialer. It implements net.Conn with std's semantics, and the methods of
// *net.TCPConn that servers use.
//
// While a Conn is active its socket waits in the Go runtime's netpoller, like
// std's, so Read, Write and the deadline methods behave exactly as on a
// *net.TCPConn: safe for concurrent use, deadlines set from any goroutine wake
// blocked calls with a *net.OpError whose Timeout() is true and that wraps
// os.ErrDeadlineExceeded, and Close unblocks every pending call.
//
// A Conn accepted under Serve, ListenAndServe or Hibernate may hibernate when
// net/http closes it at idle (see Listener): its socket then lives on in the
// listener, and this Conn, like any closed Conn, returns net.ErrClosed.
type Conn struct {
	file    *os.File // owns the fd while active; closing it releases the fd
	network string   // "tcp", "tcp4", "tcp6" or "unix": std's OpError.Net
	laddr   net.Addr
	raddr   net.Addr
	ln      *Listener // the accepting listener; nil for dialed conns
	closed  atomic.Bool
	idle    idleState // hibernation rule (hibernate.go); inert for dialed conns
}

// newConn wraps a connected non-blocking socket. On error fd is closed.
func newConn(fd int, network string, laddr, raddr net.Addr, ln *Listener) (*Conn, error) {
	f := os.NewFile(uintptr(fd), "")
	if f == nil {
		syscall.Close(fd)
		return nil, syscall.EBADF
	}
	c := &Conn{file: f, network: network, laddr: laddr, raddr: raddr, ln: ln}
	if ln == nil || !ln.hibernates() {
		c.idle.proto.Store(protoOther)
	}
	return c, nil
}

func (c *Conn) opError(op string, err error) error {
	if err != nil && err != io.EOF && c.closed.Load() && !isTimeout(err) {
		// os.File reports use after Close in several ways ("file already
		// closed", "use of closed file"); std net reports net.ErrClosed.
		err = net.ErrClosed
	}
	return opError(op, c.network, c.laddr, c.raddr, err)
}

// Read reads data from the connection, as net.Conn.Read.
func (c *Conn) Read(p []byte) (int, error) {
	if c.idle.phase.Load() != phaseOff {
		if n, done, err := c.idleRead(p); done {
			return n, err
		}
	}
	n, err := c.file.Read(p)
	if c.idle.proto.Load() == protoUnknown {
		c.idle.sniff(p[:n])
	}
	return n, c.opError("read", err)
}

// Write writes data to the connection, as net.Conn.Write: it returns only
// when all of p is written or an error (deadline, close, reset) stops it.
func (c *Conn) Write(p []byte) (int, error) {
	c.idle.interrupt()
	n, err := c.file.Write(p)
	return n, c.opError("write", err)
}

// Close closes the connection. Pending Read and Write calls return errors
// wrapping net.ErrClosed; later calls do too, and never touch the fd again.
// Closing a hibernating connection's old Conn (net/http's closeIdleConns
// does) is harmless.
func (c *Conn) Close() error {
	if !c.closed.CompareAndSwap(false, true) {
		return c.opError("close", net.ErrClosed)
	}
	if park, deadline := c.idle.takeParkPending(); park {
		c.park(deadline)
		return nil
	}
	err := c.file.Close()
	if c.ln != nil {
		c.ln.stats.open.Add(-1)
	}
	return c.opError("close", err)
}

// LocalAddr returns the local network address.
func (c *Conn) LocalAddr() net.Addr { return c.laddr }

// RemoteAddr returns the remote network address.
func (c *Conn) RemoteAddr() net.Addr { return c.raddr }

// SetDeadline sets the read and write deadlines, as net.Conn.SetDeadline.
func (c *Conn) SetDeadline(t time.Time) error {
	if c.idle.phase.Load() != phaseOff {
		c.idle.mu.Lock()
		defer c.idle.mu.Unlock()
		c.idle.setPhase(phaseOff)
		c.idle.readDeadline = t
	}
	return c.opError("set", c.file.SetDeadline(t))
}

// SetReadDeadline sets the read deadline, as net.Conn.SetReadDeadline.
func (c *Conn) SetReadDeadline(t time.Time) error {
	if c.idle.phase.Load() != phaseOff {
		c.idle.mu.Lock()
		defer c.idle.mu.Unlock()
		c.idle.noteReadDeadline(t)
	}
	return c.opError("set", c.file.SetReadDeadline(t))
}

// SetWriteDeadline sets the write deadline, as net.Conn.SetWriteDeadline.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	c.idle.interrupt()
	return c.opError("set", c.file.SetWriteDeadline(t))
}

// SyscallConn returns a raw network connection, as *net.TCPConn does. Its
// Read and Write wait in the runtime poller like the Conn's own calls.
func (c *Conn) SyscallConn() (syscall.RawConn, error) {
	if c.closed.Load() {
		return nil, c.opError("raw-control", net.ErrClosed)
	}
	c.idle.disable()
	return c.file.SyscallConn()
}

// control runs f on the socket's fd, holding it open for the duration.
func (c *Conn) control(op string, f func(fd int) error) error {
	c.idle.interrupt()
	rc, err := c.file.SyscallConn()
	if err != nil {
		return c.opError(op, err)
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = f(int(fd)) }); err != nil {
		return c.opError(op, err)
	}
	if ferr != nil {
		return c.opError(op, os.NewSyscallError(op, ferr))
	}
	return nil
}
