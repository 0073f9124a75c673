//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"io"
	"net"
	"os"
)

// ReadFrom implements io.ReaderFrom. When r is an *os.File (or an
// *io.LimitedReader around one, as http.ServeFile uses for ranges) the kernel
// copies the file to the socket without passing it through user space
// (sendfile(2) on Linux); other readers are copied with io.Copy.
func (c *Conn) ReadFrom(r io.Reader) (int64, error) {
	c.idle.interrupt()
	src, limit := r, int64(-1)
	lr, isLimited := r.(*io.LimitedReader)
	if isLimited {
		src, limit = lr.R, lr.N
	}
	if f, ok := src.(*os.File); ok && limit != 0 {
		n, handled, err := c.sendFileLocked(f, limit)
		if isLimited {
			lr.N -= n
		}
		if handled {
			return n, c.opError("readfrom", err)
		}
		// Not a file the kernel can send (a pipe, say): nothing was sent yet.
	}
	n, err := io.Copy(writerOnly{c}, r)
	return n, c.opError("readfrom", err)
}

// sendFileLocked runs sendFile as a Write: whole, one at a time, on the
// attached socket.
func (c *Conn) sendFileLocked(f *os.File, limit int64) (int64, bool, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if !c.sock.get() {
		return 0, true, net.ErrClosed
	}
	defer c.put()
	dst := c.sock.file.Load()
	if dst == nil {
		if dst = c.attach(); dst == nil {
			return 0, true, net.ErrClosed
		}
	}
	return sendFile(dst, f, limit)
}

// writerOnly hides Conn.ReadFrom from io.Copy, which would otherwise call it.
type writerOnly struct{ io.Writer }
