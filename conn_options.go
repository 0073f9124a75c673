//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"net"
	"os"
	"time"

	"github.com/pollnet/pollnet/internal/sock"
	"golang.org/x/sys/unix"
)

// CloseRead shuts down the reading side of the connection.
func (c *Conn) CloseRead() error {
	return c.control("shutdown", func(fd int) error { return unix.Shutdown(fd, unix.SHUT_RD) })
}

// CloseWrite shuts down the writing side of the connection: the peer reads
// EOF after the data already written.
func (c *Conn) CloseWrite() error {
	return c.control("shutdown", func(fd int) error { return unix.Shutdown(fd, unix.SHUT_WR) })
}

// SetNoDelay controls Nagle's algorithm, as *net.TCPConn.SetNoDelay. Accepted
// and dialed TCP connections start with no delay, as in std.
func (c *Conn) SetNoDelay(noDelay bool) error {
	return c.control("setsockopt", func(fd int) error {
		return unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, boolInt(noDelay))
	})
}

// SetKeepAlive enables or disables TCP keep-alive probes.
func (c *Conn) SetKeepAlive(keepalive bool) error {
	return c.control("setsockopt", func(fd int) error {
		return unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_KEEPALIVE, boolInt(keepalive))
	})
}

// SetKeepAlivePeriod sets the idle time before the first keep-alive probe and
// the interval between probes.
func (c *Conn) SetKeepAlivePeriod(d time.Duration) error {
	return c.control("setsockopt", func(fd int) error { return sock.SetKeepAliveTimes(fd, d, d, -1) })
}

// SetKeepAliveConfig configures keep-alive as *net.TCPConn.SetKeepAliveConfig:
// a zero Idle, Interval or Count means std's default (15 s, 15 s, 9), a
// negative one leaves that setting unchanged.
func (c *Conn) SetKeepAliveConfig(config net.KeepAliveConfig) error {
	return c.control("setsockopt", func(fd int) error { return setKeepAliveConfig(fd, config) })
}

func setKeepAliveConfig(fd int, config net.KeepAliveConfig) error {
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_KEEPALIVE, boolInt(config.Enable)); err != nil || !config.Enable {
		return err
	}
	idle, interval, count := config.Idle, config.Interval, config.Count
	if idle == 0 {
		idle = defaultKeepAlive
	}
	if interval == 0 {
		interval = defaultKeepAlive
	}
	if count == 0 {
		count = 9
	}
	return sock.SetKeepAliveTimes(fd, idle, interval, count)
}

// SetLinger sets SO_LINGER, as *net.TCPConn.SetLinger: sec < 0 (the default)
// closes in the background, sec == 0 discards unsent data and resets the
// connection, sec > 0 lingers that many seconds.
func (c *Conn) SetLinger(sec int) error {
	return c.control("setsockopt", func(fd int) error { return sock.SetLinger(fd, sec) })
}

// SetReadBuffer sets the size of the kernel's receive buffer.
func (c *Conn) SetReadBuffer(bytes int) error {
	return c.control("setsockopt", func(fd int) error { return unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, bytes) })
}

// SetWriteBuffer sets the size of the kernel's send buffer.
func (c *Conn) SetWriteBuffer(bytes int) error {
	return c.control("setsockopt", func(fd int) error { return unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, bytes) })
}

// File returns a copy of the socket as an *os.File,
// as *net.TCPConn.File does. Closing one does not affect the other.
func (c *Conn) File() (*os.File, error) {
	nfd, err := c.dup()
	if err != nil {
		return nil, err
	}
	c.idle.disable()
	return os.NewFile(uintptr(nfd), "pollnet-conn"), nil
}

// dup returns a close-on-exec duplicate of the socket's descriptor.
func (c *Conn) dup() (nfd int, err error) {
	err = c.control("dup", func(fd int) (err error) {
		nfd, err = sock.DupCloexec(fd)
		return err
	})
	return nfd, err
}

// setTCPOptions gives a new TCP connection std's defaults: no Nagle delay,
// and keep-alive probes every keepAlive unless it is negative.
func setTCPOptions(fd int, keepAlive time.Duration) {
	unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	if keepAlive >= 0 {
		setKeepAliveConfig(fd, net.KeepAliveConfig{Enable: true, Idle: keepAlive, Interval: keepAlive})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
