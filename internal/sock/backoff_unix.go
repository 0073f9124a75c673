//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package sock

import "golang.org/x/sys/unix"

// IsResourceError reports whether an accept error means the process or the
// system is out of descriptors or memory: retry after a Backoff delay.
func IsResourceError(err error) bool {
	return err == unix.EMFILE || err == unix.ENFILE || err == unix.ENOBUFS || err == unix.ENOMEM
}
