//go:build linux

package sock

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// Socket returns a non-blocking, close-on-exec socket.
func Socket(family, sotype int) (int, error) {
	return unix.Socket(family, sotype|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
}

// Accept accepts one connection as a non-blocking, close-on-exec socket.
func Accept(fd int) (int, syscall.Sockaddr, error) {
	return syscall.Accept4(fd, syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC)
}
