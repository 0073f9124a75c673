//go:build openbsd

package gnet

import (
	"time"

	"golang.org/x/sys/unix"
)

// setKeepAlive: OpenBSD has no per-socket keep-alive timing; only the
// on/off switch is applied.
func setKeepAlive(fd int, on bool, _, _ time.Duration, _ int) error {
	v := 0
	if on {
		v = 1
	}
	return unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_KEEPALIVE, v)
}
