//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package sock

import "golang.org/x/sys/unix"

// MaxListenerBacklog is kern.ipc.somaxconn where the system reports it,
// SOMAXCONN elsewhere.
func MaxListenerBacklog() int {
	n, err := unix.SysctlUint32("kern.ipc.somaxconn")
	if err != nil || n == 0 {
		return unix.SOMAXCONN
	}
	return int(min(n, 1<<16-1))
}
