//go:build darwin || netbsd || openbsd

package gnet

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// acceptNonblock: no accept4 here; take ForkLock so that a concurrent
// fork/exec cannot inherit the descriptor before CloseOnExec.
func acceptNonblock(fd int) (int, unix.Sockaddr, error) {
	syscall.ForkLock.RLock()
	nfd, sa, err := unix.Accept(fd)
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
