//go:build darwin

package pollnet

import "golang.org/x/sys/unix"

// darwin names the keep-alive idle time TCP_KEEPALIVE.
const tcpKeepIdle = unix.TCP_KEEPALIVE
