//go:build darwin || dragonfly || freebsd || openbsd

package poller

import "golang.org/x/sys/unix"

// evOneShot disables a filter after one report; EV_ENABLE (with EV_ADD) re-arms it.
const evOneShot = unix.EV_DISPATCH
