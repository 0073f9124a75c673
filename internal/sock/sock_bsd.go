//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package sock

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// Socket returns a non-blocking, close-on-exec socket. darwin has no
// SOCK_NONBLOCK, so every BSD takes the portable path; ForkLock keeps a
// concurrent fork+exec from inheriting the fd before CLOEXEC is set.
func Socket(family, sotype int) (int, error) {
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

// Accept accepts one connection as a non-blocking, close-on-exec socket.
func Accept(fd int) (int, syscall.Sockaddr, error) {
	syscall.ForkLock.RLock()
	nfd, sa, err := syscall.Accept(fd)
	if err == nil {
		syscall.CloseOnExec(nfd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, nil, err
	}
	if err := syscall.SetNonblock(nfd, true); err != nil {
		syscall.Close(nfd)
		return -1, nil, err
	}
	return nfd, sa, nil
}
