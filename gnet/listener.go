//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package gnet

import (
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"

	"github.com/pollnet/pollnet/internal/sock"
	"golang.org/x/sys/unix"
)

// listener is one listening socket, non-blocking, owned by the engine.
type listener struct {
	network, address string // as given (address without scheme)
	fd               int
	addr             net.Addr
	ad               *connAddrs // shared by the connections it accepts
	unix             bool

	// mu orders dup (Engine.Dup, from any goroutine) against close: a
	// duplicate is never taken of a closed, possibly reused, fd number.
	mu     sync.RWMutex
	closed bool
}

// openListener creates, binds and listens. For unix sockets an existing
// file at the path is removed first and the file is removed again on close,
// as gnet v2 does.
func openListener(network, address string, o *Options) (*listener, error) {
	ln := &listener{network: network, address: address}
	var sa unix.Sockaddr
	family := unix.AF_INET
	if network == "unix" {
		family = unix.AF_UNIX
		ln.unix = true
		os.RemoveAll(address)
		sa = &unix.SockaddrUnix{Name: address}
	} else {
		ta, err := net.ResolveTCPAddr(network, address)
		if err != nil {
			return nil, err
		}
		var ip netip.Addr
		if ta.IP != nil {
			ip, _ = netip.AddrFromSlice(ta.IP)
		}
		switch {
		case network == "tcp4" || (ip.IsValid() && ip.Unmap().Is4() && network != "tcp6"):
			s4 := &unix.SockaddrInet4{Port: ta.Port}
			if ip.IsValid() {
				s4.Addr = ip.Unmap().As4()
			}
			sa = s4
		default:
			family = unix.AF_INET6
			s6 := &unix.SockaddrInet6{Port: ta.Port}
			if ip.IsValid() {
				s6.Addr = ip.As16()
			}
			if ta.Zone != "" {
				if ifi, err := net.InterfaceByName(ta.Zone); err == nil {
					s6.ZoneId = uint32(ifi.Index)
				}
			}
			sa = s6
		}
	}
	fd, err := sock.Socket(family, unix.SOCK_STREAM)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	fail := func(op string, err error) (*listener, error) {
		unix.Close(fd)
		return nil, os.NewSyscallError(op, err)
	}
	if !ln.unix {
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
		if family == unix.AF_INET6 {
			v6only := 0
			if network == "tcp6" {
				v6only = 1
			}
			unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, v6only)
		}
		if o.ReusePort {
			if err := setReusePort(fd); err != nil {
				return fail("setsockopt", err)
			}
		}
		if o.BindToDevice != "" {
			if err := bindToDevice(fd, o.BindToDevice); err != nil {
				return fail("setsockopt", err)
			}
		}
	} else if o.ReuseAddr {
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
	}
	if o.SocketRecvBuffer > 0 { // inherited by accepted sockets
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, o.SocketRecvBuffer)
	}
	if err := unix.Bind(fd, sa); err != nil {
		return fail("bind", err)
	}
	if err := unix.Listen(fd, listenBacklog()); err != nil {
		return fail("listen", err)
	}
	ln.fd = fd
	if ln.unix {
		ln.addr = &net.UnixAddr{Name: address, Net: "unix"}
	} else {
		got, err := unix.Getsockname(fd)
		if err != nil {
			return fail("getsockname", err)
		}
		ln.addr = sockaddrToTCP(got)
	}
	ln.ad = &connAddrs{laddr: ln.addr}
	return ln, nil
}

func (ln *listener) close() {
	ln.mu.Lock()
	defer ln.mu.Unlock()
	if ln.closed {
		return
	}
	ln.closed = true
	unix.Close(ln.fd)
	if ln.unix {
		os.RemoveAll(ln.address)
	}
}

// dup returns a close-on-exec duplicate of the listening socket.
func (ln *listener) dup() (int, error) {
	ln.mu.RLock()
	defer ln.mu.RUnlock()
	if ln.closed {
		return -1, ErrEngineInShutdown
	}
	return sock.DupCloexec(ln.fd)
}

func sockaddrToTCP(sa unix.Sockaddr) *net.TCPAddr {
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return &net.TCPAddr{IP: net.IP(sa.Addr[:]).To16(), Port: sa.Port}
	case *unix.SockaddrInet6:
		a := &net.TCPAddr{IP: net.IP(sa.Addr[:]), Port: sa.Port}
		if sa.ZoneId != 0 {
			if ifi, err := net.InterfaceByIndex(int(sa.ZoneId)); err == nil {
				a.Zone = ifi.Name
			}
		}
		return a
	}
	return nil
}

// listenBacklog reads the kernel's limit, as the net package does.
func listenBacklog() int {
	b, err := os.ReadFile("/proc/sys/net/core/somaxconn")
	if err != nil {
		return 4096
	}
	n := 0
	for _, ch := range strings.TrimSpace(string(b)) {
		if ch < '0' || ch > '9' {
			return 4096
		}
		n = n*10 + int(ch-'0')
	}
	if n <= 0 {
		return 4096
	}
	return min(n, 1<<16-1)
}
