//go:build linux

package gnet

// ioUringUsable reports whether this kernel runs gnet's io_uring loops.
func ioUringUsable() error {
	r, err := newRing(8, 0)
	if err != nil {
		return err
	}
	return r.Close()
}
