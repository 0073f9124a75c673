//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
)

// waitState is a Conn's registration on a pollnet poller while it waits to
// become readable, detached from the runtime poller (socket.go):
//
//	modeNone      not waiting. The fd may keep a disabled one-shot
//	              registration from an earlier wait (registered), which the
//	              next wait re-arms with one system call.
//	modeReadable  OnReadable: fn runs, in a new goroutine, once the socket
//	              is readable, at end of stream or error, or at the read
//	              deadline. Registered on the shared pollset.
//	modeParked    hibernating with the Conn kept (the server has hooks that
//	              must see one Conn per TCP connection): when the next
//	              request comes the hub hands this Conn to Accept again.
//	              Registered on the listener's pollset.
//
// Transitions happen under mu. A detach asked for by a wait while calls are
// in flight happens when the last call ends (finishDetach); the
// registration then moves to the new fd.
type waitState struct {
	c  *Conn
	mu sync.Mutex

	mode waitMode
	fn   func() // modeReadable

	set        *pollset // where fd is registered; nil: nowhere
	lot        *lot
	fd         int
	registered bool   // the kernel holds a registration of fd (maybe disabled)
	gen        uint32 // the armed registration's generation; 0: not armed
	shared     bool   // set is the shared pollset, and we count as its user

	parkDeadline int64 // modeParked: the idle deadline net/http set (unix ns; 0: none)

	prefix []byte          // given back by Unhijack: read before the socket
	ctx    context.Context // ConnContext's result, kept across parks (serve.go)
	closed bool

	// newPending: a kept Conn woke and goes back to Accept; the StateNew
	// net/http then reports is not shown to the server's hooks.
	newPending atomic.Bool

	// keeper owns the Conn from above (hub.go); set under mu before the
	// Conn is first queued, never changed.
	keeper keeper
}

type waitMode uint8

const (
	modeNone waitMode = iota
	modeReadable
	modeParked
	modeParkPending // kept park begun at Close, registered at the StateClosed hook
)

var errAlreadyWaiting = errors.New("pollnet: OnReadable called on a connection that is already waiting")

// onReadablePolled is OnReadable for connections on pollnet's pollers.
func onReadablePolled(nc net.Conn, fn func()) (handled bool, err error) {
	c, ok := nc.(*Conn)
	if !ok {
		return false, nil
	}
	return true, c.onReadable(fn)
}

// waitState returns the Conn's wait state, making it on first use.
func (c *Conn) waitState() *waitState {
	if w := c.wait.Load(); w != nil {
		return w
	}
	w := &waitState{c: c}
	if c.wait.CompareAndSwap(nil, w) {
		return w
	}
	return c.wait.Load()
}

// keeper returns the Conn's keeper, or nil.
func (c *Conn) keeper() keeper {
	if w := c.wait.Load(); w != nil {
		return w.keeper
	}
	return nil
}

// onReadable is OnReadable for a *Conn.
func (c *Conn) onReadable(fn func()) error {
	w := c.waitState()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed || c.sock.closed() {
		return c.opError("wait", net.ErrClosed)
	}
	if w.mode != modeNone {
		return errAlreadyWaiting
	}
	if c.sock.state.Load()&sockPinned != 0 {
		return waitWithGoroutine(c, fn) // the program holds the file's RawConn
	}
	if !w.shared {
		ps, err := acquireSharedPollset()
		if err != nil {
			return c.opError("wait", err)
		}
		w.leaveSet()
		w.set, w.shared = ps, true
	}
	w.setMode(modeReadable)
	w.fn = fn
	if err := w.detachAndArm(); err != nil {
		w.setMode(modeNone)
		w.fn = nil
		return c.opError("wait", err)
	}
	return nil
}

// setMode changes the mode, keeping the hub's count of waiting Conns.
// Called with mu held.
func (w *waitState) setMode(m waitMode) {
	if h := w.c.hub; h != nil && (w.mode == modeReadable) != (m == modeReadable) {
		if m == modeReadable {
			h.stats.waiting.Add(1)
		} else {
			h.stats.waiting.Add(-1)
		}
	}
	w.mode = m
}

// waiting reports whether the Conn waits in OnReadable.
func (w *waitState) waiting() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.mode == modeReadable
}

// detachAndArm detaches the socket (now, or when the last call in flight
// ends) and arms the registration of its current fd. Called with mu held.
func (w *waitState) detachAndArm() error {
	if w.c.sock.askDetach() {
		if err := w.detachLocked(); err != nil {
			return err
		}
	}
	return w.armLocked()
}

// detachLocked runs a detach whose transition the caller owns. The old fd
// closes while its duplicate lives on, so its registration is removed first.
func (w *waitState) detachLocked() error {
	s := &w.c.sock
	if w.registered && w.fd == s.fd {
		if w.gen != 0 {
			w.lot.unwatch(w.fd, w.gen)
			w.gen = 0
		}
		w.lot.forget(w.fd)
		w.registered = false
	}
	return s.detach()
}

// armLocked arms a one-shot registration of the socket's current fd, with
// the read deadline. Called with mu held.
func (w *waitState) armLocked() error {
	fd := w.c.sock.fd
	rearm := w.registered && w.fd == fd && w.lot != nil
	if !rearm && w.registered {
		// A registration of an older fd number of this socket (the fd
		// changed while the socket was attached): remove it.
		w.lot.forget(w.fd)
		w.registered = false
	}
	l := w.set.lotFor(fd)
	deadline := w.c.sock.rdl.Load()
	if w.mode == modeParked {
		deadline = w.parkDeadline
	}
	gen, err := l.watch(fd, w, 0, deadline, rearm)
	if err != nil {
		return err
	}
	w.lot, w.fd, w.registered, w.gen = l, fd, true, gen
	return nil
}

// finishDetach runs a detach that waited for the last call in flight (the
// caller owns the transition), and moves the registration to the new fd.
func (c *Conn) finishDetach() {
	w := c.wait.Load()
	w.mu.Lock()
	defer w.mu.Unlock()
	armed := w.gen != 0
	if err := w.detachLocked(); err != nil || !armed {
		return
	}
	if err := w.armLocked(); err != nil {
		w.failLocked()
	}
}

// failLocked ends a wait whose registration failed (out of kernel memory,
// or the listener closed): the waiter is told at once, as for an error on
// the socket, and finds the error itself when it reads.
func (w *waitState) failLocked() {
	w.gen = 0
	w.fire(readyHangup)
}

// ready is called by the lot when the armed registration ended.
func (w *waitState) ready(fd int, _ uint64, why readyReason) {
	w.mu.Lock()
	if w.gen == 0 || w.fd != fd {
		w.mu.Unlock()
		return
	}
	w.gen = 0 // the kernel registration stays, disabled
	w.fire(why)
}

// fire ends the wait and acts on it; it is called with mu held and
// releases it.
func (w *waitState) fire(why readyReason) {
	switch w.mode {
	case modeReadable:
		fn := w.fn
		w.setMode(modeNone)
		w.fn = nil
		w.c.sock.cancelDetach()
		w.mu.Unlock()
		go fn()
	case modeParked:
		w.mode = modeNone
		w.mu.Unlock()
		w.c.hub.wakeKept(w.c, why)
	default:
		w.mu.Unlock()
	}
}

// cancel ends a wait in OnReadable without running its function: the
// program reads on its own.
func (w *waitState) cancel() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.mode != modeReadable {
		return
	}
	w.disarmLocked()
	w.setMode(modeNone)
	w.fn = nil
	w.c.sock.cancelDetach()
}

func (w *waitState) disarmLocked() {
	if w.gen != 0 {
		w.lot.unwatch(w.fd, w.gen)
		w.gen = 0
	}
}

// closing ends any wait for good, before the socket closes (its kernel
// registration goes with the fd).
func (w *waitState) closing() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	w.disarmLocked()
	w.setMode(modeNone)
	w.fn = nil
	w.registered = false
	w.leaveSet()
}

// leaveSet leaves the pollset the Conn was registered on: the kernel
// registration a kept park left there goes, and it stops counting as a
// user of the shared pollset.
func (w *waitState) leaveSet() {
	if w.registered {
		w.lot.forget(w.fd)
		w.registered = false
	}
	if w.shared {
		releaseSharedPollset()
	}
	w.set, w.lot, w.shared = nil, nil, false
}

// deadlineChanged moves a waiting Conn's read deadline.
func (w *waitState) deadlineChanged(deadline int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.gen != 0 && w.mode == modeReadable {
		w.lot.setDeadline(w.fd, w.gen, deadline)
	}
}

// takePrefix reads bytes given back by Unhijack.
func (w *waitState) takePrefix(p []byte) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.prefix) == 0 {
		return 0
	}
	n := copy(p, w.prefix)
	w.prefix = w.prefix[n:]
	if len(w.prefix) == 0 {
		w.prefix = nil
	}
	return n
}
