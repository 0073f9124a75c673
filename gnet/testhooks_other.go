//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package gnet

// ringHooks: io_uring's test hooks, Linux only.
type ringHooks struct{}

func (*ringHooks) longestStreak() int { return 0 }
