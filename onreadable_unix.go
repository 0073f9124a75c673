//go:build unix

package pollnet

import "golang.org/x/sys/unix"

// rawReadable reports whether a read on fd would not block: data, end of
// stream or an error, seen with a peek that consumes nothing.
func rawReadable(fd uintptr, _ bool) bool {
	var b [1]byte
	for {
		_, _, err := unix.Recvfrom(int(fd), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
		if err != unix.EINTR {
			return err != unix.EAGAIN
		}
	}
}
