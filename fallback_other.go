//go:build !(linux || darwin || dragonfly || freebsd || netbsd || openbsd)

package pollnet

// On platforms without epoll or kqueue, pollnet is std net with pollnet's
// types around it: everything works, nothing hibernates.

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"syscall"
	"time"
)

var errNoSupport = errors.New("pollnet: not supported by this connection")

// Listener wraps a std net.Listener on platforms without a pollnet poller.
type Listener struct {
	ln             net.Listener
	accepted, open atomic.Int64
}

// Listen announces on the local address with std net.
func (lc *ListenConfig) Listen(ctx context.Context, network, address string) (net.Listener, error) {
	std := net.ListenConfig{Control: lc.Control, KeepAlive: lc.KeepAlive}
	ln, err := std.Listen(ctx, network, address)
	if err != nil {
		return nil, err
	}
	return &Listener{ln: ln}, nil
}

// FileListener returns a Listener for a copy of the listening socket in f.
func (lc *ListenConfig) FileListener(f *os.File) (*Listener, error) {
	ln, err := net.FileListener(f)
	if err != nil {
		return nil, err
	}
	return &Listener{ln: ln}, nil
}

// FileListener is ListenConfig.FileListener with the default config.
func FileListener(f *os.File) (*Listener, error) {
	var lc ListenConfig
	return lc.FileListener(f)
}

// Accept waits for and returns the next connection, a *Conn.
func (l *Listener) Accept() (net.Conn, error) {
	c, err := l.ln.Accept()
	if err != nil {
		return nil, err
	}
	l.accepted.Add(1)
	l.open.Add(1)
	return &Conn{Conn: c, ln: l}, nil
}

// Close closes the listener.
func (l *Listener) Close() error { return l.ln.Close() }

// Addr returns the listener's network address.
func (l *Listener) Addr() net.Addr { return l.ln.Addr() }

// Stats returns the listener's counters (nothing parks on this platform).
func (l *Listener) Stats() Stats {
	return Stats{Accepted: uint64(l.accepted.Load()), Open: l.open.Load()}
}

// File returns a copy of the listening socket.
func (l *Listener) File() (*os.File, error) {
	if f, ok := l.ln.(interface{ File() (*os.File, error) }); ok {
		return f.File()
	}
	return nil, errNoSupport
}

// Conn wraps a std net.Conn on platforms without a pollnet poller.
type Conn struct {
	net.Conn
	ln     *Listener
	closed atomic.Bool
}

// Close closes the connection.
func (c *Conn) Close() error {
	if c.ln != nil && c.closed.CompareAndSwap(false, true) {
		c.ln.open.Add(-1)
	}
	return c.Conn.Close()
}

// CloseRead shuts down the reading side of the connection.
func (c *Conn) CloseRead() error {
	if x, ok := c.Conn.(interface{ CloseRead() error }); ok {
		return x.CloseRead()
	}
	return errNoSupport
}

// CloseWrite shuts down the writing side of the connection.
func (c *Conn) CloseWrite() error {
	if x, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return x.CloseWrite()
	}
	return errNoSupport
}

func (c *Conn) tcp() (*net.TCPConn, error) {
	if t, ok := c.Conn.(*net.TCPConn); ok {
		return t, nil
	}
	return nil, errNoSupport
}

// SetNoDelay controls Nagle's algorithm.
func (c *Conn) SetNoDelay(b bool) error {
	return withTCP(c, func(t *net.TCPConn) error { return t.SetNoDelay(b) })
}

// SetKeepAlive enables or disables TCP keep-alive.
func (c *Conn) SetKeepAlive(b bool) error {
	return withTCP(c, func(t *net.TCPConn) error { return t.SetKeepAlive(b) })
}

// SetKeepAlivePeriod sets the keep-alive period.
func (c *Conn) SetKeepAlivePeriod(d time.Duration) error {
	return withTCP(c, func(t *net.TCPConn) error { return t.SetKeepAlivePeriod(d) })
}

// SetKeepAliveConfig configures keep-alive.
func (c *Conn) SetKeepAliveConfig(cfg net.KeepAliveConfig) error {
	return withTCP(c, func(t *net.TCPConn) error { return t.SetKeepAliveConfig(cfg) })
}

// SetLinger sets SO_LINGER.
func (c *Conn) SetLinger(sec int) error {
	return withTCP(c, func(t *net.TCPConn) error { return t.SetLinger(sec) })
}

// SetReadBuffer sets the kernel receive buffer size.
func (c *Conn) SetReadBuffer(n int) error {
	return withTCP(c, func(t *net.TCPConn) error { return t.SetReadBuffer(n) })
}

// SetWriteBuffer sets the kernel send buffer size.
func (c *Conn) SetWriteBuffer(n int) error {
	return withTCP(c, func(t *net.TCPConn) error { return t.SetWriteBuffer(n) })
}

func withTCP(c *Conn, f func(*net.TCPConn) error) error {
	t, err := c.tcp()
	if err != nil {
		return err
	}
	return f(t)
}

// SyscallConn returns a raw network connection.
func (c *Conn) SyscallConn() (syscall.RawConn, error) {
	if x, ok := c.Conn.(syscall.Conn); ok {
		return x.SyscallConn()
	}
	return nil, errNoSupport
}

// ReadFrom implements io.ReaderFrom with std's zero-copy paths.
func (c *Conn) ReadFrom(r io.Reader) (int64, error) {
	if x, ok := c.Conn.(io.ReaderFrom); ok {
		return x.ReadFrom(r)
	}
	return io.Copy(c.Conn, r)
}

// File returns a copy of the socket.
func (c *Conn) File() (*os.File, error) {
	if x, ok := c.Conn.(interface{ File() (*os.File, error) }); ok {
		return x.File()
	}
	return nil, errNoSupport
}

// DialContext connects with std net.
func (d *Dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	std := net.Dialer{Timeout: d.Timeout, Deadline: d.Deadline, LocalAddr: d.LocalAddr,
		KeepAlive: d.KeepAlive, Resolver: d.Resolver, Control: d.Control}
	c, err := std.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	return &Conn{Conn: c}, nil
}

// Hibernate does nothing here: without pollnet's pollers nothing hibernates.
func Hibernate(*http.Server) {}

func onReadablePolled(net.Conn, func()) (bool, error) { return false, nil }

// serveTLSPolled leaves ServeServerTLS to std here.
func serveTLSPolled(*http.Server, net.Listener, string, string) (bool, error) { return false, nil }

// Unhijack is not supported without pollnet's pollers.
func Unhijack(net.Conn, []byte) error { return errNoSupport }
