//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"errors"
	"net"
	"net/netip"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// errUnsupportedNetwork is returned for networks other than tcp* and unix.
var errUnsupportedNetwork = errors.New("pollnet: unsupported network (want tcp, tcp4, tcp6 or unix)")

// netKind is a stream network's name, in one byte of a Conn.
type netKind uint8

const (
	netTCP netKind = iota
	netTCP4
	netTCP6
	netUnix
)

var netNames = [...]string{netTCP: "tcp", netTCP4: "tcp4", netTCP6: "tcp6", netUnix: "unix"}

func (k netKind) String() string { return netNames[k] }

// netKindOf names a network Listen or Dial accepted (tcp, tcp4, tcp6, unix).
func netKindOf(network string) netKind {
	for k, name := range netNames {
		if name == network {
			return netKind(k)
		}
	}
	return netTCP
}

// toAddr converts a kernel socket address into the net.Addr std would report.
//
// Addresses are read with the syscall package, not x/sys/unix: on Linux
// x/sys/unix spends an extra getsockopt(SO_PROTOCOL) on every AF_INET
// address it decodes, and accept, getsockname and getpeername are on the
// park/wake path.
func toAddr(sa syscall.Sockaddr) net.Addr {
	switch sa := sa.(type) {
	case *syscall.SockaddrInet4:
		return &net.TCPAddr{IP: net.IP(sa.Addr[:]).To16(), Port: sa.Port}
	case *syscall.SockaddrInet6:
		a := &net.TCPAddr{IP: append(net.IP(nil), sa.Addr[:]...), Port: sa.Port}
		if sa.ZoneId != 0 {
			if ifi, err := net.InterfaceByIndex(int(sa.ZoneId)); err == nil {
				a.Zone = ifi.Name
			}
		}
		return a
	case *syscall.SockaddrUnix:
		return &net.UnixAddr{Name: sa.Name, Net: "unix"}
	}
	return nil
}

// tcpSockaddr converts an IP and port for a socket of the given family.
func tcpSockaddr(family int, ip netip.Addr, port int) unix.Sockaddr {
	if family == unix.AF_INET {
		return &unix.SockaddrInet4{Port: port, Addr: ip.Unmap().As4()}
	}
	sa := &unix.SockaddrInet6{Port: port, Addr: ip.As16()}
	if z := ip.Zone(); z != "" {
		if ifi, err := net.InterfaceByName(z); err == nil {
			sa.ZoneId = uint32(ifi.Index)
		}
	}
	return sa
}

// family picks the address family for a network and IP: tcp4 or an IPv4
// address means AF_INET; "tcp" with an unspecified address means a
// dual-stack AF_INET6 socket, as std net does.
func family(network string, ip netip.Addr) int {
	switch {
	case network == "tcp4":
		return unix.AF_INET
	case network == "tcp6":
		return unix.AF_INET6
	case ip.Is4() || ip.Is4In6():
		return unix.AF_INET
	}
	return unix.AF_INET6
}

// fdRawConn is a syscall.RawConn for a socket that no os.File owns yet,
// handed to Control hooks before bind or connect.
type fdRawConn int

func (fd fdRawConn) Control(f func(uintptr)) error { f(uintptr(fd)); return nil }
func (fdRawConn) Read(func(uintptr) bool) error    { return syscall.EINVAL }
func (fdRawConn) Write(func(uintptr) bool) error   { return syscall.EINVAL }

// peerAddr is an IPv4 peer address (also v4-mapped, as on dual-stack
// listeners) kept in a parked socket's record, so that waking it needs no
// getpeername. 8 bytes: IPv6 peers and unix sockets keep the zero value,
// which means "ask the kernel".
type peerAddr struct {
	ip4  [4]byte
	port uint16
	ok   bool
}

func makePeerAddr(a net.Addr) peerAddr {
	ta, isTCP := a.(*net.TCPAddr)
	if !isTCP || ta.Zone != "" {
		return peerAddr{}
	}
	ip4 := ta.IP.To4()
	if ip4 == nil {
		return peerAddr{}
	}
	return peerAddr{ip4: [4]byte(ip4), port: uint16(ta.Port), ok: true}
}

// parkInfo is what a plain parked socket keeps besides its fd, packed into
// its lot slot's 64-bit data word:
//
//	bits  0-31  the peer's IPv4 address
//	bits 32-47  the peer's port
//	bit  48     the peer address is kept (else getpeername at wake-up)
//	bits 49-50  the hub's index of the local address (0: getsockname)
//	bits 51-63  parkClock when it parked
type parkInfo struct {
	peer  peerAddr
	local uint8  // 0..3
	at    uint16 // 13 bits
}

// parkClock counts time in units of 2^20 ns (1.05 ms), modulo 2^13 (8.6 s):
// enough to tell whether a park was shorter than a grace period.
func parkClock(t time.Time) uint16 { return uint16(t.UnixNano()>>20) & (1<<13 - 1) }

// busy reports whether the park ended within the grace period of its start.
// A park longer than the clock's 8.6 s period may look busy (by a chance of
// grace / 8.6 s, about 1% with the default grace): it then waits out one
// grace, harmlessly.
func (p parkInfo) busy(grace time.Duration) bool {
	elapsed := (parkClock(time.Now()) - p.at) & (1<<13 - 1)
	return time.Duration(elapsed)<<20 < grace
}

func (p parkInfo) pack() uint64 {
	v := uint64(p.local&3)<<49 | uint64(p.at&(1<<13-1))<<51
	if p.peer.ok {
		v |= 1<<48 | uint64(p.peer.port)<<32 | uint64(p.peer.ip4[0])<<24 | uint64(p.peer.ip4[1])<<16 | uint64(p.peer.ip4[2])<<8 | uint64(p.peer.ip4[3])
	}
	return v
}

func unpackParkInfo(v uint64) parkInfo {
	p := parkInfo{local: uint8(v>>49) & 3, at: uint16(v >> 51)}
	if v&(1<<48) != 0 {
		p.peer = peerAddr{ip4: [4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}, port: uint16(v >> 32), ok: true}
	}
	return p
}

// addr returns the peer address of fd: the kept one, or getpeername's.
func (p peerAddr) addr(fd int) (net.Addr, error) {
	if p.ok {
		return &net.TCPAddr{IP: net.IPv4(p.ip4[0], p.ip4[1], p.ip4[2], p.ip4[3]), Port: int(p.port)}, nil
	}
	sa, err := syscall.Getpeername(fd)
	if err != nil {
		return nil, err
	}
	return toAddr(sa), nil
}
