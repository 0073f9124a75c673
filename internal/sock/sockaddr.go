//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package sock

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// The socket addresses here are the syscall package's (as Go's net package
// uses), for the kernel-bound direction too (bind, connect, sendto), so that
// one type travels from a received datagram's sender to the reply.

// StreamAddr converts an address the kernel reported for a stream socket
// (accept, getsockname, getpeername) into the net.Addr std would report: a
// *net.TCPAddr or a *net.UnixAddr; nil for other families.
func StreamAddr(sa syscall.Sockaddr) net.Addr {
	switch sa := sa.(type) {
	case *syscall.SockaddrInet4:
		return &net.TCPAddr{IP: net.IP(sa.Addr[:]).To16(), Port: sa.Port}
	case *syscall.SockaddrInet6:
		return &net.TCPAddr{IP: append(net.IP(nil), sa.Addr[:]...), Port: sa.Port, Zone: zoneName(sa.ZoneId)}
	case *syscall.SockaddrUnix:
		return &net.UnixAddr{Name: sa.Name, Net: "unix"}
	}
	return nil
}

// DatagramAddr converts an address the kernel reported for a UDP socket
// (recvmsg, getsockname) into a *net.UDPAddr; nil for other families.
func DatagramAddr(sa syscall.Sockaddr) *net.UDPAddr {
	switch sa := sa.(type) {
	case *syscall.SockaddrInet4:
		return &net.UDPAddr{IP: net.IP(sa.Addr[:]).To16(), Port: sa.Port}
	case *syscall.SockaddrInet6:
		return &net.UDPAddr{IP: append(net.IP(nil), sa.Addr[:]...), Port: sa.Port, Zone: zoneName(sa.ZoneId)}
	}
	return nil
}

// Family picks the address family for a network ("tcp", "tcp4", "tcp6",
// "udp", "udp4", "udp6") and IP: a network ending in 4 or an IPv4 address
// means AF_INET; "tcp" or "udp" with the unspecified IPv6 address means a
// dual-stack AF_INET6 socket, as in std net.
func Family(network string, ip netip.Addr) int {
	switch {
	case strings.HasSuffix(network, "4"):
		return unix.AF_INET
	case strings.HasSuffix(network, "6"):
		return unix.AF_INET6
	case ip.Is4() || ip.Is4In6():
		return unix.AF_INET
	}
	return unix.AF_INET6
}

// Sockaddr converts an IP (with its zone) and port for a socket of the given
// family, for bind, connect or sendto. An IPv4 address for an AF_INET6
// socket becomes v4-mapped; an IPv6 address for an AF_INET socket stays
// IPv6 (the kernel refuses it).
func Sockaddr(family int, ip netip.Addr, port int) syscall.Sockaddr {
	if family == unix.AF_INET && (ip.Is4() || ip.Is4In6()) {
		return &syscall.SockaddrInet4{Port: port, Addr: ip.Unmap().As4()}
	}
	return &syscall.SockaddrInet6{Port: port, Addr: ip.As16(), ZoneId: zoneIndex(ip.Zone())}
}

// NetAddrSockaddr converts a *net.UDPAddr, *net.TCPAddr or *net.IPAddr into
// a socket address for a socket of the given family (a nil IP means the
// unspecified address). It returns nil for other address types.
func NetAddrSockaddr(family int, a net.Addr) syscall.Sockaddr {
	var ipb net.IP
	var port int
	var zone string
	switch a := a.(type) {
	case *net.UDPAddr:
		if a == nil {
			return nil
		}
		ipb, port, zone = a.IP, a.Port, a.Zone
	case *net.TCPAddr:
		if a == nil {
			return nil
		}
		ipb, port, zone = a.IP, a.Port, a.Zone
	case *net.IPAddr:
		if a == nil {
			return nil
		}
		ipb, zone = a.IP, a.Zone
	default:
		return nil
	}
	ip, ok := netip.AddrFromSlice(ipb)
	if !ok {
		ip = netip.IPv6Unspecified()
		if family == unix.AF_INET {
			ip = netip.IPv4Unspecified()
		}
	}
	if zone != "" && ip.Is6() && !ip.Is4In6() {
		ip = ip.WithZone(zone)
	}
	return Sockaddr(family, ip, port)
}

// zoneIndex returns the interface index of an IPv6 zone: a name, or a
// number as std accepts it; 0 if unknown.
func zoneIndex(zone string) uint32 {
	if zone == "" {
		return 0
	}
	if ifi, err := net.InterfaceByName(zone); err == nil {
		return uint32(ifi.Index)
	}
	n, _ := strconv.ParseUint(zone, 10, 32)
	return uint32(n)
}

// zoneName returns the name of interface index i, or i in decimal when no
// such interface exists (as std does); "" for 0.
func zoneName(i uint32) string {
	if i == 0 {
		return ""
	}
	if ifi, err := net.InterfaceByIndex(int(i)); err == nil {
		return ifi.Name
	}
	return strconv.FormatUint(uint64(i), 10)
}
