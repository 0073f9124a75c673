//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// waitState is a Conn's registration on a pollnet poller while it waits to
// become readable, detached from the runtime poller (socket.go):
//
//	modeNone         not waiting. The fd may keep a disabled one-shot
//	                 registration from an earlier wait (registered), which
//	                 the next wait re-arms with one system call.
//	modeReadable     OnReadable: fn runs, in a new goroutine, once the socket
//	                 is readable, at end of stream or error, or at the read
//	                 deadline. Registered on the shared pollset.
//	modeGrace        net/http's idle Read waits out the grace period on the
//	                 hub's pollset (hibernate.go, graceDetached).
//	modeReadWait     a Read of a detached Conn waits on the hub's pollset
//	                 (Conn.waitDetached), with the read deadline.
//	modeParkPending  the Read returned the parking io.EOF; the registration
//	                 (if armed) waits for the park to take it. An event
//	                 meanwhile is kept in fired: the park then serves it.
//	modeParked       hibernating with the Conn kept (the server has hooks
//	                 that must see one Conn per TCP connection): when the
//	                 next request comes the hub hands this Conn to Accept.
//
// Transitions happen under mu. A detach asked for by a wait while calls are
// in flight happens when the last call ends (finishDetach); the
// registration then moves to the new fd.
type waitState struct {
	c   *Conn
	mu  sync.Mutex
	fn  func()       // modeReadable
	srv *serverHooks // the server's hooks, when its parks keep this Conn (hibernate_hooks.go)

	set *pollset // where fd is registered; nil: nowhere
	lot *lot
	ext *waitExt // what few Conns need, made on first use (under mu)
	fd  int
	gen uint32 // the armed registration's generation; 0: not armed

	prefixed atomic.Bool // ext.prefix holds bytes: Read looks there first

	mode       waitMode
	firedWhy   readyReason // what it reported
	fired      bool        // modeGrace, modeReadWait, modeParkPending: the registration reported
	registered bool        // the kernel holds a registration of fd (maybe disabled)
	shared     bool        // set is the shared pollset, and we count as its user
	closed     bool
}

// waitExt holds what only kept parks and unhijacked Conns need, so that a
// Conn waiting in OnReadable carries none of it.
type waitExt struct {
	keeper       keeper          // the layer that owns the Conn from above (hub.go); set before it is first queued
	parkDeadline int64           // modeParked: the idle deadline net/http set (unix ns; 0: none)
	parkedAt     int64           // modeParked: when it parked (unix ns)
	prefix       []byte          // given back by Unhijack: read before the socket
	ctx          context.Context // ConnContext's result, kept across parks (hibernate_hooks.go)
	// newPending: a kept Conn woke and goes back to Accept; the StateNew
	// net/http then reports is not shown to the server's hooks.
	newPending bool
}

// hooks returns the server's hooks of a kept Conn, or nil (also for a nil
// waitState).
func (w *waitState) hooks() *serverHooks {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.srv
}

// markNew and takeNew set and consume newPending.
func (w *waitState) markNew() {
	w.mu.Lock()
	w.x().newPending = true
	w.mu.Unlock()
}

func (w *waitState) takeNew() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ext == nil || !w.ext.newPending {
		return false
	}
	w.ext.newPending = false
	return true
}

// keeper returns the Conn's keeper, or nil.
func (c *Conn) keeper() keeper {
	w := c.wait.Load()
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ext == nil {
		return nil
	}
	return w.ext.keeper
}

// x returns the waitState's extension, making it. Called with mu held.
func (w *waitState) x() *waitExt {
	if w.ext == nil {
		w.ext = new(waitExt)
	}
	return w.ext
}

type waitMode uint8

const (
	modeNone waitMode = iota
	modeReadable
	modeGrace
	modeReadWait
	modeParkPending
	modeParked
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
	if w.ext != nil && len(w.ext.prefix) > 0 { // bytes given back by Unhijack: readable now
		go fn()
		return nil
	}
	if c.sock.state.Load()&sockPinned != 0 {
		return waitWithGoroutine(c, fn) // the program holds the file's RawConn
	}
	// An accepted Conn waits on its listener's pollset, where it may
	// already be registered; it moves to the shared one if the listener
	// closes (listenerClosed), as it outlives the listener.
	if h := c.hub; h != nil && !h.closed.Load() {
		if w.set != h.set {
			w.leaveSet()
			w.set = h.set
		}
	} else if err := w.joinShared(); err != nil {
		return c.opError("wait", err)
	}
	w.setMode(modeReadable)
	w.fn = fn
	err := w.detachAndArm()
	if err == errLotClosed { // the listener closed meanwhile
		if err = w.joinShared(); err == nil {
			err = w.armLocked()
		}
	}
	if err != nil {
		w.setMode(modeNone)
		w.fn = nil
		return c.opError("wait", err)
	}
	return nil
}

// joinShared moves the Conn's registrations to the shared pollset. Called
// with mu held.
func (w *waitState) joinShared() error {
	if w.shared {
		return nil
	}
	ps, err := acquireSharedPollset()
	if err != nil {
		return err
	}
	w.leaveSet()
	w.set, w.shared = ps, true
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
	if w.registered && w.fd == int(s.fd) {
		if w.gen != 0 {
			w.lot.unwatch(w.fd, w.gen)
			w.gen = 0
		}
		w.lot.forget(w.fd)
		w.registered = false
	}
	return s.detach()
}

// armLocked arms a one-shot registration of the socket's current fd on
// w.set, with the deadline of the mode. Called with mu held.
func (w *waitState) armLocked() error {
	fd := int(w.c.sock.fd)
	l := w.set.lotFor(fd)
	rearm := w.registered && w.fd == fd && w.lot == l
	if !rearm && w.registered {
		// A registration of an older fd number of this socket, or on
		// another pollset: remove it.
		w.lot.forget(w.fd)
		w.registered = false
	}
	var deadline int64
	switch w.mode {
	case modeReadable, modeReadWait:
		deadline = w.c.sock.rdl.Load()
	case modeParked:
		deadline = w.x().parkDeadline
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
	armed := w.gen != 0
	if err := w.detachLocked(); err != nil || !armed {
		w.mu.Unlock()
		return
	}
	if err := w.armLocked(); err != nil {
		w.failLocked() // unlocks
		return
	}
	w.mu.Unlock()
}

// failLocked ends a wait whose registration failed (out of kernel memory,
// or the listener closed): the waiter is told at once, as for an error on
// the socket, and finds the error itself when it reads. Called with mu
// held; releases it.
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
	switch w.mode {
	case modeGrace, modeReadWait, modeParkPending:
		w.fired, w.firedWhy = true, why
		wake := w.mode != modeParkPending
		w.mu.Unlock()
		if wake {
			w.c.idle.signal()
		}
		return
	}
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
		if !w.c.sock.closed() { // Close began: the wait is over, fn does not run
			go fn()
		}
	case modeParked:
		w.mode = modeNone
		parkedFor := time.Now().UnixNano() - w.x().parkedAt
		w.mu.Unlock()
		w.c.hub.wakeKept(w.c, why, time.Duration(parkedFor))
	default:
		w.mu.Unlock()
	}
}

// listenerClosed is told that the hub's pollset closed under the
// registration: a Conn waiting in OnReadable goes on waiting on the shared
// pollset, a kept parked Conn closes, a Read waiting there goes on waiting
// in the runtime poller (accepted connections outlive their listener, as
// with std), a pending park will close.
func (w *waitState) listenerClosed() {
	w.mu.Lock()
	mode := w.mode
	w.gen, w.registered = 0, false
	switch mode {
	case modeParked:
		w.setMode(modeNone)
	case modeReadable:
		err := w.joinShared()
		if err == nil {
			err = w.armLocked()
		}
		if err != nil {
			w.failLocked() // fn runs and its Read finds what is there; unlocks
			return
		}
	}
	w.mu.Unlock()
	switch mode {
	case modeParked:
		w.c.hub.closeKept(w.c, nil)
	case modeGrace, modeReadWait: // the Read goes on in the runtime poller
		w.c.idle.signal()
	}
}

// clearParkPending drops what a parking EOF left for a park that did not
// come: the Conn went on and is idle again.
func (w *waitState) clearParkPending() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.mode == modeParkPending {
		w.disarmLocked()
		w.fired = false
		w.setMode(modeNone)
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
	if w.mode == modeReadWait || w.mode == modeGrace {
		defer w.c.idle.signal() // the waiting Read finds the Conn closed
	}
	w.disarmLocked()
	w.setMode(modeNone)
	w.fn = nil
	w.registered = false
	w.leaveSet()
}

// leaveSet forgets the pollset the Conn waited on, removing its
// registration there, and stops counting as a user of the shared pollset.
func (w *waitState) leaveSet() {
	if w.registered && w.lot != nil {
		w.lot.forget(w.fd)
	}
	if w.shared {
		releaseSharedPollset()
	}
	w.set, w.lot, w.shared, w.registered, w.gen = nil, nil, false, false, 0
}

// deadlineChanged moves a waiting Conn's read deadline.
func (w *waitState) deadlineChanged(deadline int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.gen != 0 && (w.mode == modeReadable || w.mode == modeReadWait) {
		w.lot.setDeadline(w.fd, w.gen, deadline)
	}
}

// takePrefix reads bytes given back by Unhijack.
func (w *waitState) takePrefix(p []byte) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	x := w.ext
	if x == nil || len(x.prefix) == 0 {
		return 0
	}
	n, empty := drain(p, &x.prefix)
	if empty {
		w.prefixed.Store(false)
	}
	return n
}

// drain reads bytes held above the socket (Unhijack's prefix, what a TLS
// view took from crypto/tls) into p, dropping what it copied; empty reports
// that none are left, and the slice is then released. The holder's lock
// guards *held.
func drain(p []byte, held *[]byte) (n int, empty bool) {
	n = copy(p, *held)
	*held = (*held)[n:]
	if len(*held) > 0 {
		return n, false
	}
	*held = nil
	return n, true
}
