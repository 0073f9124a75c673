//go:build dragonfly || freebsd || netbsd

package gnet

import "golang.org/x/sys/unix"

// writev without x/sys support: write the buffers one at a time, stopping at
// a short write.
func writev(fd int, iov [][]byte) (int, error) {
	total := 0
	for _, b := range iov {
		n, err := unix.Write(fd, b)
		if n > 0 {
			total += n
		}
		if err != nil {
			if total > 0 {
				return total, nil
			}
			return total, err
		}
		if n < len(b) {
			break
		}
	}
	return total, nil
}
