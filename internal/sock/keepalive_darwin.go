//go:build darwin

package sock

import "golang.org/x/sys/unix"

// darwin names the keep-alive idle time TCP_KEEPALIVE.
const tcpKeepIdle = unix.TCP_KEEPALIVE
