//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package gnet

import (
	"time"

	"github.com/pollnet/pollnet/internal/sock"
	"golang.org/x/sys/unix"
)

// setKeepAlive turns TCP keep-alive on or off; intvl defaults to idle/5 and
// cnt to 5, as in gnet v2. Where the system has no per-socket timing
// (OpenBSD) only the switch is applied.
func setKeepAlive(fd int, on bool, idle, intvl time.Duration, cnt int) error {
	v := 0
	if on {
		v = 1
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_KEEPALIVE, v); err != nil || !on {
		return err
	}
	if intvl <= 0 {
		intvl = idle / 5
	}
	if cnt <= 0 {
		cnt = 5
	}
	err := sock.SetKeepAliveTimes(fd, max(idle, time.Second), max(intvl, time.Second), cnt)
	if err == unix.ENOPROTOOPT {
		err = nil
	}
	return err
}
