//go:build linux || darwin || dragonfly || freebsd || netbsd

package sock

import (
	"time"

	"golang.org/x/sys/unix"
)

// SetKeepAliveTimes sets the idle time, probe interval and probe count of TCP
// keep-alive. A negative value leaves that setting unchanged.
func SetKeepAliveTimes(fd int, idle, interval time.Duration, count int) error {
	for _, o := range []struct {
		opt int
		val int
	}{{tcpKeepIdle, secs(idle)}, {unix.TCP_KEEPINTVL, secs(interval)}, {unix.TCP_KEEPCNT, count}} {
		if o.val < 0 {
			continue
		}
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, o.opt, o.val); err != nil {
			return err
		}
	}
	return nil
}

// secs rounds a positive duration up to whole seconds (the kernel's unit).
func secs(d time.Duration) int {
	if d < 0 {
		return -1
	}
	return int((d + time.Second - 1) / time.Second)
}
