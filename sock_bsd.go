//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// sysSocket returns a non-blocking, close-on-exec socket. darwin has no
// SOCK_NONBLOCK, so every BSD takes the portable path; ForkLock keeps a
// concurrent fork+exec from inheriting the fd before CLOEXEC is set.
func sysSocket(family, sotype int) (int, error) {
	syscall.ForkLock.RLock()
	fd, err := unix.Socket(family, sotype, 0)
	if err == nil {
		unix.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, err
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// sysAccept accepts one connection as a non-blocking, close-on-exec socket.
func sysAccept(fd int) (int, syscall.Sockaddr, error) {
	syscall.ForkLock.RLock()
	nfd, sa, err := syscall.Accept(fd)
	if err == nil {
		unix.CloseOnExec(nfd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, nil, err
	}
	if err := unix.SetNonblock(nfd, true); err != nil {
		unix.Close(nfd)
		return -1, nil, err
	}
	return nfd, sa, nil
}

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
func (c *Conn) sendFile(*os.File, int64) (int64, bool, error) { return 0, false, nil }
