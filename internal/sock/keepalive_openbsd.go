//go:build openbsd

package sock

import (
	"time"

	"golang.org/x/sys/unix"
)

// SetKeepAliveTimes: OpenBSD has no per-socket keep-alive times (as std net says).
func SetKeepAliveTimes(fd int, idle, interval time.Duration, count int) error {
	if idle < 0 && interval < 0 && count < 0 {
		return nil
	}
	return unix.ENOPROTOOPT
}
