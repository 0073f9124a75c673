//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package sock

import "golang.org/x/sys/unix"

// DupCloexec duplicates fd with close-on-exec set atomically, so that a
// concurrent fork/exec never inherits the copy.
func DupCloexec(fd int) (int, error) {
	return unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
}
