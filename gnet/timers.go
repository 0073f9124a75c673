//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package gnet

import "github.com/pollnet/pollnet/internal/timeheap"

// Each loop has one min-heap of connection expiries (internal/timeheap, the
// heap the root package's parking lot uses too): no Go timer per
// connection. A connection is in the heap at most once, keyed by its
// earliest possible expiry (read deadline, write deadline, idle limit), and
// c.heapIdx is its position (timeheap.NotInHeap when absent).
//
// The idle limit is kept lazily: a read only stores the loop clock in
// c.lastActive, which costs nothing on the hot path; when the heap entry
// comes due, fireTimers recomputes the real expiry and either closes the
// connection or pushes it back. The loop's poll timeout is the heap top.

type timerHeap = timeheap.Heap[*conn]

func newTimerHeap() timerHeap {
	return timeheap.New(func(c *conn, i int32) { c.heapIdx = i })
}

// expiry returns c's earliest expiry (0: none) and the error it closes with.
func (l *eventloop) expiry(c *conn) (int64, error) {
	var when int64
	var err error
	consider := func(t int64, e error) {
		if t != 0 && (when == 0 || t < when) {
			when, err = t, e
		}
	}
	if x := c.x; x != nil {
		consider(x.rdl, errReadDeadline)
		consider(x.wdl, errWriteDeadline)
	}
	if d := l.eng.opts.IdleTimeout; d > 0 {
		consider(c.lastActive+int64(d), ErrIdleTimeout)
	}
	return when, err
}

// schedule puts c in the heap at its current expiry (or takes it out).
func (l *eventloop) schedule(c *conn) {
	when, _ := l.expiry(c)
	switch {
	case c.heapIdx != timeheap.NotInHeap && when == 0:
		l.timers.Remove(c.heapIdx)
	case c.heapIdx != timeheap.NotInHeap:
		l.timers.Fix(c.heapIdx, when)
	case when != 0:
		l.timers.Push(when, c)
	}
}

func (l *eventloop) unschedule(c *conn) {
	if c.heapIdx != timeheap.NotInHeap {
		l.timers.Remove(c.heapIdx)
	}
}

// fireTimers handles every entry that is due.
func (l *eventloop) fireTimers() {
	for {
		due, c, ok := l.timers.Min()
		if !ok || due > l.now {
			return
		}
		l.timers.Remove(0)
		when, err := l.expiry(c)
		switch {
		case when == 0:
		case when > l.now:
			l.schedule(c)
		case err == errWriteDeadline && c.out == nil:
			// No output pending: the deadline has nothing to cut and is
			// cleared (documented difference from net.Conn).
			c.x.wdl = 0
			l.schedule(c)
		default:
			l.endConn(c, err)
		}
	}
}
