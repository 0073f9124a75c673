//go:build linux || dragonfly || freebsd || netbsd

package sock

import "golang.org/x/sys/unix"

const tcpKeepIdle = unix.TCP_KEEPIDLE
