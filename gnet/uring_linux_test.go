//go:build linux

package gnet

import "github.com/pollnet/pollnet/internal/uring"

// ringStats returns the open rings and mapped bytes of internal/uring.
func ringStats() (int, int64) { return uring.Stats() }

// ioUringUsable reports whether this kernel runs gnet's io_uring loops.
func ioUringUsable() error {
	r, err := newRing(8, 0)
	if err != nil {
		return err
	}
	return r.Close()
}
