//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"sync"
	"sync/atomic"

	"github.com/pollnet/pollnet/internal/poller"
)

// A pollset is a few poll loops, each a kernel poller (internal/poller), the
// goroutine that waits on it, and the lot of sockets registered there.
// Sockets are spread over the loops by fd number. A Listener owns one (its
// accept path and parked sockets); Conns waiting in OnReadable share another
// (sharedPollset), because they outlive listeners, as hijacked connections
// outlive std's.
type pollset struct {
	loops []*pollLoop
}

// pollLoop is one goroutine waiting on one kernel poller.
type pollLoop struct {
	p    *poller.Poller
	lot  *lot
	wait waiter // how the goroutine waits for the poller (poll_linux.go, poll_bsd.go)
	// acceptable, if set, is called for events with generation 0: the
	// owner's one persistent registration (a listening socket).
	acceptable func()
	stop       atomic.Bool
	done       chan struct{}
}

// newPollset starts n poll loops. acceptable is the owner's handler for its
// persistent registration (see addPersistent), or nil.
func newPollset(n int, acceptable func()) (*pollset, error) {
	ps := &pollset{}
	for i := range n {
		p, err := poller.New()
		if err != nil {
			ps.stop()
			return nil, err
		}
		w, err := newWaiter(p)
		if err != nil {
			p.Close()
			ps.stop()
			return nil, err
		}
		l := &pollLoop{p: p, lot: newLot(p, n, i), wait: w, acceptable: acceptable, done: make(chan struct{})}
		ps.loops = append(ps.loops, l)
		go l.run()
	}
	return ps, nil
}

// lotFor returns the lot that holds fd's registrations.
func (ps *pollset) lotFor(fd int) *lot { return ps.loops[fd%len(ps.loops)].lot }

// addPersistent registers fd, edge-triggered and for good, on the first loop:
// its events go to the acceptable handler. Key generation 0 keeps them apart
// from lot registrations, whose generations start at 1.
func (ps *pollset) addPersistent(fd int) error {
	return ps.loops[0].p.Add(fd, poller.MakeKey(fd, 0), poller.Readable)
}

// closeLots closes every lot and returns their registrations for the owner
// to release; later watches fail.
func (ps *pollset) closeLots() []report {
	var out []report
	for _, l := range ps.loops {
		out = append(out, l.lot.close()...)
	}
	return out
}

// stop ends the loops, waits for them and closes their pollers.
func (ps *pollset) stop() {
	for _, l := range ps.loops {
		l.stop.Store(true)
		l.p.Wake()
	}
	for _, l := range ps.loops {
		<-l.done
		l.wait.close()
		l.p.Close()
	}
}

func (l *pollLoop) run() {
	defer close(l.done)
	events := make([]poller.Event, 256)
	var reports []report
	for !l.stop.Load() {
		n, err := l.wait.wait(l.p, events, &l.stop)
		if err != nil {
			return // only a broken poller fails here; Close still works
		}
		evs := events[:0]
		for _, ev := range events[:n] {
			if _, gen := poller.SplitKey(ev.Key); gen == 0 {
				if l.acceptable != nil {
					l.acceptable()
				}
				continue
			}
			evs = append(evs, ev)
		}
		if len(evs) > 0 {
			reports = l.lot.dispatch(evs, reports)
		}
	}
}

// The shared pollset of Conns waiting in OnReadable, started by the first
// wait and stopped when the last Conn that used it is gone, so that an idle
// process keeps no poll goroutine and no poller fd.
var shared struct {
	mu   sync.Mutex
	set  *pollset
	refs int
}

// acquireSharedPollset returns the shared pollset and counts one more user.
func acquireSharedPollset() (*pollset, error) {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.set == nil {
		ps, err := newPollset(defaultPollers(), nil)
		if err != nil {
			return nil, err
		}
		shared.set = ps
	}
	shared.refs++
	return shared.set, nil
}

// releaseSharedPollset counts one user less; the last one stops the set.
func releaseSharedPollset() {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	shared.refs--
	if shared.refs == 0 {
		shared.set.closeLots()
		shared.set.stop()
		shared.set = nil
	}
}
