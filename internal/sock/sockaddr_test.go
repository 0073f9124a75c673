//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package sock

import (
	"net"
	"net/netip"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

func TestFamily(t *testing.T) {
	v4, v6, mapped := netip.MustParseAddr("10.1.2.3"), netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("::ffff:10.1.2.3")
	for _, tc := range []struct {
		network string
		ip      netip.Addr
		want    int
	}{
		{"tcp", netip.IPv6Unspecified(), unix.AF_INET6},
		{"udp", netip.IPv6Unspecified(), unix.AF_INET6},
		{"tcp", v4, unix.AF_INET},
		{"udp", mapped, unix.AF_INET},
		{"tcp", v6, unix.AF_INET6},
		{"tcp4", netip.IPv4Unspecified(), unix.AF_INET},
		{"udp4", v4, unix.AF_INET},
		{"tcp6", v4, unix.AF_INET6},
		{"udp6", v6, unix.AF_INET6},
	} {
		if got := Family(tc.network, tc.ip); got != tc.want {
			t.Errorf("Family(%s, %v) = %d, want %d", tc.network, tc.ip, got, tc.want)
		}
	}
}

func TestSockaddrRoundTrip(t *testing.T) {
	lo, err := loopbackName()
	if err != nil {
		t.Skip(err)
	}
	for _, tc := range []struct {
		family int
		ip     string
		want   string // net.UDPAddr / net.TCPAddr String()
	}{
		{unix.AF_INET, "192.0.2.7", "192.0.2.7:53"},
		{unix.AF_INET, "::ffff:192.0.2.7", "192.0.2.7:53"},
		{unix.AF_INET6, "192.0.2.7", "192.0.2.7:53"}, // v4-mapped on a dual-stack socket
		{unix.AF_INET6, "2001:db8::7", "[2001:db8::7]:53"},
		{unix.AF_INET6, "fe80::1%" + lo, "[fe80::1%" + lo + "]:53"},
	} {
		sa := Sockaddr(tc.family, netip.MustParseAddr(tc.ip), 53)
		raw := sa
		if got := DatagramAddr(raw).String(); got != tc.want {
			t.Errorf("%d %s: DatagramAddr = %s, want %s", tc.family, tc.ip, got, tc.want)
		}
		if got := StreamAddr(raw).String(); got != tc.want {
			t.Errorf("%d %s: StreamAddr = %s, want %s", tc.family, tc.ip, got, tc.want)
		}
	}
	if a := StreamAddr(&syscall.SockaddrUnix{Name: "/tmp/s"}); a.Network() != "unix" || a.String() != "/tmp/s" {
		t.Errorf("unix: %v", a)
	}
	if DatagramAddr(&syscall.SockaddrUnix{Name: "x"}) != nil {
		t.Error("DatagramAddr of a unix address is not nil")
	}
	if got := zoneName(1 << 30); got != "1073741824" {
		t.Errorf("zoneName of an unknown index = %q, want the number", got)
	}
}

func TestNetAddrSockaddr(t *testing.T) {
	for _, tc := range []struct {
		family int
		a      net.Addr
		want   string
	}{
		{unix.AF_INET, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}, "127.0.0.1:9"},
		{unix.AF_INET6, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}, "127.0.0.1:9"},
		{unix.AF_INET6, &net.TCPAddr{IP: net.ParseIP("::1"), Port: 9}, "[::1]:9"},
		{unix.AF_INET, &net.IPAddr{IP: net.IPv4(10, 0, 0, 1)}, "10.0.0.1:0"},
		{unix.AF_INET, &net.UDPAddr{Port: 9}, "0.0.0.0:9"},
		{unix.AF_INET6, &net.UDPAddr{Port: 9}, "[::]:9"},
	} {
		sa := NetAddrSockaddr(tc.family, tc.a)
		if sa == nil {
			t.Errorf("%v: nil", tc.a)
			continue
		}
		if got := DatagramAddr(sa).String(); got != tc.want {
			t.Errorf("NetAddrSockaddr(%d, %v) = %s, want %s", tc.family, tc.a, got, tc.want)
		}
	}
	var nilUDP *net.UDPAddr
	for _, a := range []net.Addr{nil, nilUDP, &net.UnixAddr{Name: "x", Net: "unix"}} {
		if NetAddrSockaddr(unix.AF_INET, a) != nil {
			t.Errorf("NetAddrSockaddr(%#v) is not nil", a)
		}
	}
}

func loopbackName() (string, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return "", err
	}
	for _, ifi := range ifs {
		if ifi.Flags&net.FlagLoopback != 0 {
			return ifi.Name, nil
		}
	}
	return "", net.UnknownNetworkError("no loopback interface")
}
