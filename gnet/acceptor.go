//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package gnet

import (
	"net"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pollnet/pollnet/internal/poller"
	"github.com/pollnet/pollnet/internal/sock"
)

// acceptor accepts on the stream listeners (tcp, unix) from its own
// goroutine and poller and hands each connection to a loop chosen by the
// load balancer. (UDP listeners' sockets are on the loops: datagram.go.)
//
// EMFILE and its kin (sock.IsResourceError) leave the pending connection in
// the kernel's queue, and an edge-triggered listener reports no new edge
// for it. So on those errors the acceptor neither spins nor waits for an
// edge: it retries after internal/sock's backoff, the policy the root
// package's Listener follows too.
type acceptor struct {
	eng       *engine
	listeners []*listener
	p         *poller.Poller // nil on io_uring
	ur        ringAcceptor   // the io_uring backend (completion.go), or nil
	quit      atomic.Bool
	backoff   sock.Backoff
	events    []poller.Event
}

// newAcceptor returns the acceptor of eng's stream listeners, or nil if it
// has none.
func newAcceptor(eng *engine) (*acceptor, error) {
	a := &acceptor{eng: eng, events: make([]poller.Event, 8)}
	for _, ln := range eng.listeners {
		if ln.kind != kindUDP {
			a.listeners = append(a.listeners, ln)
		}
	}
	if len(a.listeners) == 0 {
		return nil, nil
	}
	if eng.backend == BackendIOUring {
		var err error
		if a.ur, err = newRingAcceptor(a); err == nil {
			return a, nil
		}
		// The loops run on io_uring; accepting on the poller works as well.
		eng.logf("warn", "gnet: io_uring acceptor: %v; accepting on the poller", err)
	}
	p, err := poller.New()
	if err != nil {
		return nil, err
	}
	for i, ln := range a.listeners {
		fd := ln.fds[0]
		if err := p.Add(fd, poller.MakeKey(fd, uint32(i)), poller.Readable); err != nil {
			p.Close()
			return nil, err
		}
	}
	a.p = p
	return a, nil
}

func (a *acceptor) stop() {
	a.quit.Store(true)
	if a.ur != nil {
		a.ur.wakeup()
		return
	}
	a.p.Wake()
}

// close releases the poller or ring, after run has returned.
func (a *acceptor) close() {
	if a.ur != nil {
		a.ur.close()
		return
	}
	a.p.Close()
}

func (a *acceptor) run() {
	if a.ur != nil {
		a.ur.run()
		return
	}
	for !a.quit.Load() {
		timeout := time.Duration(-1)
		if d := a.backoff.Current(); d > 0 {
			timeout = d
		}
		if _, err := a.p.Wait(a.events, timeout); err != nil {
			a.eng.fail(err)
			return
		}
		if a.quit.Load() {
			return
		}
		// A wake-up, an edge or a backoff timeout: try every listener. The
		// backoff is the engine's, not a listener's: one listener out of
		// descriptors keeps it, whatever the others report, because the
		// edge of the connection it left pending is already consumed.
		retry := false
		for _, ln := range a.listeners {
			if a.acceptAll(ln) {
				retry = true
			}
		}
		if retry {
			a.backoff.Next()
		} else {
			a.backoff.Reset()
		}
	}
}

// acceptAll accepts until ln's backlog is empty. It reports true when it
// stopped on an error that needs a retry later (out of descriptors).
func (a *acceptor) acceptAll(ln *listener) (retry bool) {
	for !a.quit.Load() {
		nfd, sa, err := sysAccept(ln.fds[0])
		switch {
		case err == nil:
			a.dispatch(ln, nfd, sa)
		case err == unix.EAGAIN:
			return false
		case err == unix.EINTR || err == unix.ECONNABORTED || err == unix.ECONNRESET || err == unix.EPROTO:
		case sock.IsResourceError(err):
			if h := testHooks; h != nil {
				h.acceptErrors.Add(1)
			}
			a.eng.logf("warn", "gnet: accept: %v; retrying after a backoff", err)
			return true
		default:
			a.eng.logf("error", "gnet: accept: %v", err)
			return true
		}
	}
	return false
}

func (a *acceptor) dispatch(ln *listener, fd int, sa syscall.Sockaddr) {
	c := &conn{fd: int32(fd), ad: ln.ad, heapIdx: -1}
	switch sa := sa.(type) {
	case *syscall.SockaddrUnix:
		c.ad = &connAddrs{laddr: ln.addr, raddr: &net.UnixAddr{Name: sa.Name, Net: "unix"}, kind: kindUnix, family: unix.AF_UNIX}
	case *syscall.SockaddrInet4:
		c.rip[10], c.rip[11] = 0xff, 0xff
		copy(c.rip[12:], sa.Addr[:])
		c.rport = uint16(sa.Port)
	case *syscall.SockaddrInet6:
		c.rip = sa.Addr
		c.rport = uint16(sa.Port)
	default: // an unnamed unix peer
		if ln.kind == kindUnix {
			c.ad = &connAddrs{laddr: ln.addr, raddr: &net.UnixAddr{Net: "unix"}, kind: kindUnix, family: unix.AF_UNIX}
		}
	}
	o := a.eng.opts
	if ln.kind == kindTCP {
		setConnOpts(fd, o)
	}
	if o.SocketSendBuffer > 0 {
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, o.SocketSendBuffer)
	}
	l := a.eng.lb.nextConn(c)
	c.loop = l
	l.load.Add(1)
	if err := l.post(func() { l.open(c) }); err != nil {
		l.load.Add(-1)
		sockClose(fd)
	}
}

// setConnOpts applies the TCP options of o to a new connection.
func setConnOpts(fd int, o *Options) {
	if o.TCPNoDelay == TCPNoDelay {
		unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	}
	if o.TCPKeepAlive > 0 {
		setKeepAlive(fd, true, o.TCPKeepAlive, o.TCPKeepInterval, o.TCPKeepCount)
	}
}
