//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package gnet

import (
	"net"
	"sync"
	"testing"
)

// loopCounter counts connections per event loop.
type loopCounter struct {
	BuiltinEventEngine
	mu  sync.Mutex
	per map[EventLoop]int
	n   int
}

func (h *loopCounter) OnOpen(c Conn) ([]byte, Action) {
	h.mu.Lock()
	h.per[c.EventLoop()]++
	h.n++
	h.mu.Unlock()
	return nil, None
}

func TestLoadBalancing(t *testing.T) {
	for _, lb := range []LoadBalancing{RoundRobin, LeastConnections, SourceAddrHash} {
		h := &loopCounter{per: map[EventLoop]int{}}
		s := startServer(t, h, "tcp", WithMulticore(true), WithNumEventLoop(4), WithLoadBalancing(lb))
		var conns []net.Conn
		for range 40 {
			conns = append(conns, s.dial())
		}
		wait(t, "opens", func() bool { h.mu.Lock(); defer h.mu.Unlock(); return h.n == 40 })
		h.mu.Lock()
		t.Logf("lb %d: per loop %v", lb, h.per)
		switch lb {
		case RoundRobin, LeastConnections:
			// Connections arrive one at a time: both spread them evenly.
			if len(h.per) != 4 {
				t.Errorf("lb %d used %d loops, want 4", lb, len(h.per))
			}
			for _, n := range h.per {
				if lb == RoundRobin && n != 10 {
					t.Errorf("round robin: %v", h.per)
				}
			}
		case SourceAddrHash:
			if len(h.per) < 2 {
				t.Errorf("source hash used %d loops for 40 ports", len(h.per))
			}
		}
		h.mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
		s.stop()
	}
}
