//go:build linux || darwin || dragonfly || freebsd || netbsd

package gnet

import (
	"time"

	"golang.org/x/sys/unix"
)

// setKeepAlive turns TCP keep-alive on or off; intvl defaults to idle/5 and
// cnt to 5, as in gnet v2. Durations are rounded up to whole seconds.
func setKeepAlive(fd int, on bool, idle, intvl time.Duration, cnt int) error {
	if !on {
		return unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_KEEPALIVE, 0)
	}
	if intvl <= 0 {
		intvl = idle / 5
	}
	if cnt <= 0 {
		cnt = 5
	}
	secs := func(d time.Duration) int { return max(1, int((d+time.Second-1)/time.Second)) }
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_KEEPALIVE, 1); err != nil {
		return err
	}
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, tcpKeepIdle, secs(idle)); err != nil {
		return err
	}
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_KEEPINTVL, secs(intvl)); err != nil {
		return err
	}
	return unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_KEEPCNT, cnt)
}
