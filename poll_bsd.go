//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"sync/atomic"

	"github.com/pollnet/pollnet/internal/poller"
)

// waiter blocks the poll loop's goroutine in kevent. (Waiting for the kqueue
// in the runtime's netpoller, as on Linux, is untested on the BSDs: not done.)
type waiter struct{}

func newWaiter(*poller.Poller) (waiter, error) { return waiter{}, nil }

func (waiter) wait(p *poller.Poller, events []poller.Event, _ *atomic.Bool) (int, error) {
	return p.Wait(events, -1)
}

func (waiter) close() {}
