//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
)

// opError turns an error from the os.File underneath a Conn into what a
// *net.TCPConn returns: a *net.OpError whose Err is net.ErrClosed,
// os.ErrDeadlineExceeded (Timeout() true) or an *os.SyscallError. io.EOF is
// returned as it is, as std does.
func opError(op, network string, src, dst net.Addr, err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	switch e := err.(type) {
	case syscall.Errno:
		err = os.NewSyscallError(op, e)
	default:
		if errors.Is(err, os.ErrClosed) {
			err = net.ErrClosed
		} else if errors.Is(err, os.ErrDeadlineExceeded) {
			err = os.ErrDeadlineExceeded
		}
	}
	return &net.OpError{Op: op, Net: network, Source: src, Addr: dst, Err: err}
}

// isTimeout reports whether err is a deadline error.
func isTimeout(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }
