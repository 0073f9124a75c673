//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"context"
	"runtime"
	"time"
)

// defaultKeepAlive is std net's default TCP keep-alive period for accepted and
// dialed connections.
const defaultKeepAlive = 15 * time.Second

func (lc *ListenConfig) pollers() int {
	if lc.Pollers > 0 {
		return lc.Pollers
	}
	return defaultPollers()
}

// defaultPollers is one poller per four CPUs of GOMAXPROCS, at least one.
func defaultPollers() int { return max(1, runtime.GOMAXPROCS(0)/4) }

func (lc *ListenConfig) idleGrace() time.Duration {
	if lc.IdleGrace == 0 {
		return DefaultIdleGrace
	}
	return lc.IdleGrace
}

// dialContext applies the Dialer's Timeout and Deadline to ctx.
func (d *Dialer) dialContext(ctx context.Context) (context.Context, context.CancelFunc) {
	deadline := d.Deadline
	if d.Timeout > 0 {
		if t := time.Now().Add(d.Timeout); deadline.IsZero() || t.Before(deadline) {
			deadline = t
		}
	}
	if deadline.IsZero() {
		return context.WithCancel(ctx)
	}
	return context.WithDeadline(ctx, deadline)
}
