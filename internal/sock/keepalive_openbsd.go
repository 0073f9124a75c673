//go:build openbsd

package pollnet

import (
	"time"

	"golang.org/x/sys/unix"
)

// setKeepAliveTimes: OpenBSD has no per-socket keep-alive times (as std net says).
func setKeepAliveTimes(fd int, idle, interval time.Duration, count int) error {
	if idle < 0 && interval < 0 && count < 0 {
		return nil
	}
	return unix.ENOPROTOOPT
}
