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
	if pe, ok := err.(*os.PathError); ok { // what os.File returns: no errors.As walk
		err = pe.Err
	} else {
		var pe *os.PathError // escapes (errors.As): declared here, not allocated on the common path
		if errors.As(err, &pe) {
			err = pe.Err
		}
	}
	switch e := err.(type) {
	case syscall.Errno:
		err = os.NewSyscallError(op, e)
	default:
		// The common cases by identity first: net/http aborts its
		// background read with a past deadline after every request.
		switch {
		case err == os.ErrDeadlineExceeded || err == net.ErrClosed:
		case errors.Is(err, os.ErrClosed): // identity is its first test
			err = net.ErrClosed
		case errors.Is(err, os.ErrDeadlineExceeded):
			err = os.ErrDeadlineExceeded
		}
	}
	return &net.OpError{Op: op, Net: network, Source: src, Addr: dst, Err: err}
}

// isTimeout reports whether err is a deadline error.
func isTimeout(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }
