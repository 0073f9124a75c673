package pollnet

import (
	"context"
	"net"
	"syscall"
	"time"
)

// DefaultIdleGrace is how long an idle HTTP/1.x keep-alive connection stays
// with net/http before it hibernates, when ListenConfig.IdleGrace is zero.
// README.md ("Choosing the grace period") gives the measured trade-off.
const DefaultIdleGrace = 100 * time.Millisecond

// ListenConfig holds options for listening, like net.ListenConfig.
// The zero value is ready to use and behaves like net.Listen.
type ListenConfig struct {
	// Pollers is the number of kernel pollers (each one goroutine) that hold
	// this listener's accept path and parked sockets. Zero means one per four
	// CPUs of GOMAXPROCS, at least one.
	Pollers int

	// ReusePort sets SO_REUSEPORT, so several listeners (or processes) can
	// share one address and the kernel balances connections among them.
	ReusePort bool

	// Backlog is the listen(2) backlog. Zero means the system maximum
	// (somaxconn), as std net uses.
	Backlog int

	// KeepAlive is the TCP keep-alive period of accepted connections, as in
	// net.ListenConfig: zero means 15 s, negative disables keep-alive.
	KeepAlive time.Duration

	// IdleGrace is how long an idle HTTP/1.x keep-alive connection waits with
	// net/http before it hibernates (only under Serve, ListenAndServe or
	// Hibernate). Zero means DefaultIdleGrace; negative disables hibernation.
	IdleGrace time.Duration

	// Control, if not nil, is called after creating the socket and before
	// binding it, as in net.ListenConfig.
	Control func(network, address string, c syscall.RawConn) error
}

// Listen announces on the local network address, like net.Listen. The network
// must be "tcp", "tcp4", "tcp6" or "unix". The returned listener is a
// *Listener.
func Listen(network, address string) (net.Listener, error) {
	var lc ListenConfig
	return lc.Listen(context.Background(), network, address)
}

// Dialer contains options for connecting to an address, like net.Dialer.
// The zero value is ready to use.
type Dialer struct {
	// Timeout is the maximum time a dial waits for a connect to complete.
	Timeout time.Duration
	// Deadline is the absolute time after which dials fail.
	Deadline time.Time
	// LocalAddr is the local address to bind to, or nil.
	LocalAddr net.Addr
	// KeepAlive is the TCP keep-alive period: zero means 15 s, negative disables it.
	KeepAlive time.Duration
	// Resolver looks up host names; nil means net.DefaultResolver.
	Resolver *net.Resolver
	// Control, if not nil, is called after creating the socket and before
	// connecting it, as in net.Dialer.
	Control func(network, address string, c syscall.RawConn) error
}

// Dial connects to the address on the named network ("tcp", "tcp4", "tcp6",
// "unix"), like net.Dial. The connection is a *Conn.
func Dial(network, address string) (net.Conn, error) {
	var d Dialer
	return d.DialContext(context.Background(), network, address)
}

// Dial is DialContext with a background context.
func (d *Dialer) Dial(network, address string) (net.Conn, error) {
	return d.DialContext(context.Background(), network, address)
}
