//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package gnet

import (
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/pollnet/pollnet/internal/sock"
)

// sockKind is what kind of socket a listener or connection has.
type sockKind uint8

const (
	kindTCP  sockKind = iota // TCP stream
	kindUnix                 // unix-domain stream
	kindUDP                  // UDP datagrams
)

// listener is one address given to Run or Rotate, owned by the engine.
//
// A stream listener (tcp, unix) has one listening socket, served by the
// acceptor. A datagram listener (udp) has its sockets served directly by
// the event loops: one socket, or, where SO_REUSEPORT spreads datagrams over
// the sockets bound to a port (reusePortBalances) and the engine has several
// loops, one socket per loop, so the kernel balances peers over the loops.
type listener struct {
	network, address string // as given (address without scheme)
	kind             sockKind
	fds              []int // fds[0] is the one Dup duplicates
	addr             net.Addr
	ad               *connAddrs // shared by the connections it yields

	// mu orders dup (Engine.Dup, from any goroutine) against close: a
	// duplicate is never taken of a closed, possibly reused, fd number.
	mu     sync.RWMutex
	closed bool
}

// openListener creates the listener's sockets (nsock of them for a datagram
// listener, else one), sets them up and binds them. For unix sockets an
// existing file at the path is removed first and the file is removed again
// on close, as gnet v2 does.
func openListener(network, address string, o *Options, nsock int) (*listener, error) {
	ln := &listener{network: network, address: address}
	family, sotype := unix.AF_UNIX, unix.SOCK_STREAM
	var sa syscall.Sockaddr
	switch {
	case network == "unix":
		ln.kind = kindUnix
		os.RemoveAll(address)
		sa = &syscall.SockaddrUnix{Name: address}
	default:
		ip, port, err := resolve(network, address)
		if err != nil {
			return nil, err
		}
		if strings.HasPrefix(network, "udp") {
			ln.kind, sotype = kindUDP, unix.SOCK_DGRAM
		} else {
			ln.kind, nsock = kindTCP, 1
		}
		family = sock.Family(network, ip)
		sa = sock.Sockaddr(family, ip, port)
	}
	if ln.kind != kindUDP || !reusePortBalances {
		nsock = 1
	}
	lo := sock.ListenOptions{
		ReuseAddr: o.ReuseAddr,
		ReusePort: (o.ReusePort && ln.kind != kindUnix) || nsock > 1,
		Control:   listenControl(o, ln.kind, sa),
	}
	for i := range nsock {
		fd, err := sock.Socket(family, sotype)
		if err != nil {
			ln.close()
			return nil, os.NewSyscallError("socket", err)
		}
		if err := sock.Listen(fd, family, sotype, network, address, sa, lo); err != nil {
			unix.Close(fd)
			ln.close()
			return nil, err
		}
		ln.fds = append(ln.fds, fd)
		if i == 0 && ln.kind != kindUnix {
			// Twins bind where the first socket landed (port 0 picks one).
			got, err := syscall.Getsockname(fd)
			if err != nil {
				ln.close()
				return nil, os.NewSyscallError("getsockname", err)
			}
			if ln.kind == kindTCP {
				ln.addr = sock.StreamAddr(got)
			} else {
				ln.addr = sock.DatagramAddr(got)
				sa = sock.NetAddrSockaddr(family, ln.addr)
			}
		}
	}
	if ln.kind == kindUnix {
		ln.addr = &net.UnixAddr{Name: address, Net: "unix"}
	}
	ln.ad = &connAddrs{laddr: ln.addr, kind: ln.kind, family: uint8(family)}
	return ln, nil
}

// resolve resolves a tcp or udp address as net.Listen does: no host means
// the unspecified address (dual-stack unless the network ends in 4).
func resolve(network, address string) (netip.Addr, int, error) {
	var ipb net.IP
	var port int
	var zone string
	if strings.HasPrefix(network, "udp") {
		a, err := net.ResolveUDPAddr(network, address)
		if err != nil {
			return netip.Addr{}, 0, err
		}
		ipb, port, zone = a.IP, a.Port, a.Zone
	} else {
		a, err := net.ResolveTCPAddr(network, address)
		if err != nil {
			return netip.Addr{}, 0, err
		}
		ipb, port, zone = a.IP, a.Port, a.Zone
	}
	ip, ok := netip.AddrFromSlice(ipb)
	switch {
	case !ok && strings.HasSuffix(network, "4"):
		ip = netip.IPv4Unspecified()
	case !ok:
		ip = netip.IPv6Unspecified()
	case ip.Is4In6() && !strings.HasSuffix(network, "6"):
		ip = ip.Unmap()
	}
	if zone != "" && ip.Is6() {
		ip = ip.WithZone(zone)
	}
	return ip, port, nil
}

// listenControl returns the Control hook that applies the engine's socket
// options to a listening socket before bind: the device binding, the
// receive buffer size (TCP sockets inherit it when accepted), for UDP the
// send buffer size (replies leave through this socket), broadcast
// permission and, on a multicast address, the group membership.
func listenControl(o *Options, kind sockKind, sa syscall.Sockaddr) func(string, string, syscall.RawConn) error {
	return func(_, _ string, rc syscall.RawConn) error {
		var err error
		rc.Control(func(fdp uintptr) {
			fd := int(fdp)
			if o.BindToDevice != "" && kind != kindUnix {
				if err = bindToDevice(fd, o.BindToDevice); err != nil {
					err = os.NewSyscallError("setsockopt", err)
					return
				}
			}
			if o.SocketRecvBuffer > 0 {
				unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, o.SocketRecvBuffer)
			}
			if kind != kindUDP {
				return // accepted sockets get SO_SNDBUF in the acceptor
			}
			if o.SocketSendBuffer > 0 {
				unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, o.SocketSendBuffer)
			}
			if err = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_BROADCAST, 1); err != nil {
				err = os.NewSyscallError("setsockopt", err)
				return
			}
			err = joinGroup(fd, sa, o.MulticastInterfaceIndex)
		})
		return err
	}
}

func (ln *listener) close() {
	ln.mu.Lock()
	defer ln.mu.Unlock()
	if ln.closed {
		return
	}
	ln.closed = true
	for _, fd := range ln.fds {
		unix.Close(fd)
	}
	if ln.kind == kindUnix {
		os.RemoveAll(ln.address)
	}
}

// dup returns a close-on-exec duplicate of the (first) socket.
func (ln *listener) dup() (int, error) {
	ln.mu.RLock()
	defer ln.mu.RUnlock()
	if ln.closed {
		return -1, ErrEngineInShutdown
	}
	return sock.DupCloexec(ln.fds[0])
}

// matches reports whether network and addr name this listener: network as
// given or as gnet v2 reports it after opening ("tcp" for tcp4 and tcp6,
// "udp" for udp4 and udp6).
func (ln *listener) matches(network, addr string) bool {
	if addr != ln.address {
		return false
	}
	return network == ln.network || network == strings.TrimRight(ln.network, "46")
}
