//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"net"
	"testing"
)

func TestPeerAddrRoundTrip(t *testing.T) {
	for _, a := range []net.Addr{
		&net.TCPAddr{IP: net.ParseIP("127.0.0.2"), Port: 40000},
		&net.TCPAddr{IP: net.ParseIP("::ffff:10.1.2.3"), Port: 1},
	} {
		p := unpackParkInfo(parkInfo{peer: makePeerAddr(a)}.pack()).peer
		got, err := p.addr(-1)
		if !p.ok || err != nil || got.String() != a.String() {
			t.Fatalf("%v: kept %+v, got %v, %v", a, p, got, err)
		}
	}
	for _, a := range []net.Addr{
		&net.TCPAddr{IP: net.ParseIP("::1"), Port: 80},
		&net.TCPAddr{IP: net.ParseIP("fe80::1"), Port: 80, Zone: "lo"},
		&net.UnixAddr{Name: "", Net: "unix"},
	} {
		if makePeerAddr(a).ok {
			t.Fatalf("%v: kept, want the kernel to be asked", a)
		}
	}
}
