//go:build linux || dragonfly || freebsd

package gnet

import "golang.org/x/sys/unix"

func acceptNonblock(fd int) (int, unix.Sockaddr, error) {
	return unix.Accept4(fd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
}
