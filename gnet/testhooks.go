//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package gnet

import (
	"sync"
	"sync/atomic"

	"github.com/pollnet/pollnet/internal/sock"
)

// Test hooks: the only state in the package that exists for tests. In a
// program testHooks stays nil and sysAccept is sock.Accept; the hooks sit
// on cold paths only (the backlog, accept), so the hot paths (reads, writes,
// buffers) carry nothing for the tests.

// sysAccept is the acceptor's accept call; tests replace it to inject
// EMFILE and count attempts.
var sysAccept = sock.Accept

// testHooks, when a test sets it, counts the events the tests assert on.
var testHooks *hooks

type hooks struct {
	backlogTurns atomic.Int64 // sockets served from a loop's backlog (io_uring: receives re-armed after the buffer ring ran out)
	acceptErrors atomic.Int64 // accepts failed for lack of descriptors or memory
	zombieInput  atomic.Int64 // io_uring: input completions for a finished connection (dropped)

	// io_uring: consecutive re-arms of a receive that got nothing because
	// the buffer ring ran out, per connection, and the longest such streak.
	mu        sync.Mutex
	streak    map[*conn]int
	maxStreak int
}

// starved records a receive that ended for lack of buffers; fed says
// whether it got input since it was armed.
func (h *hooks) starved(c *conn, fed bool) {
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

func (h *hooks) backlogTurn(*eventloop) { h.backlogTurns.Add(1) }
