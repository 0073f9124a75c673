//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

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
	laddr   net.Addr      // local address of accepted sockets if the listener is bound to one IP; nil: ask the kernel
	grace   time.Duration // <= 0: hibernation off
	set     *pollset
	closed  atomic.Bool
	stats   hubStats

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
// plain parked socket.
func (h *hub) park(c *Conn, deadline int64) error {
	fd, ok := c.sock.takeFD()
	if !ok { // a call is in flight: the Conn is still in use, close it as asked
		return c.close()
	}
	// Counted before the poller holds it: its wake-up may come at once.
	h.stats.parked.Add(1)
	h.stats.parks.Add(1)
	if _, err := h.set.lotFor(fd).watch(fd, h, makePeerAddr(c.raddr).pack(), deadline, false); err != nil {
		h.stats.parked.Add(-1)
		h.stats.parks.Add(^uint64(0))
		h.stats.closed.Add(1)
		unix.Close(fd)
	}
	return nil
}

// ready is told when a plain parked socket's registration ends.
func (h *hub) ready(fd int, data uint64, why readyReason) {
	switch {
	case why == readyDeadline:
		h.release(fd, &h.stats.expired)
	case why == readyHangup && !hasData(fd):
		h.release(fd, &h.stats.peerGone)
	default:
		h.wakePlain(fd, unpackPeerAddr(data))
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
// new Conn, queued for Accept. It runs on the poll loop, so that the loops
// share the work of waking (Accept only pops).
func (h *hub) wakePlain(fd int, peer peerAddr) {
	// The fd goes to the runtime poller and closes at its next park while
	// its duplicate lives on: its one-shot registration must go now.
	h.set.lotFor(fd).forget(fd)
	laddr, err1 := h.localAddr(fd)
	raddr, err2 := peer.addr(fd)
	if err1 != nil || err2 != nil { // the peer reset after sending
		h.release(fd, &h.stats.peerGone)
		return
	}
	c, err := newConn(fd, h.network, laddr, raddr, h)
	if err != nil {
		h.stats.parked.Add(-1)
		h.stats.peerGone.Add(1)
		h.stats.closed.Add(1)
		return
	}
	h.stats.parked.Add(-1)
	h.stats.wakes.Add(1)
	h.push(c)
}

// parkKept parks a Conn that the server's hooks must see again, or closes it
// when it cannot park.
func (h *hub) parkKept(c *Conn, deadline int64) error {
	if !h.tryParkKept(c, deadline) {
		return c.close()
	}
	return nil
}

// tryParkKept parks a kept Conn: it detaches now and registers at the
// StateClosed hook (completeKeptPark), so that its next StateNew can never
// come before the last StateClosed. It returns false, leaving c as it was,
// when c is in use or waiting.
func (h *hub) tryParkKept(c *Conn, deadline int64) bool {
	w := c.waitState()
	w.mu.Lock()
	if w.mode != modeNone || !c.sock.askDetach() {
		w.mu.Unlock()
		return false
	}
	if err := w.detachLocked(); err != nil {
		w.mu.Unlock()
		return false
	}
	w.leaveSet()
	w.mode, w.parkDeadline, w.set = modeParkPending, deadline, h.set
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
	w.mode = modeParked
	h.stats.parks.Add(1) // before the poller holds it: its wake-up may come at once
	if err := w.armLocked(); err != nil {
		w.mode = modeNone
		w.mu.Unlock()
		h.stats.parks.Add(^uint64(0))
		h.closeKept(c, nil)
		return true
	}
	w.mu.Unlock()
	return true
}

// wakeKept is told when a kept parked Conn's registration ends.
func (h *hub) wakeKept(c *Conn, why readyReason) {
	switch {
	case why == readyDeadline:
		h.closeKept(c, &h.stats.expired)
	case why == readyHangup && !hasData(c.sock.fd):
		h.closeKept(c, &h.stats.peerGone)
	default:
		c.sock.attachIdle()
		c.idle.woke()
		c.wait.Load().newPending.Store(true)
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
	if c.srv != nil && c.srv.connState != nil {
		go c.srv.connState(c, http.StateClosed)
	}
}

// push queues a woken Conn for Accept. Once the hub is closed (and its
// queues drained) it closes c instead.
func (h *hub) push(c *Conn) {
	q := &h.queues[c.sock.fd%len(h.queues)]
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
			h.closeKept(w.c, nil)
		}
	}
	for _, c := range h.drain() {
		h.closeQueued(c)
	}
	h.set.stop()
}

// closeQueued closes a Conn taken out of a wake queue by close.
func (h *hub) closeQueued(c *Conn) {
	if c.srv != nil || c.keeper() != nil { // a kept Conn: its hooks saw it idle, not closed
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
func (h *hub) localAddr(fd int) (net.Addr, error) {
	if h.laddr != nil {
		return h.laddr, nil
	}
	sa, err := syscall.Getsockname(fd) // not x/sys: see toAddr
	if err != nil {
		return nil, err
	}
	return toAddr(sa), nil
}

// hasData reports whether a socket that hung up still has unread data (a
// request sent just before the FIN): then it is served first.
func hasData(fd int) bool {
	var b [1]byte
	n, _, err := unix.Recvfrom(fd, b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
	return err == nil && n > 0
}
