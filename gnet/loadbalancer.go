//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package gnet

import (
	"hash/crc32"
	"net"
	"sync/atomic"
)

// loadBalancer picks a loop for a new connection. The loop list is fixed
// before the engine starts, so picking needs no lock.
type loadBalancer struct {
	kind  LoadBalancing
	loops []*eventloop
	rr    atomic.Uint64
}

func newLoadBalancer(kind LoadBalancing, loops []*eventloop) loadBalancer {
	return loadBalancer{kind: kind, loops: loops}
}

func (lb *loadBalancer) least() *eventloop {
	best := lb.loops[0]
	for _, l := range lb.loops[1:] {
		if l.load.Load() < best.load.Load() {
			best = l
		}
	}
	return best
}

func (lb *loadBalancer) roundRobin() *eventloop {
	return lb.loops[(lb.rr.Add(1)-1)%uint64(len(lb.loops))]
}

// next picks a loop for a connection to or from addr.
func (lb *loadBalancer) next(addr net.Addr) *eventloop {
	switch lb.kind {
	case LeastConnections:
		return lb.least()
	case SourceAddrHash:
		if addr == nil {
			return lb.loops[0]
		}
		return lb.loops[crc32.ChecksumIEEE([]byte(addr.String()))%uint32(len(lb.loops))]
	default:
		return lb.roundRobin()
	}
}

// nextConn picks a loop for an accepted connection without building a
// net.Addr: the hash covers the remote IP and port.
func (lb *loadBalancer) nextConn(c *conn) *eventloop {
	if lb.kind != SourceAddrHash {
		return lb.next(nil)
	}
	if c.ad.raddr != nil {
		return lb.next(c.ad.raddr)
	}
	var b [18]byte
	copy(b[:], c.rip[:])
	b[16], b[17] = byte(c.rport>>8), byte(c.rport)
	return lb.loops[crc32.ChecksumIEEE(b[:])%uint32(len(lb.loops))]
}
