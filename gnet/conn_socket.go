//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package gnet

import (
	"errors"
	"net"
	"runtime"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pollnet/pollnet/internal/sock"
)

// The socket methods are safe from any goroutine at any time. A call holds
// the socket's reference count (conn.fdRefs) while it uses the descriptor, and
// the loop marks the socket closed, waiting for such calls, before close(2),
// so no call ever reaches a descriptor number the kernel has reused.

// acquire marks a call in progress on c's descriptor; false if c is closed.
func (c *conn) acquire() bool {
	for {
		s := c.fdRefs.Load()
		if s&fdClosed != 0 {
			return false
		}
		if c.fdRefs.CompareAndSwap(s, s+1) {
			return true
		}
	}
}

func (c *conn) release() { c.fdRefs.Add(^uint32(0)) }

// retireFd forbids further calls on the descriptor and waits for those in
// progress; the descriptor may then be closed.
func (c *conn) retireFd() {
	for {
		s := c.fdRefs.Load()
		if c.fdRefs.CompareAndSwap(s, s|fdClosed) {
			break
		}
	}
	for c.fdRefs.Load() != fdClosed {
		runtime.Gosched()
	}
}

// withFd runs f on the descriptor of c's socket, or returns net.ErrClosed.
func (c *conn) withFd(f func(fd int) error) error {
	s := c.socket()
	if !s.acquire() {
		return net.ErrClosed
	}
	defer s.release()
	return f(int(s.fd))
}

// errInvalidDuration is gnet v2's answer to a keep-alive time that is not
// positive.
var errInvalidDuration = errors.New("invalid time duration")

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
	return c.withFd(func(fd int) error { return sock.SetLinger(fd, secs) })
}

// SetNoDelay sets TCP_NODELAY (ErrUnsupportedOp on other sockets).
func (c *conn) SetNoDelay(noDelay bool) error {
	if c.ad.kind != kindTCP {
		return ErrUnsupportedOp
	}
	v := 0
	if noDelay {
		v = 1
	}
	return c.withFd(func(fd int) error { return unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, v) })
}

// SetKeepAlivePeriod turns keep-alive on with idle time d, probes every d/5
// (at least 1 s), 5 probes. d must be positive; a fraction of a second is
// rounded up.
func (c *conn) SetKeepAlivePeriod(d time.Duration) error {
	if c.ad.kind != kindTCP {
		return ErrUnsupportedOp
	}
	if d <= 0 {
		return errInvalidDuration
	}
	return c.withFd(func(fd int) error { return setKeepAlive(fd, true, d, max(d/5, time.Second), 5) })
}

// SetKeepAlive turns keep-alive off, or on with the given idle time, probe
// interval and probe count, which must then all be positive (a fraction of
// a second is rounded up).
func (c *conn) SetKeepAlive(enabled bool, idle, intvl time.Duration, cnt int) error {
	if c.ad.kind != kindTCP {
		return ErrUnsupportedOp
	}
	if enabled && (idle <= 0 || intvl <= 0 || cnt <= 0) {
		return errInvalidDuration
	}
	return c.withFd(func(fd int) error { return setKeepAlive(fd, enabled, idle, intvl, cnt) })
}
