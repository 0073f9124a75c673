//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package poller

import "sync/atomic"

// wakeState coalesces Wake calls: only the first Wake after a Wait writes to
// the wake descriptor (one syscall however many goroutines call Wake).
type wakeState struct{ pending atomic.Bool }

// claim reports whether this caller must write the wake-up.
func (w *wakeState) claim() bool { return w.pending.CompareAndSwap(false, true) }

// reset re-allows wake-ups; the owner calls it after draining the wake descriptor.
func (w *wakeState) reset() { w.pending.Store(false) }
