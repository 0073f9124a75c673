//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package sock

import (
	"os"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// ListenOptions configures Listen.
type ListenOptions struct {
	// ReuseAddr sets SO_REUSEADDR also where Listen would not (unix and
	// datagram sockets).
	ReuseAddr bool
	// ReusePort sets SO_REUSEPORT, so several sockets (and processes) can
	// bind the same address.
	ReusePort bool
	// Control, if not nil, runs after the options above and before bind, as
	// net.ListenConfig.Control does; its error aborts Listen.
	Control func(network, address string, c syscall.RawConn) error
	// Backlog is the listen(2) backlog of a stream socket; <= 0 means
	// MaxListenerBacklog().
	Backlog int
}

// Listen prepares fd, a new socket of the given family and type, the way
// std net prepares a listener, then binds it to sa and, for SOCK_STREAM,
// listens:
//   - SO_REUSEADDR on TCP listeners (a restarted server can bind at once
//     while old connections sit in TIME_WAIT); on other sockets only if
//     o.ReuseAddr is set, because on UDP it lets two sockets share a port;
//   - IPV6_V6ONLY on AF_INET6 sockets: on for "tcp6"/"udp6", off otherwise,
//     so "tcp" or "udp" on the unspecified address is dual-stack;
//   - SO_REUSEPORT if o.ReusePort; then o.Control; then bind and listen.
//
// network and address are what the caller was given; they only reach the
// Control hook and pick IPV6_V6ONLY. Errors are *os.SyscallError. The
// caller closes fd on error.
func Listen(fd, family, sotype int, network, address string, sa syscall.Sockaddr, o ListenOptions) error {
	if (sotype == unix.SOCK_STREAM && family != unix.AF_UNIX) || o.ReuseAddr {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
			return os.NewSyscallError("setsockopt", err)
		}
	}
	if family == unix.AF_INET6 {
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, boolInt(strings.HasSuffix(network, "6"))); err != nil {
			return os.NewSyscallError("setsockopt", err)
		}
	}
	if o.ReusePort {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
			return os.NewSyscallError("setsockopt", err)
		}
	}
	if o.Control != nil {
		if err := o.Control(network, address, FdRawConn(fd)); err != nil {
			return err
		}
	}
	if err := syscall.Bind(fd, sa); err != nil {
		return os.NewSyscallError("bind", err)
	}
	if sotype != unix.SOCK_STREAM {
		return nil
	}
	backlog := o.Backlog
	if backlog <= 0 {
		backlog = MaxListenerBacklog()
	}
	if err := unix.Listen(fd, backlog); err != nil {
		return os.NewSyscallError("listen", err)
	}
	return nil
}

// FdRawConn is a syscall.RawConn for a socket that no os.File owns yet,
// handed to Control hooks before bind or connect.
type FdRawConn int

// Control calls f with the descriptor.
func (fd FdRawConn) Control(f func(uintptr)) error { f(uintptr(fd)); return nil }

// Read is not supported: the socket is not registered with any poller yet.
func (FdRawConn) Read(func(uintptr) bool) error { return syscall.EINVAL }

// Write is not supported: the socket is not registered with any poller yet.
func (FdRawConn) Write(func(uintptr) bool) error { return syscall.EINVAL }

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
