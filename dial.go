//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/pollnet/pollnet/internal/sock"
	"golang.org/x/sys/unix"
)

// DialContext connects to the address on the named network using the
// provided context, like net.Dialer.DialContext. Addresses of a host name are
// tried in the resolver's order until one connects. The connection is a *Conn
// whose socket waits in the runtime poller, like std's.
func (d *Dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	ctx, cancel := d.dialContext(ctx)
	defer cancel()
	c, err := d.dial(ctx, network, address)
	if err != nil {
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			err = os.ErrDeadlineExceeded
		case errors.Is(err, context.Canceled):
			err = context.Canceled
		}
		return nil, &net.OpError{Op: "dial", Net: network, Source: d.LocalAddr, Err: err}
	}
	return c, nil
}

func (d *Dialer) dial(ctx context.Context, network, address string) (*Conn, error) {
	switch network {
	case "unix":
		return d.connect(ctx, network, address, unix.AF_UNIX, &unix.SockaddrUnix{Name: address})
	case "tcp", "tcp4", "tcp6":
	default:
		return nil, errUnsupportedNetwork
	}
	// As net.Dial: no host means the local system.
	unspecified := netip.IPv4Unspecified()
	if network == "tcp6" {
		unspecified = netip.IPv6Unspecified()
	}
	ips, port, err := resolveTCP(ctx, d.Resolver, network, address, unspecified)
	if err != nil {
		return nil, err
	}
	var firstErr error
	for _, ip := range ips {
		fam := family(network, ip)
		addr := net.JoinHostPort(ip.String(), strconv.Itoa(port))
		c, err := d.connect(ctx, network, addr, fam, tcpSockaddr(fam, ip, port))
		if err == nil {
			return c, nil
		}
		if firstErr == nil {
			firstErr = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, firstErr
}

// resolveTCP splits a tcp address into host and port and resolves both.
// An empty host stands for unspecified; a name is looked up with r (nil:
// net.DefaultResolver). The addresses returned are never empty.
func resolveTCP(ctx context.Context, r *net.Resolver, network, address string, unspecified netip.Addr) ([]netip.Addr, int, error) {
	host, portStr, err := net.SplitHostPort(address)
	if err != nil {
		return nil, 0, err
	}
	port, err := net.DefaultResolver.LookupPort(ctx, network, portStr)
	if err != nil {
		return nil, 0, err
	}
	if host == "" {
		return []netip.Addr{unspecified}, port, nil
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{ip}, port, nil
	}
	ips, err := lookupIPs(ctx, r, network, host)
	return ips, port, err
}

// lookupIPs resolves host for a tcp network; the result is never empty.
func lookupIPs(ctx context.Context, r *net.Resolver, network, host string) ([]netip.Addr, error) {
	if r == nil {
		r = net.DefaultResolver
	}
	ipNet := map[string]string{"tcp": "ip", "tcp4": "ip4", "tcp6": "ip6"}[network]
	ips, err := r.LookupNetIP(ctx, ipNet, host)
	if err == nil && len(ips) == 0 {
		err = &net.DNSError{Err: "no suitable address found", Name: host, IsNotFound: true}
	}
	return ips, err
}

// connect makes one non-blocking connect and waits for it in the runtime
// poller, bounded by ctx.
func (d *Dialer) connect(ctx context.Context, network, address string, fam int, sa unix.Sockaddr) (*Conn, error) {
	fd, err := sock.Socket(fam, unix.SOCK_STREAM)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	if err := d.prepare(fd, network, address); err != nil {
		unix.Close(fd)
		return nil, err
	}
	cerr := unix.Connect(fd, sa)
	switch cerr {
	case nil, unix.EISCONN, unix.EINPROGRESS, unix.EALREADY, unix.EINTR:
	default:
		unix.Close(fd)
		return nil, os.NewSyscallError("connect", cerr)
	}
	f := os.NewFile(uintptr(fd), "")
	if cerr != nil && cerr != unix.EISCONN {
		if err := waitConnect(ctx, f); err != nil {
			f.Close()
			return nil, err
		}
	}
	lsa, _ := syscall.Getsockname(fd)
	rsa, err := syscall.Getpeername(fd)
	if err != nil {
		f.Close()
		return nil, os.NewSyscallError("getpeername", err)
	}
	if fam != unix.AF_UNIX {
		ka := d.KeepAlive
		if ka == 0 {
			ka = defaultKeepAlive
		}
		setTCPOptions(fd, ka)
	}
	c := &Conn{kind: netKindOf(network), laddr: toAddr(lsa), raddr: toAddr(rsa)}
	c.sock.init(fd, f)
	c.idle.proto.Store(protoOther)
	return c, nil
}

// prepare applies the Control hook and LocalAddr before connecting.
func (d *Dialer) prepare(fd int, network, address string) error {
	if d.Control != nil {
		if err := d.Control(network, address, fdRawConn(fd)); err != nil {
			return err
		}
	}
	if d.LocalAddr == nil {
		return nil
	}
	var lsa unix.Sockaddr
	switch a := d.LocalAddr.(type) {
	case *net.TCPAddr:
		ip, _ := netip.AddrFromSlice(a.IP)
		fam := unix.AF_INET6
		if sa, err := unix.Getsockname(fd); err == nil {
			if _, ok := sa.(*unix.SockaddrInet4); ok {
				fam = unix.AF_INET
			}
		}
		lsa = tcpSockaddr(fam, ip, a.Port)
	case *net.UnixAddr:
		lsa = &unix.SockaddrUnix{Name: a.Name}
	default:
		return errUnsupportedNetwork
	}
	return os.NewSyscallError("bind", unix.Bind(fd, lsa))
}

// aLongTimeAgo is a deadline in the past, to wake a waiting call now.
var aLongTimeAgo = time.Unix(1, 0)

// waitConnect waits until an in-progress connect finishes, fails, or ctx ends.
func waitConnect(ctx context.Context, f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	if dl, ok := ctx.Deadline(); ok {
		f.SetWriteDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { f.SetWriteDeadline(aLongTimeAgo) })
	defer stop()
	var soErr error
	werr := rc.Write(func(fd uintptr) bool {
		v, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_ERROR)
		if err != nil {
			soErr = err
			return true
		}
		switch e := unix.Errno(v); e {
		case unix.EINPROGRESS, unix.EALREADY, unix.EINTR:
			return false
		case 0:
			// Writable with no error: connected, unless the wake-up was
			// spurious (then the peer is not known yet).
			_, err := syscall.Getpeername(int(fd))
			return err == nil
		default:
			soErr = e
			return true
		}
	})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if werr != nil {
		return werr
	}
	if soErr != nil {
		return os.NewSyscallError("connect", soErr)
	}
	return f.SetWriteDeadline(time.Time{})
}
