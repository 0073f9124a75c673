//go:build darwin || linux || openbsd

package gnet

import "golang.org/x/sys/unix"

func writev(fd int, iov [][]byte) (int, error) {
	if len(iov) == 1 {
		return unix.Write(fd, iov[0])
	}
	return unix.Writev(fd, iov)
}
