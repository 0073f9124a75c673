//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pollnet/pollnet/internal/sock"
	"golang.org/x/sys/unix"
)

// Listener is a stream listener on pollnet's pollers. It implements
// net.Listener; Accept returns *Conn.
//
// Accept hands out new connections and, under Serve, ListenAndServe or
// Hibernate, connections woken from hibernation: a parked socket whose next
// request has arrived comes back as a new *Conn on the same TCP connection.
//
// Close unblocks Accept with an error wrapping net.ErrClosed, closes parked
// and queued sockets, and releases every fd and goroutine the listener owns.
// Like std's, it does not close connections already handed out.
type Listener struct {
	fd        int
	fdmu      sync.RWMutex // Accept reads fd under RLock; Close closes it under Lock
	network   string
	addr      net.Addr
	unlink    string        // unix socket path to remove on Close
	keepAlive time.Duration // of accepted TCP connections; < 0: off

	closed atomic.Bool
	done   chan struct{} // closed by Close

	// acceptMu admits one Accept call at a time, as std's fd read lock
	// does. The fields below assume that single caller: with two, one could
	// set drained after the other had consumed the edge that cleared it,
	// and a pending connection would wait for the next edge.
	acceptMu sync.Mutex
	incoming chan struct{} // the listening socket became readable
	// drained is set when accept returned EAGAIN and no readiness edge has
	// been consumed since: Accept then waits instead of making a syscall
	// that would fail again. An edge always arrives through incoming, so
	// the flag can only skip a useless attempt, never a connection.
	drained atomic.Bool
	turn    uint32 // alternates Accept's two sources
	hub     *hub   // accepted connections: counters, parking, woken queue
}

// Stats returns the listener's counters.
func (l *Listener) Stats() Stats {
	st := &l.hub.stats
	accepted := st.accepted.Load()
	return Stats{
		Accepted: accepted,
		Open:     int64(accepted - st.closed.Load()),
		Parked:   st.parked.Load(),
		Waiting:  st.waiting.Load(),
		Queued:   int64(l.hub.queued.Load()),
		Parks:    st.parks.Load(),
		Wakes:    st.wakes.Load(),
		Expired:  st.expired.Load(),
		PeerGone: st.peerGone.Load(),
	}
}

// Addr returns the listener's network address.
func (l *Listener) Addr() net.Addr { return l.addr }

// Listen announces on the local network address with the config's options.
// The network must be "tcp", "tcp4", "tcp6" or "unix".
func (lc *ListenConfig) Listen(ctx context.Context, network, address string) (net.Listener, error) {
	ln, err := lc.listen(ctx, network, address)
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: network, Err: err}
	}
	return ln, nil
}

func (lc *ListenConfig) listen(ctx context.Context, network, address string) (*Listener, error) {
	var fam int
	var sa syscall.Sockaddr
	switch network {
	case "unix":
		fam, sa = unix.AF_UNIX, &syscall.SockaddrUnix{Name: address}
	case "tcp", "tcp4", "tcp6":
		// As net.Listen: no host means all addresses, dual-stack unless
		// tcp4; a name means its first address.
		unspecified := netip.IPv6Unspecified()
		if network == "tcp4" {
			unspecified = netip.IPv4Unspecified()
		}
		ips, port, err := resolveTCP(ctx, nil, network, address, unspecified)
		if err != nil {
			return nil, err
		}
		fam = sock.Family(network, ips[0])
		sa = sock.Sockaddr(fam, ips[0], port)
	default:
		return nil, errUnsupportedNetwork
	}
	fd, err := sock.Socket(fam, unix.SOCK_STREAM)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	opts := sock.ListenOptions{ReusePort: lc.ReusePort, Control: lc.Control, Backlog: lc.Backlog}
	if err := sock.Listen(fd, fam, unix.SOCK_STREAM, network, address, sa, opts); err != nil {
		unix.Close(fd)
		return nil, err
	}
	l, err := lc.newListener(fd, network)
	if err != nil {
		return nil, err
	}
	if network == "unix" && address != "" && address[0] != '@' {
		l.unlink = address
	}
	return l, nil
}

// newListener wraps a bound, listening, non-blocking socket: it starts the
// poll loops and registers the socket. On error fd is closed.
func (lc *ListenConfig) newListener(fd int, network string) (*Listener, error) {
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("getsockname", err)
	}
	l := &Listener{
		fd:        fd,
		network:   network,
		addr:      sock.StreamAddr(sa),
		keepAlive: lc.KeepAlive,
		done:      make(chan struct{}),
		incoming:  make(chan struct{}, 1),
	}
	if network == "unix" {
		l.keepAlive = -1
	} else if l.keepAlive == 0 {
		l.keepAlive = defaultKeepAlive
	}
	var laddr net.Addr // accepted sockets share the listener's address when it is one IP
	if a, ok := l.addr.(*net.TCPAddr); ok && !a.IP.IsUnspecified() {
		laddr = l.addr
	}
	h, err := newHub(network, laddr, lc.idleGrace(), lc.pollers(), func() { signal(l.incoming) })
	if err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("poller", err)
	}
	_, h.v4mapped = sa.(*syscall.SockaddrInet6)
	l.hub = h
	if err := h.set.addPersistent(fd); err != nil {
		l.Close()
		return nil, os.NewSyscallError("poller", err)
	}
	return l, nil
}

// signal wakes one waiter on ch without blocking.
func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// Accept waits for and returns the next connection: a new one from the
// kernel or a woken parked socket (whose request is already waiting), the
// two sources taken in turn so that neither starves the other.
//
// When the process is out of file descriptors (EMFILE, ENFILE) Accept does
// not return the error, and does not spin: it backs off (internal/sock:
// 5 ms doubling to 500 ms) and retries, while woken connections are still
// handed out.
func (l *Listener) Accept() (net.Conn, error) {
	l.acceptMu.Lock()
	defer l.acceptMu.Unlock()
	var backoff sock.Backoff
	for {
		if l.closed.Load() {
			return nil, l.opError("accept", net.ErrClosed)
		}
		c, err := l.next()
		switch {
		case c != nil:
			backoff.Reset()
			return c, nil
		case err == unix.EAGAIN:
			backoff.Reset()
			select {
			case <-l.incoming:
				l.drained.Store(false)
			case <-l.hub.woken:
			case <-l.done:
			}
		case err == unix.EINTR || err == unix.ECONNABORTED:
		case sock.IsResourceError(err):
			// Out of fds or memory: the pending connection stays queued and
			// no new edge will come for it, so retry after a delay (no spin).
			t := time.NewTimer(backoff.Next())
			select {
			case <-t.C:
			case <-l.hub.woken:
			case <-l.done:
			}
			t.Stop()
		case errors.Is(err, net.ErrClosed):
			return nil, l.opError("accept", err)
		default:
			return nil, l.opError("accept", os.NewSyscallError("accept", err))
		}
	}
}

// next takes one connection, alternating which source it tries first. It
// returns the kernel's accept error (EAGAIN: nothing pending) when both
// sources are empty.
func (l *Listener) next() (*Conn, error) {
	l.turn++
	wokenFirst := l.turn%2 == 0
	if wokenFirst {
		if c := l.hub.take(); c != nil {
			return c, nil
		}
	}
	c, err := l.acceptNew()
	if err == nil {
		return c, nil
	}
	if !wokenFirst {
		if c := l.hub.take(); c != nil {
			return c, nil
		}
	}
	return nil, err
}

// acceptNew accepts one connection from the kernel, or returns EAGAIN at
// once when the backlog is known to be drained.
func (l *Listener) acceptNew() (*Conn, error) {
	if l.drained.Load() {
		return nil, unix.EAGAIN
	}
	l.fdmu.RLock()
	if l.closed.Load() {
		l.fdmu.RUnlock()
		return nil, net.ErrClosed
	}
	fd, rsa, err := sock.Accept(l.fd)
	l.fdmu.RUnlock()
	if err == unix.EAGAIN {
		l.drained.Store(true)
	}
	if err != nil {
		return nil, err
	}
	if l.network != "unix" {
		setTCPOptions(fd, l.keepAlive)
	}
	laddr, err := l.hub.localAddr(fd)
	if err != nil {
		unix.Close(fd)
		return nil, unix.ECONNABORTED
	}
	// With hibernation on, a new Conn starts detached: it enters the runtime
	// poller only if a call must wait (a request not there yet, a slow
	// response), so a burst of short-lived or quickly idle connections
	// leaves no runtime poll descriptors behind.
	var c *Conn
	if l.hub.hibernates() {
		c = newDetachedConn(fd, l.network, laddr, sock.StreamAddr(rsa), l.hub)
	} else if c, err = newConn(fd, l.network, laddr, sock.StreamAddr(rsa), l.hub); err != nil {
		return nil, unix.ECONNABORTED
	}
	l.hub.stats.accepted.Add(1)
	return c, nil
}

// Close stops the listener: Accept returns net.ErrClosed, parked and queued
// sockets are closed, the poll loops end and the listening socket is closed.
func (l *Listener) Close() error {
	if !l.closed.CompareAndSwap(false, true) {
		return l.opError("close", net.ErrClosed)
	}
	close(l.done)
	if l.hub != nil {
		l.hub.close() // first: parks from now on close their socket at once
	}
	l.fdmu.Lock()
	err := unix.Close(l.fd)
	l.fdmu.Unlock()
	if l.unlink != "" {
		os.Remove(l.unlink)
	}
	if err != nil {
		return l.opError("close", os.NewSyscallError("close", err))
	}
	return nil
}

func (l *Listener) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: l.network, Source: nil, Addr: l.addr, Err: err}
}
