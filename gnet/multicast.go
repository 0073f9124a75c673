//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package gnet

import (
	"net"
	"net/netip"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// joinGroup joins the multicast group sa names (nothing if sa is unicast)
// on interface ifIndex (0: the system's choice), and, as gnet v2 does, turns
// off the loopback of what this socket sends to the group.
func joinGroup(fd int, sa syscall.Sockaddr, ifIndex int) error {
	var steps []func() error // setsockopt calls, in order
	switch sa := sa.(type) {
	case *syscall.SockaddrInet4:
		if !netip.AddrFrom4(sa.Addr).IsMulticast() {
			return nil
		}
		ifAddr, err := interfaceIPv4(ifIndex)
		if err != nil {
			return err
		}
		if ifIndex > 0 {
			steps = append(steps, func() error {
				return unix.SetsockoptInet4Addr(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_IF, ifAddr)
			})
		}
		steps = append(steps,
			func() error { return unix.SetsockoptByte(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_LOOP, 0) },
			func() error {
				mreq := &unix.IPMreq{Multiaddr: sa.Addr, Interface: ifAddr}
				return unix.SetsockoptIPMreq(fd, unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP, mreq)
			})
	case *syscall.SockaddrInet6:
		ip := netip.AddrFrom16(sa.Addr)
		if !ip.IsMulticast() {
			return nil
		}
		if ip.Is4In6() { // a v4 group on a dual-stack socket
			return joinGroup(fd, &syscall.SockaddrInet4{Addr: ip.Unmap().As4()}, ifIndex)
		}
		if ifIndex > 0 {
			steps = append(steps, func() error {
				return unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_IF, ifIndex)
			})
		}
		steps = append(steps,
			func() error { return unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_LOOP, 0) },
			func() error {
				mreq := &unix.IPv6Mreq{Multiaddr: sa.Addr, Interface: uint32(ifIndex)}
				return unix.SetsockoptIPv6Mreq(fd, unix.IPPROTO_IPV6, unix.IPV6_JOIN_GROUP, mreq)
			})
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return os.NewSyscallError("setsockopt", err)
		}
	}
	return nil
}

// interfaceIPv4 is the first IPv4 address of interface ifIndex (0: any).
func interfaceIPv4(ifIndex int) ([4]byte, error) {
	if ifIndex == 0 {
		return [4]byte{}, nil
	}
	ifi, err := net.InterfaceByIndex(ifIndex)
	if err != nil {
		return [4]byte{}, err
	}
	addrs, err := ifi.Addrs()
	if err != nil {
		return [4]byte{}, err
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if ip4 := n.IP.To4(); ip4 != nil {
				return [4]byte(ip4), nil
			}
		}
	}
	return [4]byte{}, ErrNoIPv4AddressOnInterface
}
