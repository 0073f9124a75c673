//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package sock

import "golang.org/x/sys/unix"

// SetLinger sets SO_LINGER as *net.TCPConn.SetLinger does: sec < 0 turns it
// off (close returns at once and the kernel sends what is queued in the
// background), sec == 0 discards unsent data and resets the connection on
// close, sec > 0 makes close wait up to sec seconds for the data to go out.
func SetLinger(fd, sec int) error {
	l := unix.Linger{}
	if sec >= 0 {
		l.Onoff, l.Linger = 1, int32(sec)
	}
	return unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &l)
}
