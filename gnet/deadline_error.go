//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package gnet

import "os"

// deadlineError is what OnClose receives when a read or write deadline
// passes. It wraps os.ErrDeadlineExceeded and is a net.Error with Timeout true.
type deadlineError struct{ op string }

// Error describes the deadline that passed.
func (e *deadlineError) Error() string { return "gnet: " + e.op + " deadline exceeded" }

// Unwrap returns os.ErrDeadlineExceeded.
func (e *deadlineError) Unwrap() error { return os.ErrDeadlineExceeded }

// Timeout reports true: it is a timeout (net.Error).
func (e *deadlineError) Timeout() bool { return true }

// Temporary reports true, as os.ErrDeadlineExceeded does.
func (e *deadlineError) Temporary() bool { return true }

var (
	errReadDeadline  error = &deadlineError{"read"}
	errWriteDeadline error = &deadlineError{"write"}
)
