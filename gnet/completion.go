//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package gnet

import (
	"errors"
	"fmt"
	"time"
)

// A loop talks to the kernel in one of two ways. On the poller (epoll or
// kqueue: readiness) the loop itself reads, writes and accepts once the
// poller says a socket is ready: eventloop.go, outbound.go, acceptor.go,
// linger.go. On io_uring (completion) the kernel performs the I/O the loop
// submitted and reports the results; the loop hands them to the same
// callbacks, buffers and timers. That half lives behind ringLoop and
// ringAcceptor (uring_linux.go, uring_accept_linux.go); a loop whose ur is
// nil, or an acceptor whose ur is nil, runs on the poller.

// ringLoop is a loop's completion backend. Its methods run on the loop's
// goroutine, except wakeup (any goroutine) and close (after the loop exited).
type ringLoop interface {
	start() error                      // first thing on the loop's (locked) thread
	wakeup() error                     // make a blocked enter return
	enter(timeout time.Duration) error // submit this turn's work, wait for completions
	complete() int                     // hand the completions to the loop; how many brought input
	open(c *conn)                      // c is registered: start receiving
	want(c *conn)                      // c's output or pause state changed: sync at the next enter
	resume(c *conn)                    // c is served from the backlog (unpaused or cut off)
	retire(c *conn, fin bool)          // c is finished: FIN and linger (fin) or abort
	forget(s *conn)                    // a UDP listener's socket leaves the loop (not closed)
	unlinger(fd int)                   // fd's linger is over: close once its operations end
	drain()                            // the loop exits: cancel everything, wait for the ends
	close()                            // release the ring
}

// ringAcceptor is the acceptor's completion backend.
type ringAcceptor interface {
	run()
	wakeup()
	close()
}

// forceIOUring makes every engine ask for io_uring, as WithIOUring(true)
// does. The package's tests set it to run the whole suite on both backends.
var forceIOUring bool

func (eng *engine) backendInfo() (Backend, error) { return eng.backend, eng.ringErr }

var errTooManyRingLoops = errors.New("more than 10,000 loops: io_uring needs an OS thread per loop")

// makeLoops opens the loops on io_uring when asked to and possible, else on
// the poller, and builds the load balancer.
func (eng *engine) makeLoops() error {
	n := numLoops(eng.opts)
	if eng.opts.LockOSThread && n > 10000 {
		return ErrTooManyEventLoopThreads
	}
	eng.backend = pollerBackend
	if eng.opts.IOUring || forceIOUring {
		eng.backend = BackendIOUring
		err := errTooManyRingLoops
		if n <= 10000 { // each loop locks an OS thread, as WithLockOSThread does
			err = eng.openLoops(n)
		}
		if err == nil {
			eng.newBalancer()
			return nil
		}
		eng.ringErr = fmt.Errorf("%w: %w", ErrIOUringUnavailable, err)
		eng.logf("warn", "gnet: %v", eng.ringErr)
		eng.backend = pollerBackend
	}
	if err := eng.openLoops(n); err != nil {
		return err
	}
	eng.newBalancer()
	return nil
}

// openLoops opens n loops on eng.backend and puts the sockets of UDP
// listeners on them; on failure it closes those it opened.
func (eng *engine) openLoops(n int) error {
	fail := func(err error) error {
		eng.closeLoops()
		eng.loops = nil
		return err
	}
	for i := range n {
		l, err := newEventLoop(eng, i)
		if err != nil {
			return fail(err)
		}
		eng.loops = append(eng.loops, l)
	}
	for _, ln := range eng.listeners {
		if ln.kind != kindUDP {
			continue
		}
		for i, fd := range ln.fds {
			if err := eng.loops[i%n].addDatagramSocket(ln, fd); err != nil {
				return fail(err)
			}
		}
	}
	return nil
}

func (eng *engine) newBalancer() {
	lb := eng.opts.LB
	if eng.isClient {
		lb = LeastConnections // as gnet v2's client does
	}
	eng.lb = newLoadBalancer(lb, eng.loops)
}

// wakeup makes the loop's wait return.
func (l *eventloop) wakeup() error {
	if l.ur != nil {
		return l.ur.wakeup()
	}
	return l.p.Wake()
}

// closeBackend releases the loop's poller or ring.
func (l *eventloop) closeBackend() {
	if l.ur != nil {
		l.ur.close()
		return
	}
	l.p.Close()
}
