//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package gnet

import (
	"net"
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/pollnet/pollnet/internal/poller"
	"github.com/pollnet/pollnet/internal/sock"
)

// UDP, as gnet v2 serves it.
//
// A UDP listener's sockets are registered directly on the event loops (not
// on the acceptor): socket i on loop i. In its loop's fd table each is a
// conn record flagged fListening; it is not a connection (no OnOpen, no
// OnClose, not counted) and holds no buffer while idle. Each datagram it
// receives becomes a short-lived conn whose ad names the socket and the
// sender: OnTraffic sees the datagram through it, Write and AsyncWrite send
// a reply to the sender (from any goroutine, also after OnTraffic has
// returned), SendTo sends anywhere. Whatever OnTraffic leaves unread of a
// datagram is dropped.
//
// A connected UDP socket (Client.Dial, Enroll, EventLoop.Register of a UDP
// address) is a connection like a TCP one (OnOpen, OnClose, counted,
// deadlines), whose reads and writes are whole datagrams.
//
// Fairness: a socket is read until EAGAIN, but at most maxDatagramsPerTurn
// datagrams or the loop's read budget in bytes per turn; then it goes to the
// loop's backlog, like a stream cut off by its budget, so a flooded socket
// does not starve the loop's other sockets and connections.

// maxDatagramsPerTurn bounds the datagrams one socket yields per loop turn.
const maxDatagramsPerTurn = 64

// addDatagramSocket registers fd, a socket of UDP listener ln, on l. It runs
// before the loop starts.
func (l *eventloop) addDatagramSocket(ln *listener, fd int) error {
	s := newConn(l, fd, ln.ad)
	s.flags = fListening
	l.gen++
	s.gen = l.gen
	if l.ur != nil {
		l.ur.open(s)
	} else if err := l.p.Add(fd, poller.MakeKey(fd, s.gen), poller.Readable); err != nil {
		return os.NewSyscallError("poller", err)
	}
	l.setConn(fd, s)
	return nil
}

// dropDatagramSocket unregisters a UDP listener's socket (the listener
// closes it): no datagram send can reach its descriptor afterwards.
func (l *eventloop) dropDatagramSocket(s *conn) {
	s.retireFd()
	if l.ur != nil {
		l.ur.forget(s) // its receive is cancelled; the descriptor stays the listener's
	} else {
		l.p.Remove(int(s.fd))
	}
	l.conns[s.fd] = nil
}

// datagram is one received datagram's conn and its addresses, allocated
// together.
type datagram struct {
	c  conn
	ad connAddrs
}

// readDatagrams receives datagrams on c: a UDP listener's socket or a
// connected UDP conn. See the top of the file for the budget.
func (l *eventloop) readDatagrams(c *conn) {
	if l.ur != nil {
		l.ur.resume(c)
		return
	}
	budget := l.budget
	for range maxDatagramsPerTurn {
		if c.flags&fClosed != 0 {
			return
		}
		n, from, truncated, err := sockRecv(int(c.fd), l.buf)
		switch {
		case err == unix.EAGAIN:
			return
		case err != nil && c.flags&fListening != 0:
			// An error queued on an unconnected socket (an ICMP report,
			// where the system passes those on) concerns one send, not
			// the socket: reading it cleared it.
			l.eng.logf("debug", "gnet: udp recv on %v: %v", c.ad.laddr, err)
			continue
		case err != nil:
			// On a connected socket the peer is unreachable (an ICMP
			// port unreachable, say): the connection fails, as in gnet v2.
			l.closeConn(c, os.NewSyscallError("read", err), false)
			return
		case truncated:
			l.dropOversized(c, n)
			continue
		}
		budget -= n
		l.deliverDatagram(c, l.buf[:n], from)
		if budget <= 0 {
			break
		}
	}
	l.toBacklog(c) // more may be queued, and no new edge will say so
}

// deliverDatagram hands the datagram p from sender from, received on c (a
// UDP listener's socket or a connected UDP conn), to OnTraffic.
func (l *eventloop) deliverDatagram(c *conn, p []byte, from syscall.Sockaddr) {
	to := c
	if c.flags&fListening != 0 {
		d := &datagram{ad: connAddrs{laddr: c.ad.laddr, kind: kindUDP, family: c.ad.family, udpSock: c, peer: from}}
		d.c = conn{loop: l, fd: c.fd, ad: &d.ad, heapIdx: -1}
		to = &d.c
	} else {
		c.lastActive = l.now
	}
	l.traffic(to, p)
}

// dropOversized drops a datagram that did not fit the read buffer (a
// truncated datagram is not delivered as if it were whole). It logs the
// first drop and then every time the count doubles.
func (l *eventloop) dropOversized(c *conn, n int) {
	l.oversized++
	if l.oversized&(l.oversized-1) == 0 {
		l.eng.logf("warn", "gnet: udp %v: dropped a datagram larger than the read buffer (%d bytes; %d dropped so far): raise WithReadBufferCap",
			c.ad.laddr, n, l.oversized)
	}
}

// sendDatagram sends p as one datagram from c's socket: to to if not nil,
// else to the sender of the datagram c is (on a UDP listener), else to the
// connected peer. Any goroutine may call it.
func (c *conn) sendDatagram(p []byte, to syscall.Sockaddr) (int, error) {
	s := c.socket()
	if !s.acquire() {
		return 0, net.ErrClosed
	}
	defer s.release()
	if to == nil {
		to = c.ad.peer
	}
	if err := sockSend(int(s.fd), p, to); err != nil {
		return 0, os.NewSyscallError("sendto", err)
	}
	return len(p), nil
}

// SendTo sends p as one datagram to addr (UDP only: ErrUnsupportedOp on
// stream connections; ErrInvalidNetworkAddress if addr is not an IP
// address). Safe from any goroutine.
func (c *conn) SendTo(p []byte, addr net.Addr) (int, error) {
	if !c.isDatagram() {
		return 0, ErrUnsupportedOp
	}
	to := sock.NetAddrSockaddr(int(c.ad.family), addr)
	if to == nil {
		return 0, ErrInvalidNetworkAddress
	}
	return c.sendDatagram(p, to)
}
