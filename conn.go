//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
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
// A Conn waiting in OnReadable, or hibernating under Serve, ListenAndServe or
// Hibernate, gives its runtime poller registration back: its socket waits on
// a pollnet poller instead (see socket.go). Calls keep working meanwhile.
type Conn struct {
	sock socket
	wmu  sync.Mutex // one Write at a time, whole, as std's fd write lock
	hub  *hub       // the accepting listener's hub; nil for dialed conns
	addr connAddr
	idle idleState                 // hibernation rule (hibernate.go); inert without a hub
	wait atomic.Pointer[waitState] // made by the first wait, park or hook that needs it (wait.go)
}

// newConn wraps a connected non-blocking socket, attached to the runtime
// poller. On error fd is closed.
func newConn(fd int, network string, laddr, raddr net.Addr, h *hub) (*Conn, error) {
	f := os.NewFile(uintptr(fd), "")
	if f == nil {
		syscall.Close(fd)
		return nil, syscall.EBADF
	}
	c := &Conn{hub: h, addr: makeConnAddr(h, laddr, raddr)}
	c.sock.init(fd, f, netKindOf(network))
	if h == nil || !h.hibernates() {
		c.idle.proto.Store(protoOther)
	}
	return c, nil
}

// newWokenConn is a woken parked socket's new Conn: detached, as it parked.
func newWokenConn(fd int, h *hub, addr connAddr) *Conn {
	c := &Conn{hub: h, addr: addr}
	c.sock.init(fd, nil, h.kind)
	return c
}

// newDetachedConn wraps a connected non-blocking socket without attaching
// it: it enters the runtime poller only if a call must wait (socket.go).
func newDetachedConn(fd int, network string, laddr, raddr net.Addr, h *hub) *Conn {
	c := &Conn{hub: h, addr: makeConnAddr(h, laddr, raddr)}
	c.sock.init(fd, nil, netKindOf(network))
	if !h.hibernates() {
		c.idle.proto.Store(protoOther)
	}
	return c
}

func (c *Conn) opError(op string, err error) error {
	if err == nil || err == io.EOF {
		return err // the hot path: no addresses built (they allocate)
	}
	if c.sock.closed() && !isTimeout(err) {
		// os.File reports use after Close in several ways ("file already
		// closed", "use of closed file"); std net reports net.ErrClosed.
		err = net.ErrClosed
	}
	return opError(op, c.sock.kind.String(), c.LocalAddr(), c.RemoteAddr(), err)
}

// put ends a call, and runs a detach that waited for it.
func (c *Conn) put() {
	if c.sock.put() {
		c.finishDetach()
	}
}

// Read reads data from the connection, as net.Conn.Read.
func (c *Conn) Read(p []byte) (int, error) {
	if c.idle.phase.Load() != phaseOff {
		if n, done, err := c.idleRead(p); done {
			return n, err
		}
	}
	if !c.sock.get() {
		return 0, c.opError("read", net.ErrClosed)
	}
	n, err := c.read(p)
	c.put()
	if c.idle.proto.Load() == protoUnknown {
		c.idle.sniff(p[:n])
	}
	return n, c.opError("read", err)
}

func (c *Conn) read(p []byte) (int, error) {
	if w := c.wait.Load(); w != nil && w.prefixed.Load() {
		// Bytes given back by Unhijack come first, whatever the home.
		if n := w.takePrefix(p); n > 0 {
			return n, nil
		}
	}
	for {
		f := c.sock.file.Load()
		if f != nil {
			return f.Read(p)
		}
		n, err, done := c.readDetached(p)
		if done {
			return n, err
		}
		waited, err := c.waitDetached()
		if err != nil {
			return 0, err
		}
		if !waited {
			if f = c.attach(); f == nil {
				return 0, net.ErrClosed
			}
			return f.Read(p)
		}
	}
}

// waitDetached waits, for a Read that found nothing on a detached Conn, on
// the hub's poller: a detached Conn is presumed idle (net/http's background
// read of a request in progress waits here, until the handler's end aborts
// it with a deadline), and attaching it to the runtime poller would cost two
// system calls now and three when it parks again. When data comes the Conn
// is busy: the caller then attaches it. waited is false when the Conn cannot
// wait there (not accepted, waiting in OnReadable, or a Read waits already):
// the caller attaches at once. The caller holds a call (get), which is
// released while waiting so that a transition never waits for this Read.
func (c *Conn) waitDetached() (waited bool, err error) {
	if c.hub == nil || c.hub.closed.Load() {
		return false, nil
	}
	if passed(c.sock.rdl.Load()) {
		return true, os.ErrDeadlineExceeded
	}
	w := c.waitState()
	w.mu.Lock()
	if c.sock.closed() {
		w.mu.Unlock()
		return true, net.ErrClosed
	}
	if w.mode != modeNone || w.closed || w.set != nil && w.set != c.hub.set {
		w.mu.Unlock()
		return false, nil
	}
	// The wake channel is the Conn's one: take it only once this Read owns
	// the wait (mode None under mu), or a concurrent Read would replace the
	// channel of the Read already waiting, which then never wakes.
	ws := c.idle.beginWait()
	defer c.idle.endWait(ws)
	w.set = c.hub.set
	w.fired = false
	w.setMode(modeReadWait)
	if err := w.armLocked(); err != nil {
		w.setMode(modeNone)
		w.mu.Unlock()
		return false, nil
	}
	w.mu.Unlock()

	c.sock.release()
	<-ws.c
	if !c.sock.get() {
		c.sock.state.Add(1) // the caller's put balances it
		w.mu.Lock()
		w.disarmLocked()
		w.setMode(modeNone)
		w.mu.Unlock()
		return true, net.ErrClosed
	}
	w.mu.Lock()
	fired, why := w.fired, w.firedWhy
	if !fired {
		w.disarmLocked()
	}
	w.fired = false
	w.setMode(modeNone)
	w.mu.Unlock()
	switch {
	case fired && why == readyDeadline:
		return true, os.ErrDeadlineExceeded
	case fired: // data, end of stream or an error: a busy connection
		c.sock.attach()
	}
	return true, nil
}

// attach attaches a detached socket for a call that must wait. A Conn that
// still waits in OnReadable (a blocked Write) detaches again when the last
// call ends.
func (c *Conn) attach() *os.File {
	f := c.sock.attach()
	if w := c.wait.Load(); f != nil && w != nil && w.waiting() {
		c.sock.askDetach()
	}
	return f
}

// readDetached reads from a detached socket what is there without waiting.
// done is false when the caller must attach and wait. A Read ends a wait in
// OnReadable: the program reads on its own.
func (c *Conn) readDetached(p []byte) (n int, err error, done bool) {
	if w := c.wait.Load(); w != nil {
		w.cancel()
	}
	if len(p) == 0 {
		return 0, nil, true
	}
	if passed(c.sock.rdl.Load()) {
		return 0, os.ErrDeadlineExceeded, true
	}
	for {
		n, err := unix.Read(c.sock.rawFD(), p)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return 0, nil, false
		case err != nil:
			return 0, err, true
		case n == 0:
			return 0, io.EOF, true
		}
		return n, nil, true
	}
}

// Write writes data to the connection, as net.Conn.Write: it returns only
// when all of p is written or an error (deadline, close, reset) stops it.
// On a detached Conn (waiting in OnReadable) a write the kernel takes at
// once costs one system call and leaves the Conn waiting.
func (c *Conn) Write(p []byte) (int, error) {
	c.idle.interrupt()
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if !c.sock.get() {
		return 0, c.opError("write", net.ErrClosed)
	}
	n, err := c.write(p)
	c.put()
	return n, c.opError("write", err)
}

func (c *Conn) write(p []byte) (int, error) {
	f := c.sock.file.Load()
	if f != nil {
		return f.Write(p)
	}
	n, err, done := c.writeDetached(p)
	if done {
		return n, err
	}
	if f = c.attach(); f == nil {
		return n, net.ErrClosed
	}
	m, err := f.Write(p[n:])
	return n + m, err
}

// writeDetached writes to a detached socket what the kernel takes without
// waiting. done is false when the rest, p[n:], needs a wait.
func (c *Conn) writeDetached(p []byte) (n int, err error, done bool) {
	if passed(c.sock.wdl.Load()) {
		return 0, os.ErrDeadlineExceeded, true
	}
	fd := c.sock.rawFD()
	for n < len(p) {
		m, err := unix.Write(fd, p[n:])
		if m > 0 {
			n += m
		}
		switch {
		case err == unix.EINTR:
		case err == unix.EAGAIN:
			return n, nil, false
		case err != nil:
			return n, err, true
		}
	}
	return n, nil, true
}

// passed reports whether a deadline (unix nanoseconds; 0: none) has passed.
func passed(deadline int64) bool {
	return deadline != 0 && time.Now().UnixNano() >= deadline
}

// Close closes the connection. Pending Read and Write calls return errors
// wrapping net.ErrClosed; later calls do too, and never touch the fd again.
// Closing a Conn that waits in OnReadable ends the wait: its function does
// not run. Closing a hibernating connection's old Conn (net/http's
// closeIdleConns does) is harmless.
func (c *Conn) Close() error {
	if c.idle.takeParkPending() {
		return c.park(c.sock.rdl.Load()) // the idle deadline net/http set
	}
	return c.opError("close", c.close())
}

// close closes the socket for good, then ends any wait. In that order: a
// wait that starts concurrently checks the socket under the wait's lock,
// so it either sees it closed or is ended by closing.
func (c *Conn) close() error {
	first, err := c.sock.close()
	if w := c.wait.Load(); w != nil {
		w.closing()
	}
	if !first {
		return net.ErrClosed
	}
	if c.hub != nil {
		c.hub.stats.closed.Add(1)
	}
	return err
}

// LocalAddr returns the local network address.
func (c *Conn) LocalAddr() net.Addr {
	if f := c.addr.full; f != nil {
		return f.laddr
	}
	return c.hub.knownLocal(c.addr.local)
}

// RemoteAddr returns the remote network address.
func (c *Conn) RemoteAddr() net.Addr {
	if f := c.addr.full; f != nil {
		return f.raddr
	}
	return c.addr.peer.tcpAddr(c.hub.v4mapped)
}

// SetDeadline sets the read and write deadlines, as net.Conn.SetDeadline.
func (c *Conn) SetDeadline(t time.Time) error {
	if c.idle.phase.Load() != phaseOff {
		c.idle.mu.Lock()
		defer c.idle.mu.Unlock()
		c.idle.setPhase(phaseOff)
	}
	return c.setDeadline(t, true, true)
}

// SetReadDeadline sets the read deadline, as net.Conn.SetReadDeadline. On a
// Conn waiting in OnReadable, a read deadline that passes runs the function.
func (c *Conn) SetReadDeadline(t time.Time) error {
	if c.idle.phase.Load() != phaseOff {
		c.idle.mu.Lock()
		defer c.idle.mu.Unlock()
		c.idle.noteReadDeadline()
	}
	return c.setDeadline(t, true, false)
}

// SetWriteDeadline sets the write deadline, as net.Conn.SetWriteDeadline.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	c.idle.interrupt()
	return c.setDeadline(t, false, true)
}

func (c *Conn) setDeadline(t time.Time, read, write bool) error {
	if !c.sock.get() {
		return c.opError("set", net.ErrClosed)
	}
	defer c.put()
	var d int64
	if !t.IsZero() {
		d = t.UnixNano()
	}
	if read {
		c.sock.rdl.Store(d)
		if w := c.wait.Load(); w != nil {
			w.deadlineChanged(d)
		}
	}
	if write {
		c.sock.wdl.Store(d)
	}
	f := c.sock.file.Load()
	if f == nil {
		return nil
	}
	var err error
	switch {
	case read && write:
		err = f.SetDeadline(t)
	case read:
		err = f.SetReadDeadline(t)
	default:
		err = f.SetWriteDeadline(t)
	}
	return c.opError("set", err)
}

// SyscallConn returns a raw network connection, as *net.TCPConn does. Its
// Read and Write wait in the runtime poller like the Conn's own calls. The
// Conn then stays attached to the runtime poller for good: OnReadable
// waits with a goroutine, and it never hibernates.
func (c *Conn) SyscallConn() (syscall.RawConn, error) {
	if !c.sock.get() {
		return nil, c.opError("raw-control", net.ErrClosed)
	}
	defer c.put()
	c.idle.disable()
	c.sock.pin()
	f := c.sock.file.Load()
	if f == nil {
		if f = c.attach(); f == nil {
			return nil, c.opError("raw-control", net.ErrClosed)
		}
	}
	return f.SyscallConn()
}

// control runs f on the socket's fd, holding it open for the duration.
func (c *Conn) control(op string, fn func(fd int) error) error {
	c.idle.interrupt()
	if !c.sock.get() {
		return c.opError(op, net.ErrClosed)
	}
	defer c.put()
	var ferr error
	if f := c.sock.file.Load(); f != nil {
		rc, err := f.SyscallConn()
		if err != nil {
			return c.opError(op, err)
		}
		if err := rc.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
			return c.opError(op, err)
		}
	} else {
		ferr = fn(c.sock.rawFD())
	}
	if ferr != nil {
		return c.opError(op, os.NewSyscallError(op, ferr))
	}
	return nil
}
