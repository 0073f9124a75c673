//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"errors"
	"net"
	"syscall"
	"time"

	"github.com/pollnet/pollnet/internal/sock"
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

// connAddr is a Conn's two addresses, compact for the common case: an
// accepted connection with an IPv4 peer whose local address its hub knows
// (the listener's own, or one of a few it remembers) keeps 8 bytes, and
// RemoteAddr builds the *net.TCPAddr when asked (net/http asks once per
// connection). Any other Conn keeps its net.Addr values in full.
type connAddr struct {
	peer  peerAddr // when full is nil
	local uint8    // when full is nil: the hub's index of the local address (0: the listener's)
	full  *addrPair
}

type addrPair struct{ laddr, raddr net.Addr }

// makeConnAddr keeps laddr and raddr compactly when the hub lets it.
func makeConnAddr(h *hub, laddr, raddr net.Addr) connAddr {
	if h != nil {
		if p := makePeerAddr(raddr); p.ok {
			if h.laddr != nil {
				return connAddr{peer: p}
			}
			if i := h.localIndex(laddr); i > 0 {
				return connAddr{peer: p, local: i}
			}
		}
	}
	return connAddr{full: &addrPair{laddr, raddr}}
}

// tcpAddr is p as std gives it (see addr).
func (p peerAddr) tcpAddr(mapped bool) *net.TCPAddr {
	ip := net.IP{p.ip4[0], p.ip4[1], p.ip4[2], p.ip4[3]}
	if mapped {
		ip = ip.To16()
	}
	return &net.TCPAddr{IP: ip, Port: int(p.port)}
}

// addr returns the peer address of fd: the kept one, or getpeername's.
// mapped says the socket is AF_INET6 (a dual-stack listener's), where the
// kernel and std give an IPv4 peer in its 16-byte v4-mapped form; else std
// gives the 4-byte form.
func (p peerAddr) addr(fd int, mapped bool) (net.Addr, error) {
	if p.ok {
		return p.tcpAddr(mapped), nil
	}
	sa, err := syscall.Getpeername(fd)
	if err != nil {
		return nil, err
	}
	return sock.StreamAddr(sa), nil
}
