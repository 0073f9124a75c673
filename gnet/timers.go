//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package gnet

// Each loop has one binary min-heap of connection expiries: no Go timer per
// connection. A connection is in the heap at most once, keyed by its
// earliest possible expiry (read deadline, write deadline, idle limit).
//
// The idle limit is kept lazily: a read only stores the loop clock in
// c.lastActive, which costs nothing on the hot path; when the heap entry
// comes due, check recomputes the real expiry and either closes the
// connection or pushes it back. The loop's poll timeout is the heap top.

type timerEntry struct {
	when int64
	c    *conn
}

type timerHeap []timerEntry

func (h timerHeap) less(i, j int) bool { return h[i].when < h[j].when }

func (h timerHeap) swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].c.heapIdx = int32(i)
	h[j].c.heapIdx = int32(j)
}

func (h timerHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(i, p) {
			break
		}
		h.swap(i, p)
		i = p
	}
}

func (h timerHeap) down(i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && h.less(r, l) {
			m = r
		}
		if !h.less(m, i) {
			return
		}
		h.swap(i, m)
		i = m
	}
}

func (h *timerHeap) remove(i int) {
	old := *h
	last := len(old) - 1
	old[i].c.heapIdx = -1
	if i != last {
		old[i] = old[last]
		old[i].c.heapIdx = int32(i)
	}
	old[last] = timerEntry{}
	*h = old[:last]
	if i != last {
		h.down(i)
		h.up(i)
	}
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
	if c.heapIdx >= 0 {
		if when == 0 {
			l.timers.remove(int(c.heapIdx))
			return
		}
		l.timers[c.heapIdx].when = when
		l.timers.down(int(c.heapIdx))
		l.timers.up(int(c.heapIdx))
		return
	}
	if when == 0 {
		return
	}
	l.timers = append(l.timers, timerEntry{when, c})
	c.heapIdx = int32(len(l.timers) - 1)
	l.timers.up(len(l.timers) - 1)
}

func (l *eventloop) unschedule(c *conn) {
	if c.heapIdx >= 0 {
		l.timers.remove(int(c.heapIdx))
	}
}

// fireTimers handles every entry that is due.
func (l *eventloop) fireTimers() {
	for len(l.timers) > 0 && l.timers[0].when <= l.now {
		c := l.timers[0].c
		l.timers.remove(0)
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
			l.finish(c, err)
		}
	}
}
