//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"errors"
	"sync"
	"time"

	"github.com/pollnet/pollnet/internal/poller"
	"github.com/pollnet/pollnet/internal/timeheap"
)

// A lot is one poller's table of sockets waiting to become readable: parked
// (hibernating) HTTP connections and Conns waiting in OnReadable. Each lot
// has its own lock, so pollers never contend with each other.
//
// A registration is one-shot: when its socket becomes readable (data, end
// of stream, error) or its deadline passes, the lot takes it out of the table
// and tells its watcher once, outside the lock. The kernel registration is
// one-shot too (poller.OneShot): after the report it stays disabled until
// re-armed with the same fd (watch with rearm) or removed (forget).
//
// A slot moves free -> watched (watch) -> free (reported, unwatch, or the
// lot closes). gen == 0 marks a free slot; every watch takes a new
// generation, which the poller key and the deadline heap entry carry, so an
// event or timer of an earlier registration of the same fd number is
// recognised as stale and dropped (the runtime's netpoll tags its events
// with fdseq for the same reason).
type lot struct {
	p *poller.Poller
	// A pollset spreads fds over its lots by fd % stride; this lot holds the
	// fds with fd % stride == index, in slots indexed by fd / stride.
	stride, index int

	mu        sync.Mutex
	slots     []slot
	nextGen   uint32
	deadlines timeheap.Heap[int32] // fds of slots with a deadline
	timer     *time.Timer          // fires at the earliest deadline
	closed    bool
}

// slot is one registration. 32 bytes: an fd's whole record while it waits.
type slot struct {
	gen     uint32
	heapIdx int32  // position in deadlines, or timeheap.NotInHeap
	data    uint64 // the watcher's own word (a parked socket's peer address)
	w       watcher
}

// watcher is told, once, why its registration ended. It is called without
// the lot's lock, from the poll loop's goroutine or the deadline timer's:
// it must not block.
type watcher interface {
	ready(fd int, data uint64, why readyReason)
}

type readyReason uint8

const (
	readyReadable readyReason = iota // data has come
	readyHangup                      // end of stream or an error, maybe after data
	readyDeadline                    // the registration's deadline passed
)

// report is a registration that ended, to be told outside the lock.
type report struct {
	fd   int
	data uint64
	w    watcher
	why  readyReason
}

// errLotClosed: the lot's owner (a listener) has closed.
var errLotClosed = errors.New("pollnet: poller closed")

func newLot(p *poller.Poller, stride, index int) *lot {
	l := &lot{p: p, stride: stride, index: index}
	l.deadlines = timeheap.New(func(fd int32, i int32) { l.slots[int(fd)/l.stride].heapIdx = i })
	return l
}

func (l *lot) slot(fd int) *slot {
	i := fd / l.stride
	if i >= len(l.slots) {
		// Grow by a quarter: the table is sized by the highest fd, and with
		// tens of thousands of sockets doubling would waste more than a
		// record per connection.
		n := max(i+1, len(l.slots)+len(l.slots)/4, 256)
		grown := make([]slot, n)
		copy(grown, l.slots)
		l.slots = grown
	}
	return &l.slots[i]
}

// watch registers fd until it becomes readable or deadline (unix
// nanoseconds; 0: none) passes, and returns the registration's generation.
// rearm says the fd still has a disabled one-shot registration on this
// lot's poller (from an earlier watch), which is re-armed instead of added.
// It fails with errLotClosed once the lot is closed.
func (l *lot) watch(fd int, w watcher, data uint64, deadline int64, rearm bool) (uint32, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, errLotClosed
	}
	l.nextGen++
	if l.nextGen == 0 {
		l.nextGen = 1
	}
	s := l.slot(fd)
	*s = slot{gen: l.nextGen, heapIdx: timeheap.NotInHeap, data: data, w: w}
	if deadline != 0 {
		l.pushDeadline(fd, deadline)
	}
	// Registering a socket that is already readable (data or FIN that came
	// before) reports it at once, on epoll and kqueue alike.
	key, in := poller.MakeKey(fd, s.gen), poller.Readable|poller.OneShot
	var err error
	if rearm {
		err = l.p.Modify(fd, key, in)
	} else {
		err = l.p.Add(fd, key, in)
	}
	if err != nil {
		l.freeLocked(fd)
		return 0, err
	}
	return s.gen, nil
}

// unwatch ends fd's registration gen if it has not been reported yet, and
// returns whether it did: then its watcher will not be told. The kernel
// registration stays (disabled or not): forget removes it.
func (l *lot) unwatch(fd int, gen uint32) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.current(fd, gen) {
		return false
	}
	l.freeLocked(fd)
	return true
}

// retarget hands fd's armed registration gen to another watcher, with new
// data and deadline, without a system call: the kernel registration and its
// key stay. It returns false when the registration was already reported
// (the old watcher is told, or is being told): the caller acts on that event
// itself, and the old watcher must ignore it.
func (l *lot) retarget(fd int, gen uint32, w watcher, data uint64, deadline int64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.current(fd, gen) {
		return false
	}
	s := &l.slots[fd/l.stride]
	s.w, s.data = w, data
	l.moveDeadline(s, fd, deadline)
	return true
}

// forget removes fd's kernel registration. Call it before the fd is closed
// while a duplicate keeps the socket open (a closed fd's registration
// otherwise lives as long as the socket), or before another poller or the
// runtime takes the fd.
func (l *lot) forget(fd int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed { // a closed lot's poller may be closed, its fd number reused
		l.p.Remove(fd)
	}
}

// setDeadline changes the deadline of fd's registration gen (0: none). A
// deadline already passed is reported by the timer, right away.
func (l *lot) setDeadline(fd int, gen uint32, deadline int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.current(fd, gen) {
		l.moveDeadline(&l.slots[fd/l.stride], fd, deadline)
	}
}

// moveDeadline sets a slot's deadline (0: none). Called with mu held.
func (l *lot) moveDeadline(s *slot, fd int, deadline int64) {
	switch {
	case s.heapIdx != timeheap.NotInHeap && deadline == 0:
		l.deadlines.Remove(s.heapIdx)
	case s.heapIdx != timeheap.NotInHeap:
		l.deadlines.Fix(s.heapIdx, deadline)
		l.armTimer()
	case deadline != 0:
		l.pushDeadline(fd, deadline)
	}
}

func (l *lot) current(fd int, gen uint32) bool {
	i := fd / l.stride
	return i < len(l.slots) && l.slots[i].gen == gen && gen != 0
}

func (l *lot) pushDeadline(fd int, deadline int64) {
	if l.deadlines.Push(deadline, int32(fd)) {
		l.armTimer()
	}
}

// freeLocked empties fd's slot.
func (l *lot) freeLocked(fd int) {
	s := &l.slots[fd/l.stride]
	if s.heapIdx != timeheap.NotInHeap {
		l.deadlines.Remove(s.heapIdx)
	}
	*s = slot{heapIdx: timeheap.NotInHeap}
}

// take ends fd's registration gen for a report, appending it to out.
func (l *lot) take(out []report, fd int, gen uint32, why readyReason) []report {
	if !l.current(fd, gen) {
		return out // stale: that registration already ended
	}
	s := &l.slots[fd/l.stride]
	out = append(out, report{fd: fd, data: s.data, w: s.w, why: why})
	l.freeLocked(fd)
	return out
}

// dispatch handles a batch of poller events from the lot's loop.
func (l *lot) dispatch(events []poller.Event, out []report) []report {
	l.mu.Lock()
	for _, ev := range events {
		fd, gen := poller.SplitKey(ev.Key)
		why := readyReadable
		if ev.Hangup {
			why = readyHangup
		}
		out = l.take(out, fd, gen, why)
	}
	l.mu.Unlock()
	tell(out)
	return out[:0]
}

func tell(reports []report) {
	for i, r := range reports {
		r.w.ready(r.fd, r.data, r.why)
		reports[i] = report{} // drop the watcher reference
	}
}

// armTimer sets the timer to the earliest deadline. Called with mu held.
func (l *lot) armTimer() {
	when, _, ok := l.deadlines.Min()
	if !ok || l.closed {
		return
	}
	d := time.Until(time.Unix(0, when))
	if l.timer == nil {
		l.timer = time.AfterFunc(d, l.expire)
	} else {
		l.timer.Reset(d)
	}
}

// expire reports the registrations whose deadline has passed.
func (l *lot) expire() {
	var out []report
	l.mu.Lock()
	now := time.Now().UnixNano()
	for !l.closed {
		when, fd, ok := l.deadlines.Min()
		if !ok {
			break
		}
		if when > now {
			l.armTimer()
			break
		}
		out = l.take(out, int(fd), l.slots[int(fd)/l.stride].gen, readyDeadline)
	}
	l.mu.Unlock()
	tell(out)
}

// close ends every registration without telling the watchers, and returns
// them (with why == readyDeadline) for the owner to release. Later watches
// fail with errLotClosed.
func (l *lot) close() []report {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	if l.timer != nil {
		l.timer.Stop()
	}
	var out []report
	for i := range l.slots {
		if s := &l.slots[i]; s.gen != 0 {
			out = append(out, report{fd: i*l.stride + l.index, data: s.data, w: s.w})
		}
	}
	l.slots = nil
	l.deadlines.Clear()
	return out
}
