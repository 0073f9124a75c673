//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"os"

	"golang.org/x/sys/unix"
)

// maxListenerBacklog is kern.ipc.somaxconn where the system reports it.
func maxListenerBacklog() int {
	n, err := unix.SysctlUint32("kern.ipc.somaxconn")
	if err != nil || n == 0 {
		return unix.SOMAXCONN
	}
	return int(min(n, 1<<16-1))
}

// sendFile is not implemented on the BSDs yet: ReadFrom copies through user
// space there (README.md lists it under known limitations).
func sendFile(_, _ *os.File, _ int64) (int64, bool, error) { return 0, false, nil }
