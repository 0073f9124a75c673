//go:build linux

package gnet

import (
	"runtime"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pollnet/pollnet/internal/sock"
	"github.com/pollnet/pollnet/internal/uring"
)

// uacceptor accepts on io_uring: one multishot accept per listener posts a
// completion with the new descriptor for every connection, without an
// accept(2) per connection. It hands connections to the loops as the
// poller's acceptor does (acceptor.dispatch).
//
// A multishot accept ends at its first error. On EMFILE and its kin the
// connection stays in the kernel's queue, so the accept is re-armed after
// internal/sock's backoff (kept per listener, reset by a success); a
// re-armed accept takes what is already queued, so no new connection is
// needed to pick it up. (The kernel reads RLIMIT_NOFILE when the accept is
// armed, not when it runs.)
type uacceptor struct {
	a     *acceptor
	ring  *uring.Ring
	waker *ringWaker
	lns   []ringListener
	cqes  []uring.CQE
}

type ringListener struct {
	armed   bool
	cancel  bool // a cancellation of its accept is submitted
	backoff sock.Backoff
	retryAt time.Time // re-arm not before (after a resource error)
}

// user_data of the acceptor's SQEs: listener index + 1; 0 is the waker,
// ^0 a cancellation.
const (
	accWake   = 0
	accCancel = ^uint64(0)
)

func newRingAcceptor(a *acceptor) (ringAcceptor, error) {
	r, err := newRing(64, 0)
	if err != nil {
		return nil, err
	}
	w, err := newRingWaker()
	if err != nil {
		r.Close()
		return nil, err
	}
	return &uacceptor{a: a, ring: r, waker: w, lns: make([]ringListener, len(a.listeners)),
		cqes: make([]uring.CQE, 64)}, nil
}

func (u *uacceptor) wakeup() { u.waker.wake() }

func (u *uacceptor) run() {
	runtime.LockOSThread() // the ring's one submitter
	defer runtime.UnlockOSThread()
	a := u.a
	if err := u.ring.Enable(); err != nil {
		a.eng.fail(err)
		return
	}
	defer u.drain()
	for !a.quit.Load() {
		timeout := u.arm(time.Now())
		u.waker.arm(u.ring, accWake)
		if err := u.ring.SubmitAndWait(timeout); err != nil {
			a.eng.fail(err)
			return
		}
		for _, c := range u.cqes[:u.ring.Reap(u.cqes)] {
			if a.quit.Load() {
				u.closeAccepted(c)
				continue
			}
			u.handle(c)
		}
	}
}

// arm (re-)arms the accepts that are not in flight and whose backoff is
// over; it returns how long to wait for the next backoff to end (-1: none).
func (u *uacceptor) arm(now time.Time) time.Duration {
	timeout := time.Duration(-1)
	for i := range u.lns {
		st := &u.lns[i]
		if st.armed {
			continue
		}
		if d := st.retryAt.Sub(now); d > 0 {
			if timeout < 0 || d < timeout {
				timeout = d
			}
			continue
		}
		s := u.ring.NextSQE()
		if s == nil {
			return 0
		}
		s.PrepAcceptMultishot(u.a.listeners[i].fds[0], unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, uint64(i)+1)
		st.armed, st.cancel = true, false
	}
	return timeout
}

func (u *uacceptor) handle(c uring.CQE) {
	switch c.UserData {
	case accWake:
		u.waker.fired()
		return
	case accCancel:
		return
	}
	i := int(c.UserData - 1)
	st, ln := &u.lns[i], u.a.listeners[i]
	if c.Flags&uring.CQEFMore == 0 {
		st.armed = false
	}
	if c.Res >= 0 {
		fd := int(c.Res)
		sa, _ := syscall.Getpeername(fd) // nil if the peer is already gone: the address stays empty
		u.a.dispatch(ln, fd, sa)
		st.backoff.Reset()
		st.retryAt = time.Time{}
		return
	}
	switch err := unix.Errno(-c.Res); {
	case err == unix.EINTR || err == unix.ECONNABORTED || err == unix.ECONNRESET || err == unix.EPROTO || err == unix.ECANCELED:
		return // re-armed at once if it ended
	case sock.IsResourceError(err):
		if h := testHooks; h != nil {
			h.acceptErrors.Add(1)
		}
		u.a.eng.logf("warn", "gnet: accept: %v; retrying after a backoff", err)
	default:
		u.a.eng.logf("error", "gnet: accept: %v", err)
	}
	st.retryAt = time.Now().Add(st.backoff.Next())
	if st.armed && !st.cancel { // still armed: stop it until the backoff ends
		if s := u.ring.NextSQE(); s != nil {
			s.PrepCancel(c.UserData, 0, accCancel)
			st.cancel = true
		}
	}
}

// closeAccepted closes a connection accepted while the engine stops.
func (u *uacceptor) closeAccepted(c uring.CQE) {
	switch c.UserData {
	case accWake:
		u.waker.fired()
	case accCancel:
	default:
		if c.Flags&uring.CQEFMore == 0 {
			u.lns[c.UserData-1].armed = false
		}
		if c.Res >= 0 {
			sockClose(int(c.Res))
		}
	}
}

// drain cancels the accepts and the wake-up read and waits (bounded) for
// their last completions, closing connections accepted meanwhile.
func (u *uacceptor) drain() {
	if s := u.ring.NextSQE(); s != nil {
		s.PrepCancel(0, uring.CancelAny|uring.CancelAll, accCancel)
	}
	busy := func() bool {
		for _, st := range u.lns {
			if st.armed {
				return true
			}
		}
		return u.waker.armed
	}
	for deadline := time.Now().Add(drainTimeout); busy() && time.Now().Before(deadline); {
		if u.ring.SubmitAndWait(100*time.Millisecond) != nil {
			return
		}
		for _, c := range u.cqes[:u.ring.Reap(u.cqes)] {
			u.closeAccepted(c)
		}
	}
}

func (u *uacceptor) close() {
	u.ring.Close()
	u.waker.close()
}
