//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package sock

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

func getInt(t *testing.T, fd, level, opt int) int {
	t.Helper()
	v, err := unix.GetsockoptInt(fd, level, opt)
	if err != nil {
		t.Fatalf("getsockopt(%d, %d): %v", level, opt, err)
	}
	return v
}

// listenOn makes a socket for network on the loopback (port 0) and runs
// Listen on it; the socket is closed when the test ends.
func listenOn(t *testing.T, network string, sotype int, o ListenOptions) (int, int) {
	t.Helper()
	ip := netip.IPv6Unspecified()
	if network == "tcp4" || network == "udp4" {
		ip = netip.MustParseAddr("127.0.0.1")
	}
	fam := Family(network, ip)
	fd, err := Socket(fam, sotype)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := Listen(fd, fam, sotype, network, "", Sockaddr(fam, ip, 0), o); err != nil {
		t.Fatalf("Listen(%s): %v", network, err)
	}
	return fd, fam
}

func TestListenStreamOptions(t *testing.T) {
	for _, tc := range []struct {
		network string
		v6only  int // -1: not an AF_INET6 socket
	}{{"tcp", 0}, {"tcp4", -1}, {"tcp6", 1}} {
		t.Run(tc.network, func(t *testing.T) {
			fd, fam := listenOn(t, tc.network, unix.SOCK_STREAM, ListenOptions{})
			if getInt(t, fd, unix.SOL_SOCKET, unix.SO_REUSEADDR) == 0 {
				t.Error("SO_REUSEADDR not set on a TCP listener")
			}
			if getInt(t, fd, unix.SOL_SOCKET, unix.SO_REUSEPORT) != 0 {
				t.Error("SO_REUSEPORT set without ReusePort")
			}
			if (fam == unix.AF_INET6) != (tc.v6only >= 0) {
				t.Fatalf("family %d for %s", fam, tc.network)
			}
			if tc.v6only >= 0 && getInt(t, fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY) != tc.v6only {
				t.Errorf("IPV6_V6ONLY != %d", tc.v6only)
			}
			if getInt(t, fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN) == 0 {
				t.Error("not listening")
			}
		})
	}
}

func TestListenDatagramOptions(t *testing.T) {
	fd, _ := listenOn(t, "udp", unix.SOCK_DGRAM, ListenOptions{})
	if getInt(t, fd, unix.SOL_SOCKET, unix.SO_REUSEADDR) != 0 {
		t.Error("SO_REUSEADDR set on a UDP socket without ReuseAddr: two sockets could share its port")
	}
	if getInt(t, fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY) != 0 {
		t.Error(`"udp" on :: is not dual-stack`)
	}
	fd, _ = listenOn(t, "udp4", unix.SOCK_DGRAM, ListenOptions{ReuseAddr: true, ReusePort: true})
	if getInt(t, fd, unix.SOL_SOCKET, unix.SO_REUSEADDR) == 0 || getInt(t, fd, unix.SOL_SOCKET, unix.SO_REUSEPORT) == 0 {
		t.Error("ReuseAddr/ReusePort not applied")
	}
}

func TestListenControlRunsBeforeBind(t *testing.T) {
	var called bool
	o := ListenOptions{Control: func(network, address string, c syscall.RawConn) error {
		called = true
		return c.Control(func(fd uintptr) {
			if sa, err := unix.Getsockname(int(fd)); err == nil {
				if s4, ok := sa.(*unix.SockaddrInet4); ok && s4.Port != 0 {
					t.Error("Control ran after bind")
				}
			}
		})
	}}
	listenOn(t, "tcp4", unix.SOCK_STREAM, o)
	if !called {
		t.Fatal("Control not called")
	}

	boom := errors.New("boom")
	fd, err := Socket(unix.AF_INET, unix.SOCK_STREAM)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	err = Listen(fd, unix.AF_INET, unix.SOCK_STREAM, "tcp4", "", Sockaddr(unix.AF_INET, netip.MustParseAddr("127.0.0.1"), 0),
		ListenOptions{Control: func(string, string, syscall.RawConn) error { return boom }})
	if err != boom {
		t.Fatalf("Listen returned %v, want the Control error", err)
	}
}

func TestListenUnixAndBacklog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s")
	fd, err := Socket(unix.AF_UNIX, unix.SOCK_STREAM)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := Listen(fd, unix.AF_UNIX, unix.SOCK_STREAM, "unix", path, &syscall.SockaddrUnix{Name: path}, ListenOptions{Backlog: 3}); err != nil {
		t.Fatal(err)
	}
	if getInt(t, fd, unix.SOL_SOCKET, unix.SO_REUSEADDR) != 0 {
		t.Error("SO_REUSEADDR set on a unix socket without ReuseAddr")
	}
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if n := MaxListenerBacklog(); n <= 0 || n >= 1<<16 {
		t.Fatalf("MaxListenerBacklog() = %d", n)
	}
}

func TestListenAddressInUse(t *testing.T) {
	fd, _ := listenOn(t, "udp4", unix.SOCK_DGRAM, ListenOptions{})
	sa, _ := syscall.Getsockname(fd)
	fd2, err := Socket(unix.AF_INET, unix.SOCK_DGRAM)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd2)
	err = Listen(fd2, unix.AF_INET, unix.SOCK_DGRAM, "udp4", "", sa, ListenOptions{})
	var se *os.SyscallError
	if !errors.As(err, &se) || se.Syscall != "bind" || !errors.Is(err, unix.EADDRINUSE) {
		t.Fatalf("second bind: %v, want bind: EADDRINUSE", err)
	}
}

func TestSetLinger(t *testing.T) {
	fd, err := Socket(unix.AF_INET, unix.SOCK_STREAM)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	for _, sec := range []int{3, 0, -1} {
		if err := SetLinger(fd, sec); err != nil {
			t.Fatal(err)
		}
		l, err := unix.GetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER)
		if err != nil {
			t.Fatal(err)
		}
		on := sec >= 0
		if (l.Onoff != 0) != on || (on && int(l.Linger) != sec) {
			t.Errorf("SetLinger(%d): got %+v", sec, *l)
		}
	}
}

func TestIsResourceError(t *testing.T) {
	for _, err := range []error{unix.EMFILE, unix.ENFILE, unix.ENOBUFS, unix.ENOMEM} {
		if !IsResourceError(err) {
			t.Errorf("%v is a resource error", err)
		}
	}
	for _, err := range []error{nil, unix.EAGAIN, unix.ECONNABORTED, unix.EINVAL} {
		if IsResourceError(err) {
			t.Errorf("%v is not a resource error", err)
		}
	}
}
