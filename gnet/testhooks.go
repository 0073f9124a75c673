//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package gnet

import (
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

	ringHooks // io_uring's (testhooks_linux.go)
}

func (h *hooks) backlogTurn(*eventloop) { h.backlogTurns.Add(1) }
