//go:build linux

package gnet

import (
	"encoding/binary"
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/pollnet/pollnet/internal/uring"
)

// datagramBuffers is the number of buffers of the datagram ring: the most
// datagrams the loop takes in one turn. Each holds a header, the sender's
// address and ReadBufferCap bytes of payload (larger datagrams are dropped,
// as on the poller); a small datagram touches only the first page of its
// buffer.
const datagramBuffers = 16

// syncDatagram arms a UDP socket's receive: each datagram arrives whole in
// a buffer of its own, with its sender.
func (u *uloop) syncDatagram(c *conn) bool {
	if c.flags&fRecv == 0 {
		if u.dbufs == nil {
			size := (16 + int(u.dmsg.Namelen) + u.l.eng.opts.ReadBufferCap + 7) &^ 7
			br, err := u.ring.NewBufRing(1, datagramBuffers, size, false)
			if err != nil {
				u.l.eng.fail(err)
				c.flags &^= fDirty
				return true
			}
			u.dbufs = br
		}
		s := u.ring.NextSQE()
		if s == nil {
			return false
		}
		fd := int(c.fd)
		s.PrepRecvmsgMultishot(fd, &u.dmsg, u.dbufs.Group(), ud(opRecvmsg, fd, c.gen))
		c.flags = c.flags&^fFed | fRecv
	}
	c.flags &^= fDirty
	return true
}

// datagramIn hands a received datagram (header, sender, payload, as the
// multishot recvmsg wrote them) to OnTraffic; one larger than the buffer
// is dropped, as on the poller.
func (u *uloop) datagramIn(c *conn, data []byte) {
	o, name, payload, ok := uring.ParseRecvmsg(data, &u.dmsg)
	switch {
	case !ok || c.flags&fClosing != 0:
	case o.Flags&unix.MSG_TRUNC != 0:
		u.l.dropOversized(c, int(o.Payloadlen))
	default:
		fed(c)
		u.l.deliverDatagram(c, payload, rawSockaddr(name))
	}
}

// datagramEnded handles a datagram receive that ended with res (0 or an
// error).
func (u *uloop) datagramEnded(c *conn, res int32) {
	switch {
	case res == 0:
		u.want(c)
	case c.flags&fListening != 0:
		// An error queued on an unconnected socket concerns one send, not
		// the socket: receiving it cleared it.
		u.l.eng.logf("debug", "gnet: udp recv on %v: %v", c.ad.laddr, unix.Errno(-res))
		u.want(c)
	default: // a connected socket's peer is unreachable
		u.l.closeConn(c, os.NewSyscallError("read", unix.Errno(-res)), false)
	}
}

// rawSockaddr decodes the sender address a datagram receive wrote.
func rawSockaddr(b []byte) syscall.Sockaddr {
	if len(b) < 2 {
		return nil
	}
	switch binary.NativeEndian.Uint16(b) {
	case unix.AF_INET:
		if len(b) >= 8 {
			sa := &syscall.SockaddrInet4{Port: int(b[2])<<8 | int(b[3])}
			copy(sa.Addr[:], b[4:8])
			return sa
		}
	case unix.AF_INET6:
		if len(b) >= 28 {
			sa := &syscall.SockaddrInet6{Port: int(b[2])<<8 | int(b[3]), ZoneId: binary.NativeEndian.Uint32(b[24:28])}
			copy(sa.Addr[:], b[8:24])
			return sa
		}
	}
	return nil
}
