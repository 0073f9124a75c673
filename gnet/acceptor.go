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

// acceptor accepts on all listeners from its own goroutine and poller and
// hands each connection to a loop chosen by the load balancer.
//
// EMFILE and its kin (ENFILE, ENOBUFS, ENOMEM) leave the pending connection
// in the kernel's queue, and an edge-triggered listener reports no new edge
// for it. So on those errors the acceptor neither spins nor waits for an
// edge: it retries after a timeout that doubles from 1 ms up to 500 ms and
// resets after a successful accept.
type acceptor struct {
	eng     *engine
	p       *poller.Poller // nil on io_uring
	ur      ringAcceptor   // the io_uring backend (completion.go), or nil
	quit    atomic.Bool
	backoff time.Duration
	events  []poller.Event
}

// sysAccept is the accept call; tests replace it to inject EMFILE.
var sysAccept = sock.Accept

// acceptErrors counts accept calls that failed with a resource error, so a
// test can prove the backoff does not spin.
var acceptErrors atomic.Int64

const (
	backoffMin = time.Millisecond
	backoffMax = 500 * time.Millisecond
)

func newAcceptor(eng *engine) (*acceptor, error) {
	if eng.backend == BackendIOUring {
		a := &acceptor{eng: eng}
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
	for i, ln := range eng.listeners {
		if err := p.Add(ln.fd, poller.MakeKey(ln.fd, uint32(i)), poller.Readable); err != nil {
			p.Close()
			return nil, err
		}
	}
	return &acceptor{eng: eng, p: p, events: make([]poller.Event, 8)}, nil
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
		if a.backoff > 0 {
			timeout = a.backoff
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
		for _, ln := range a.eng.listeners {
			if a.acceptAll(ln) {
				retry = true
			}
		}
		if retry {
			a.backoff = min(max(2*a.backoff, backoffMin), backoffMax)
		} else {
			a.backoff = 0
		}
	}
}

// acceptAll accepts until ln's backlog is empty. It reports true when it
// stopped on an error that needs a retry later (out of descriptors).
func (a *acceptor) acceptAll(ln *listener) (retry bool) {
	for !a.quit.Load() {
		nfd, sa, err := sysAccept(ln.fd)
		switch err {
		case nil:
			a.dispatch(ln, nfd, sa)
			continue
		case unix.EAGAIN:
			return false
		case unix.EINTR, unix.ECONNABORTED, unix.ECONNRESET, unix.EPROTO:
			continue
		case unix.EMFILE, unix.ENFILE, unix.ENOBUFS, unix.ENOMEM:
			acceptErrors.Add(1)
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
	o := a.eng.opts
	c := &conn{fd: int32(fd), ad: ln.ad, heapIdx: -1}
	if ln.unix {
		c.flags |= fUnix
		name := ""
		if su, ok := sa.(*syscall.SockaddrUnix); ok {
			name = su.Name
		}
		c.ad = &connAddrs{laddr: ln.addr, raddr: &net.UnixAddr{Name: name, Net: "unix"}}
	} else {
		switch sa := sa.(type) {
		case *syscall.SockaddrInet4:
			c.rip[10], c.rip[11] = 0xff, 0xff
			copy(c.rip[12:], sa.Addr[:])
			c.rport = uint16(sa.Port)
		case *syscall.SockaddrInet6:
			c.rip = sa.Addr
			c.rport = uint16(sa.Port)
		}
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
		unix.Close(fd)
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
