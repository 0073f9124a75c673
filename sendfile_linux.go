//go:build linux

package pollnet

import (
	"os"

	"golang.org/x/sys/unix"
)

// maxSendfileChunk bounds one sendfile(2) call, as std does, so a write
// deadline or Close is noticed between chunks.
const maxSendfileChunk = 4 << 20

// sendFile copies up to limit bytes (limit < 0: to EOF) from f's current
// offset to the socket with sendfile(2), advancing f's offset. handled is
// false when the kernel refused f before any byte moved; the caller then
// falls back to a plain copy.
func sendFile(conn, f *os.File, limit int64) (written int64, handled bool, err error) {
	src, err := f.SyscallConn()
	if err != nil {
		return 0, false, nil
	}
	dst, err := conn.SyscallConn()
	if err != nil {
		return 0, true, err
	}
	var serr error
	cerr := src.Control(func(infd uintptr) {
		werr := dst.Write(func(outfd uintptr) bool {
			for limit != 0 {
				chunk := maxSendfileChunk
				if limit > 0 && limit < int64(chunk) {
					chunk = int(limit)
				}
				n, e := unix.Sendfile(int(outfd), int(infd), nil, chunk)
				if n > 0 {
					written += int64(n)
					if limit > 0 {
						limit -= int64(n)
					}
				}
				switch {
				case e == unix.EINTR:
				case e == unix.EAGAIN:
					return false // wait for room in the socket buffer
				case e != nil:
					serr = e
					return true
				case n == 0:
					return true // end of file
				}
			}
			return true
		})
		if serr == nil {
			serr = werr
		}
	})
	if cerr != nil && serr == nil {
		serr = cerr
	}
	if written == 0 && (serr == unix.EINVAL || serr == unix.ENOSYS || serr == unix.EOPNOTSUPP) {
		return 0, false, nil
	}
	if serr != nil {
		serr = os.NewSyscallError("sendfile", serr)
	}
	return written, true, serr
}
