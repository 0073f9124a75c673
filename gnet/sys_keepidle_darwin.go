//go:build darwin

package gnet

import "golang.org/x/sys/unix"

const tcpKeepIdle = unix.TCP_KEEPALIVE
