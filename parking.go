//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pollnet/pollnet/internal/poller"
	"golang.org/x/sys/unix"
)

// parkedConn is the whole record of a hibernating socket: 24 bytes, in a
// slice indexed by fd. The fd, the kernel socket and its poller registration
// are all the rest.
//
// A slot moves free -> parked (park) -> queued (readable: waiting in Accept)
// -> free (Accept took it), or parked -> free (peer closed, idle deadline,
// listener closed). gen == 0 marks a free slot; gen grows on every park, and
// poller keys and queue entries carry it, so an event or entry from an
// earlier park of the same fd number is recognised as stale and dropped.
type parkedConn struct {
	deadline int64 // unix nanoseconds of the idle deadline; 0: none
	gen      uint32
	heapIdx  int32 // position in parkingLot.expiry; notInHeap or queuedMark
	peer     peerAddr
}

const (
	notInHeap  = -1 // parked without a deadline, or free
	queuedMark = -2 // queued for Accept (a queued socket has left the heap)
)

func (s *parkedConn) queued() bool { return s.heapIdx == queuedMark }

// parkingLot holds a listener's parked sockets.
type parkingLot struct {
	ln      *Listener
	mu      sync.Mutex
	slots   []parkedConn // by fd
	nextGen uint32
	expiry  []int32     // min-heap of fds by slots[fd].deadline
	timer   *time.Timer // fires at the earliest deadline
	closed  bool
	queue   []queuedFD   // FIFO of woken sockets for Accept
	queued  atomic.Int32 // len(queue), readable without mu
	woken   chan struct{}
}

// maxQueued bounds the woken sockets waiting for Accept. Past it the process
// is overloaded (its accept loop cannot keep up): parking more connections
// would only lengthen the queue, so idle connections stay with net/http, as
// with std, until it drains.
const maxQueued = 256

// overloaded reports whether parking should pause (see maxQueued).
func (p *parkingLot) overloaded() bool { return p.queued.Load() > maxQueued }

type queuedFD struct {
	fd  int32
	gen uint32
}

func (p *parkingLot) init(ln *Listener) {
	p.ln = ln
	p.woken = make(chan struct{}, 1)
}

func (p *parkingLot) slot(fd int) *parkedConn {
	if fd >= len(p.slots) {
		// Grow by a quarter: the table is sized by the highest fd, and with
		// tens of thousands of sockets doubling would waste more than a
		// record per connection.
		n := max(fd+1, len(p.slots)+len(p.slots)/4, 1024)
		grown := make([]parkedConn, n)
		copy(grown, p.slots)
		p.slots = grown
	}
	return &p.slots[fd]
}

func (p *parkingLot) pollerFor(fd int) *poller.Poller {
	loops := p.ln.loops
	return loops[fd%len(loops)].p
}

// park puts a socket that net/http closed at idle on a poller.
func (p *parkingLot) park(fd int, deadline time.Time, peer peerAddr) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		unix.Close(fd)
		p.ln.stats.open.Add(-1)
		return
	}
	p.nextGen++
	if p.nextGen == 0 {
		p.nextGen = 1
	}
	s := p.slot(fd)
	*s = parkedConn{gen: p.nextGen, heapIdx: notInHeap, peer: peer}
	if !deadline.IsZero() {
		s.deadline = deadline.UnixNano()
		p.pushExpiry(fd)
	}
	p.ln.stats.parked.Add(1)
	// Adding a socket that is already readable (data or FIN that raced the
	// park) reports it at once, on epoll and kqueue alike: nothing to check.
	if err := p.pollerFor(fd).Add(fd, poller.MakeKey(fd, s.gen), poller.Readable); err != nil {
		p.releaseLocked(fd)
		return
	}
	p.ln.stats.parks.Add(1) // under mu: no wake or expiry of this park can count first
}

// onReadable handles a poller event for a parked socket. Without a hangup,
// an edge on a parked socket means data: the next request has come. With
// one (FIN, RST, error) a peek tells whether data came first.
func (p *parkingLot) onReadable(fd int, gen uint32, hangup bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || fd >= len(p.slots) || p.slots[fd].gen != gen || p.slots[fd].queued() {
		return // stale: that park ended
	}
	if !hangup {
		p.queueLocked(fd)
		return
	}
	var b [1]byte
	n, _, err := unix.Recvfrom(fd, b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
	switch {
	case err == unix.EAGAIN || err == unix.EINTR:
	case err == nil && n > 0:
		p.queueLocked(fd) // data, then FIN: serve the request; net/http sees the EOF after
	default:
		p.ln.stats.peerGone.Add(1)
		p.releaseLocked(fd)
	}
}

// queueLocked moves a parked socket whose next request has come to the
// accept queue.
func (p *parkingLot) queueLocked(fd int) {
	p.pollerFor(fd).Remove(fd)
	p.removeExpiry(fd)
	p.slots[fd].heapIdx = queuedMark
	p.queue = append(p.queue, queuedFD{fd: int32(fd), gen: p.slots[fd].gen})
	p.queued.Store(int32(len(p.queue)))
	p.ln.stats.parked.Add(-1)
	p.ln.signal(p.woken)
}

// releaseLocked closes a parked socket for good.
func (p *parkingLot) releaseLocked(fd int) {
	p.pollerFor(fd).Remove(fd)
	p.removeExpiry(fd)
	p.slots[fd] = parkedConn{heapIdx: notInHeap}
	unix.Close(fd)
	p.ln.stats.parked.Add(-1)
	p.ln.stats.open.Add(-1)
}

// take pops the oldest woken socket, if any, for Accept, with the peer
// address it had when it parked.
func (p *parkingLot) take() (fd int, peer peerAddr, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.queue) > 0 {
		q := p.queue[0]
		p.queue = p.queue[1:]
		p.queued.Store(int32(len(p.queue)))
		fd := int(q.fd)
		if p.closed || p.slots[fd].gen != q.gen || !p.slots[fd].queued() {
			continue
		}
		peer = p.slots[fd].peer
		p.slots[fd] = parkedConn{heapIdx: notInHeap}
		if len(p.queue) == 0 {
			p.queue = nil // let the backing array go
		}
		return fd, peer, true
	}
	return -1, peerAddr{}, false
}

// close closes every parked and queued socket; later parks close at once.
func (p *parkingLot) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	if p.timer != nil {
		p.timer.Stop()
	}
	for fd := range p.slots {
		if p.slots[fd].gen == 0 {
			continue
		}
		if !p.slots[fd].queued() {
			p.ln.stats.parked.Add(-1)
		}
		p.slots[fd] = parkedConn{heapIdx: notInHeap}
		unix.Close(fd)
		p.ln.stats.open.Add(-1)
	}
	p.queue = nil
	p.queued.Store(0)
	p.expiry = nil
}
