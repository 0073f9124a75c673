//go:build linux

package gnet

import "sync"

// ringHooks counts, per connection, consecutive re-arms of an io_uring
// receive that got nothing because the buffer ring ran out, and keeps the
// longest such streak.
type ringHooks struct {
	mu        sync.Mutex
	streak    map[*conn]int
	maxStreak int
}

// starved records a receive that ended for lack of buffers; fed says
// whether it got input since it was armed.
func (h *ringHooks) starved(c *conn, fed bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.streak == nil {
		h.streak = make(map[*conn]int)
	}
	if fed {
		delete(h.streak, c)
		return
	}
	h.streak[c]++
	h.maxStreak = max(h.maxStreak, h.streak[c])
}

// longestStreak is the most consecutive re-arms of one receive that got
// nothing.
func (h *ringHooks) longestStreak() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.maxStreak
}
