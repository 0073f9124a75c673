//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

// Socket handover: a listening socket passed between processes (systemd
// socket activation, graceful restarts).

import (
	"net"
	"os"
	"syscall"

	"github.com/pollnet/pollnet/internal/sock"
	"golang.org/x/sys/unix"
)

// File returns a copy of the listening socket, for handing it to another
// process (graceful restarts). Closing one does not affect the other.
func (l *Listener) File() (*os.File, error) {
	l.fdmu.RLock()
	defer l.fdmu.RUnlock()
	if l.closed.Load() {
		return nil, l.opError("file", net.ErrClosed)
	}
	fd, err := sock.DupCloexec(l.fd)
	if err != nil {
		return nil, l.opError("file", os.NewSyscallError("dup", err))
	}
	return os.NewFile(uintptr(fd), "pollnet-listener"), nil
}

// FileListener returns a Listener for a copy of the listening socket open in
// f (systemd socket activation, or a socket passed by a parent process), like
// net.FileListener. Closing f afterwards does not affect the Listener.
func (lc *ListenConfig) FileListener(f *os.File) (*Listener, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	fd := -1
	var ferr error
	rc.Control(func(sfd uintptr) { fd, ferr = sock.DupCloexec(int(sfd)) })
	if ferr != nil {
		return nil, &net.OpError{Op: "file", Net: "file+net", Err: os.NewSyscallError("dup", ferr)}
	}
	network, err := listenerNetwork(fd)
	if err != nil {
		unix.Close(fd)
		return nil, &net.OpError{Op: "file", Net: "file+net", Err: err}
	}
	return lc.newListener(fd, network)
}

// FileListener is ListenConfig.FileListener with the default config.
func FileListener(f *os.File) (*Listener, error) {
	var lc ListenConfig
	return lc.FileListener(f)
}

// listenerNetwork checks that fd is a listening stream socket, makes it
// non-blocking, and names its network.
func listenerNetwork(fd int) (string, error) {
	if typ, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE); err != nil || typ != unix.SOCK_STREAM {
		return "", syscall.EPROTOTYPE
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		return "", err
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return "", err
	}
	switch sa.(type) {
	case *unix.SockaddrUnix:
		return "unix", nil
	case *unix.SockaddrInet4, *unix.SockaddrInet6:
		return "tcp", nil
	}
	return "", errUnsupportedNetwork
}
