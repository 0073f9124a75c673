//go:build dragonfly || freebsd || netbsd

package gnet

import "golang.org/x/sys/unix"

const tcpKeepIdle = unix.TCP_KEEPIDLE
