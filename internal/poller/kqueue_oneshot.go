//go:build netbsd

package poller

import "golang.org/x/sys/unix"

// evOneShot: NetBSD has no EV_DISPATCH; EV_ONESHOT deletes the filter after
// one report instead, and Modify's EV_ADD adds it again. Remove of a deleted
// filter meets ENOENT, which apply ignores.
const evOneShot = unix.EV_ONESHOT
