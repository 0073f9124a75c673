package sock

import "time"

// The accept backoff: when accept fails because the process or system is out
// of descriptors or memory (see IsResourceError), the pending connection
// stays in the kernel's queue and an edge-triggered listener raises no new
// edge for it. Retrying at once would spin; waiting for an edge would strand
// it. So both faces retry after a delay that starts at BackoffMin, doubles
// up to BackoffMax, and resets after a successful accept.
//
// The bounds: 5 ms first, as net/http's Server does, because descriptors
// come back when connections close, at millisecond scale; at most 500 ms, so
// a freed descriptor is used within half a second, at a cost of two failed
// accept calls a second while the shortage lasts. (Before this was shared,
// the root package used 5 ms to 1 s and gnet/ 1 ms to 500 ms.)
const (
	BackoffMin = 5 * time.Millisecond
	BackoffMax = 500 * time.Millisecond
)

// Backoff is the delay state of one accept loop. The zero value is ready:
// no failure yet.
type Backoff struct{ d time.Duration }

// Next records a failure and returns how long to wait before retrying.
func (b *Backoff) Next() time.Duration {
	b.d = min(max(2*b.d, BackoffMin), BackoffMax)
	return b.d
}

// Reset records a success (or an empty queue): the next failure waits
// BackoffMin again.
func (b *Backoff) Reset() { b.d = 0 }

// Current is the delay Next returned last, 0 after Reset.
func (b *Backoff) Current() time.Duration { return b.d }
