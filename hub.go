//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pollnet/pollnet/internal/sock"
	"golang.org/x/sys/unix"
)

// hub is a Listener's side of its accepted connections: their counters, the
// pollset where they hibernate, and the queues through which woken sockets
// come back to Accept. Conns and the lots' reports point to it; it knows
// nothing of the Listener, which takes woken Conns from it.
//
// A parked socket is one of two kinds:
//
//	plain  the socket alone: its fd in a lot slot, the peer address in the
//	       slot's data word, the Conn that net/http closed gone. Woken, it
//	       comes back as a new Conn.
//	kept   the Conn itself, waiting (modeParked), when the server has hooks
//	       that must see one net.Conn per TCP connection (serve.go). Woken,
//	       the same Conn comes back.
type hub struct {
	network string
	kind    netKind
	laddr   net.Addr                       // local address of accepted sockets if the listener is bound to one IP; nil: ask the kernel
	locals  [3]atomic.Pointer[net.TCPAddr] // local addresses seen, else (see localIndex)
	grace   time.Duration                  // <= 0: hibernation off
	// v4mapped: the listener is an AF_INET6 socket, whose IPv4 peers have
	// the v4-mapped form (see peerAddr.addr).
	v4mapped bool
	set      *pollset
	closed   atomic.Bool
	stats    hubStats

	queues []wakeQueue   // woken Conns for Accept, one queue per poll loop
	queued atomic.Int32  // Conns in all queues
	woken  chan struct{} // signalled when a queue gains a Conn
	turn   int           // the next queue Accept looks at; Accept's own
}

type hubStats struct {
	accepted, closed, parks, wakes, expired, peerGone atomic.Uint64
	parked, waiting                                   atomic.Int64
}

type wakeQueue struct {
	mu    sync.Mutex
	conns []*Conn
}

// maxQueued bounds the woken sockets waiting for Accept. Past it the process
// is overloaded (its accept loop cannot keep up): parking more connections
// would only lengthen the queue, so idle connections stay with net/http, as
// with std, until it drains.
const maxQueued = 256

func newHub(network string, laddr net.Addr, grace time.Duration, pollers int, acceptable func()) (*hub, error) {
	set, err := newPollset(pollers, acceptable)
	if err != nil {
		return nil, err
	}
	return &hub{
		network: network,
		kind:    netKindOf(network),
		laddr:   laddr,
		grace:   grace,
		set:     set,
		queues:  make([]wakeQueue, pollers),
		woken:   make(chan struct{}, 1),
	}, nil
}

func (h *hub) hibernates() bool { return h.grace > 0 }

// overloaded reports whether parking should pause (see maxQueued).
func (h *hub) overloaded() bool { return h.queued.Load() > maxQueued }

// park takes over the socket of a Conn that net/http closed at idle, as a
// plain parked socket. A registration the Conn's grace left armed is handed
// over without a system call; else one epoll_ctl (re)arms it.
func (h *hub) park(c *Conn, deadline int64) error {
	w := c.waitState()
	w.mu.Lock()
	armed, fired, why := w.mode == modeParkPending && w.gen != 0, w.fired, w.firedWhy
	w.setMode(modeNone)
	w.fired = false
	if fired && (why == readyReadable || hasData(int(c.sock.fd))) {
		// The next request came right after the parking EOF: serve it.
		w.mu.Unlock()
		c.idle.woke(false)
		h.push(c)
		return nil
	}
	if fired { // the peer left right after the parking EOF
		w.mu.Unlock()
		h.stats.parks.Add(1)
		h.stats.peerGone.Add(1)
		return c.close()
	}
	if h.closed.Load() || !w.detachForPark() {
		w.mu.Unlock()
		return c.close()
	}
	fd, ok := c.sock.takeFD()
	if !ok { // a call is in flight: the Conn is still in use, close it as asked
		w.mu.Unlock()
		return c.close()
	}
	info := parkInfo{peer: c.addr.peer, local: c.addr.local, at: parkClock(time.Now())}
	if c.addr.full != nil {
		info.peer, info.local = makePeerAddr(c.addr.full.raddr), h.localIndex(c.addr.full.laddr)
	}
	l := h.set.lotFor(fd)
	// Counted before the poller holds it: its wake-up may come at once.
	h.stats.parked.Add(1)
	h.stats.parks.Add(1)
	switch {
	case armed && w.lot == l && l.retarget(fd, w.gen, h, info.pack(), deadline):
	case armed: // the registration reported meanwhile (its report waits for mu)
		w.gen = 0
		w.mu.Unlock()
		if !hasData(fd) {
			// The peer left (FIN or reset), as ready would find it had the
			// report come a moment later: the park stands, counted PeerGone.
			h.release(fd, &h.stats.peerGone)
			return nil
		}
		h.stats.parked.Add(-1) // the request is here: served, not parked
		h.stats.parks.Add(^uint64(0))
		h.wakePlain(fd, info, l, false)
		return nil
	default:
		rearm := w.registered && w.fd == fd && w.lot == l
		if w.registered && !rearm {
			w.lot.forget(w.fd)
		}
		if _, err := l.watch(fd, h, info.pack(), deadline, rearm); err != nil {
			h.stats.parked.Add(-1)
			h.stats.parks.Add(^uint64(0))
			h.stats.closed.Add(1)
			unix.Close(fd)
		}
	}
	w.gen, w.registered = 0, false
	w.leaveSet()
	w.mu.Unlock()
	return nil
}

// detachForPark detaches an attached (busy) Conn that parks. Called with
// mu held; false when a call is in flight.
func (w *waitState) detachForPark() bool {
	if w.c.sock.file.Load() == nil {
		return true
	}
	if !w.c.sock.askDetach() {
		w.c.sock.cancelDetach()
		return false
	}
	return w.detachLocked() == nil
}

// ready is told when a plain parked socket's registration ends.
func (h *hub) ready(fd int, data uint64, why readyReason) {
	switch {
	case why == readyDeadline:
		h.release(fd, &h.stats.expired)
	case why == readyHangup && !hasData(fd):
		h.release(fd, &h.stats.peerGone)
	default:
		h.stats.parked.Add(-1)
		h.wakePlain(fd, unpackParkInfo(data), h.set.lotFor(fd), true)
	}
}

// release closes a plain parked socket for good.
func (h *hub) release(fd int, why *atomic.Uint64) {
	unix.Close(fd)
	h.stats.parked.Add(-1)
	why.Add(1)
	h.stats.closed.Add(1)
}

// wakePlain turns a plain parked socket whose next request has come into a
// new Conn for Accept. It stays detached, its one-shot registration on l
// disabled but kept for the next park: a woken request costs no system call
// before net/http reads it. A Conn whose park was shorter than the grace
// period is busy: it waits out the grace at its next idle.
func (h *hub) wakePlain(fd int, info parkInfo, l *lot, parked bool) {
	var c *Conn
	if info.peer.ok && (h.laddr != nil || h.knownLocal(info.local) != nil) {
		c = newWokenConn(fd, h, connAddr{peer: info.peer, local: info.local})
	} else { // ask the kernel
		laddr, err1 := h.localAddr(fd)
		raddr, err2 := info.peer.addr(fd, h.v4mapped)
		if err1 != nil || err2 != nil { // the peer reset after sending
			unix.Close(fd)
			h.stats.peerGone.Add(1)
			h.stats.closed.Add(1)
			return
		}
		c = newWokenConn(fd, h, makeConnAddr(h, laddr, raddr))
	}
	c.wait.Store(&waitState{c: c, set: h.set, lot: l, fd: fd, registered: true})
	c.idle.fresh = parked && !info.busy(h.grace)
	if parked {
		h.stats.wakes.Add(1)
	}
	h.push(c)
}

// parkKept parks a Conn that the server's hooks must see again, or closes
// it when it cannot park.
func (h *hub) parkKept(c *Conn, deadline int64) error {
	if !h.tryParkKept(c, deadline) {
		return c.close()
	}
	return nil
}

// tryParkKept parks a kept Conn: it detaches now and registers at the
// StateClosed hook (completeKeptPark), so that its next StateNew can never
// come before the last StateClosed. It returns false, leaving c open, when
// c is in use or waiting, or the hub is closed.
func (h *hub) tryParkKept(c *Conn, deadline int64) bool {
	w := c.waitState()
	w.mu.Lock()
	if w.mode != modeNone && w.mode != modeParkPending || h.closed.Load() || !w.detachForPark() {
		w.mu.Unlock()
		return false
	}
	if w.set != h.set {
		w.leaveSet()
		w.set = h.set
	}
	w.setMode(modeParkPending)
	w.x().parkDeadline, w.x().parkedAt = deadline, time.Now().UnixNano()
	w.mu.Unlock()
	h.stats.parked.Add(1)
	return true
}

// completeKeptPark registers a Conn parked by parkKept. It reports whether
// the Conn was parking: then the StateClosed that called it is the park's.
func (h *hub) completeKeptPark(c *Conn) bool {
	w := c.wait.Load()
	if w == nil {
		return false
	}
	w.mu.Lock()
	if w.mode != modeParkPending {
		w.mu.Unlock()
		return false
	}
	if w.fired || h.closed.Load() {
		fired := w.fired
		w.fired = false
		w.setMode(modeNone)
		w.mu.Unlock()
		if !fired {
			h.closeKept(c, nil)
			return true
		}
		h.stats.parked.Add(-1) // never parked: the next request came first
		c.idle.woke(false)
		w.markNew()
		h.push(c)
		return true
	}
	w.setMode(modeParked)
	h.stats.parks.Add(1) // before the poller holds it: its wake-up may come at once
	var err error
	if w.gen != 0 && w.lot == h.set.lotFor(w.fd) { // armed by the grace: keep it
		w.lot.setDeadline(w.fd, w.gen, w.x().parkDeadline)
	} else {
		err = w.armLocked()
	}
	if err != nil {
		w.setMode(modeNone)
		w.mu.Unlock()
		h.stats.parks.Add(^uint64(0))
		h.closeKept(c, nil)
		return true
	}
	w.mu.Unlock()
	return true
}

// wakeKept is told when a kept parked Conn's registration ends, after a
// park of parkedFor.
func (h *hub) wakeKept(c *Conn, why readyReason, parkedFor time.Duration) {
	switch {
	case why == readyDeadline:
		h.closeKept(c, &h.stats.expired)
	case why == readyHangup && !hasData(int(c.sock.fd)):
		h.closeKept(c, &h.stats.peerGone)
	default:
		c.idle.woke(parkedFor >= h.grace)
		c.wait.Load().markNew()
		h.stats.parked.Add(-1)
		h.stats.wakes.Add(1)
		h.push(c)
	}
}

// closeKept closes a kept parked Conn, and tells the server's ConnState hook
// that the connection closed, as net/http would have. A Conn with a keeper
// is closed by its keeper.
func (h *hub) closeKept(c *Conn, why *atomic.Uint64) {
	h.stats.parked.Add(-1)
	if why != nil {
		why.Add(1)
	}
	if k := c.keeper(); k != nil {
		k.closeKept()
		return
	}
	c.close()
	if srv := c.wait.Load().hooks(); srv != nil && srv.connState != nil {
		go srv.connState(c, http.StateClosed)
	}
}

// push queues a woken Conn for Accept. Once the hub is closed (and its
// queues drained) it closes c instead.
func (h *hub) push(c *Conn) {
	q := &h.queues[int(c.sock.fd)%len(h.queues)]
	q.mu.Lock()
	if h.closed.Load() {
		q.mu.Unlock()
		h.closeQueued(c)
		return
	}
	q.conns = append(q.conns, c)
	q.mu.Unlock()
	h.queued.Add(1)
	select {
	case h.woken <- struct{}{}:
	default:
	}
}

// take pops a woken Conn for Accept, looking at the queues in turn. Only
// Accept (one caller at a time) calls it.
func (h *hub) take() *Conn {
	for range h.queues {
		q := &h.queues[h.turn]
		h.turn = (h.turn + 1) % len(h.queues)
		q.mu.Lock()
		if len(q.conns) > 0 {
			c := q.conns[0]
			q.conns[0] = nil
			q.conns = q.conns[1:]
			if len(q.conns) == 0 {
				q.conns = nil // let the backing array go
			}
			q.mu.Unlock()
			h.queued.Add(-1)
			return c
		}
		q.mu.Unlock()
	}
	return nil
}

// drain empties every queue, for close.
func (h *hub) drain() []*Conn {
	var out []*Conn
	for i := range h.queues {
		q := &h.queues[i]
		q.mu.Lock()
		out = append(out, q.conns...)
		h.queued.Add(-int32(len(q.conns)))
		q.conns = nil
		q.mu.Unlock()
	}
	return out
}

// close closes every parked and queued socket and stops the pollers;
// parks from now on close their socket at once.
func (h *hub) close() {
	h.closed.Store(true)
	for _, r := range h.set.closeLots() {
		switch w := r.w.(type) {
		case *hub:
			unix.Close(r.fd)
			h.stats.parked.Add(-1)
			h.stats.closed.Add(1)
		case *waitState:
			w.listenerClosed()
		}
	}
	for _, c := range h.drain() {
		h.closeQueued(c)
	}
	h.set.stop()
}

// closeQueued closes a Conn taken out of a wake queue by close.
func (h *hub) closeQueued(c *Conn) {
	if c.wait.Load().hooks() != nil || c.keeper() != nil { // a kept Conn: its hooks saw it idle, not closed
		h.closeKept(c, nil)
		h.stats.parked.Add(1) // closeKept counts a parked Conn; this one was queued
		return
	}
	c.close()
}

// A keeper is the layer that owns a kept Conn from above (a TLS
// connection's view, tls_conn.go). When the Conn's park or its place in a
// wake queue ends without a wake-up, the hub lets the keeper close it.
// closeKept must not block: it may run on a poll loop.
type keeper interface {
	closeKept()
}

// localAddr is an accepted socket's local address: the listener's own when
// it is bound to one IP (no syscall), else what getsockname says.
func (h *hub) localAddr(fd int) (net.Addr, error) { return h.local(fd, 0) }

// local is a woken socket's local address: the listener's, one of the few
// the hub remembers (index from localIndex, kept in the parked socket's
// record), or getsockname's.
func (h *hub) local(fd int, index uint8) (net.Addr, error) {
	if h.laddr != nil {
		return h.laddr, nil
	}
	if index > 0 {
		if a := h.locals[index-1].Load(); a != nil {
			return a, nil
		}
	}
	sa, err := syscall.Getsockname(fd) // not x/sys: see internal/sock
	if err != nil {
		return nil, err
	}
	return sock.StreamAddr(sa), nil
}

// knownLocal returns the local address of index (see localIndex), or the
// listener's own (index 0), or nil.
func (h *hub) knownLocal(index uint8) net.Addr {
	if h.laddr != nil || index == 0 {
		return h.laddr
	}
	return h.locals[index-1].Load()
}

// localIndex returns the index under which the hub remembers a parking
// socket's local address, or 0 (ask the kernel at wake-up). A listener on
// the unspecified address usually sees one or two local addresses (one
// interface, or loopback too): remembering them saves a getsockname per
// wake-up.
func (h *hub) localIndex(a net.Addr) uint8 {
	ta, ok := a.(*net.TCPAddr)
	if h.laddr != nil || !ok {
		return 0
	}
	for i := range h.locals {
		p := h.locals[i].Load()
		if p == nil && h.locals[i].CompareAndSwap(nil, ta) {
			return uint8(i + 1)
		}
		if p = h.locals[i].Load(); p.Port == ta.Port && p.Zone == ta.Zone && p.IP.Equal(ta.IP) {
			return uint8(i + 1)
		}
	}
	return 0
}

// hasData reports whether a socket that hung up still has unread data (a
// request sent just before the FIN): then it is served first.
func hasData(fd int) bool {
	var b [1]byte
	n, _, err := unix.Recvfrom(fd, b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
	return err == nil && n > 0
}
