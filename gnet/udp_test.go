//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package gnet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// udpEcho echoes each datagram: with Write from OnTraffic, or, for
// datagrams starting with "async", with AsyncWrite from another goroutine
// after OnTraffic has returned.
type udpEcho struct {
	echo
	mu   sync.Mutex
	last Conn // the last datagram's conn
}

func (h *udpEcho) OnTraffic(c Conn) Action {
	h.traffic.Add(1)
	b, _ := c.Next(-1)
	h.mu.Lock()
	h.last = c
	h.mu.Unlock()
	if bytes.HasPrefix(b, []byte("async")) {
		p := append([]byte(nil), b...)
		go func() {
			time.Sleep(time.Millisecond) // OnTraffic has returned by now, usually
			if err := c.AsyncWrite(p, nil); err != nil {
				panic(err)
			}
		}()
		return None
	}
	c.Write(b)
	return None
}

func udpRoundTrip(t *testing.T, c net.Conn, msg []byte) {
	t.Helper()
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(long))
	buf := make([]byte, 65536)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("reply to %d bytes: %v", len(msg), err)
	}
	if !bytes.Equal(buf[:n], msg) {
		t.Fatalf("reply %q, want %q", buf[:n], msg)
	}
}

// TestUDPEcho: datagrams from many peers over two loops (two SO_REUSEPORT
// sockets where the kernel balances them), replies by Write and by a late
// AsyncWrite; no connection is opened, counted or closed.
func TestUDPEcho(t *testing.T) {
	h := &udpEcho{}
	s := startServer(t, h, "udp", WithNumEventLoop(2))
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := s.dial()
			defer c.Close()
			for j := range 50 {
				prefix := "sync"
				if j%3 == 0 {
					prefix = "async"
				}
				udpRoundTrip(t, c, fmt.Appendf(nil, "%s %d %d %s", prefix, i, j, bytes.Repeat([]byte("x"), j*20)))
			}
		}()
	}
	wg.Wait()
	if h.traffic.Load() != 400 {
		t.Fatalf("%d datagrams handled, want 400", h.traffic.Load())
	}
	if h.opened.Load() != 0 || h.closed.Load() != 0 {
		t.Fatalf("datagrams opened %d and closed %d connections", h.opened.Load(), h.closed.Load())
	}
	if n := h.eng.Load().CountConnections(); n != 0 {
		t.Fatalf("CountConnections %d on a UDP listener", n)
	}
}

// udpProbe runs API checks on the first datagram's conn and reports them.
type udpProbe struct {
	BuiltinEventEngine
	other net.Addr // SendTo target
	out   chan error
}

func (h *udpProbe) OnTraffic(c Conn) Action {
	b, _ := c.Next(-1)
	check := func(what string, err, want error) {
		if !errors.Is(err, want) {
			h.out <- fmt.Errorf("%s: %v, want %v", what, err, want)
		}
	}
	_, err := c.Writev([][]byte{b})
	check("Writev", err, ErrUnsupportedOp)
	check("AsyncWritev", c.AsyncWritev([][]byte{b}, nil), ErrUnsupportedOp)
	_, err = c.SendTo(b, nil)
	check("SendTo(nil)", err, ErrInvalidNetworkAddress)
	check("SetDeadline", c.SetDeadline(time.Now().Add(time.Hour)), ErrUnsupportedOp)
	check("SetReadDeadline", c.SetReadDeadline(time.Now()), ErrUnsupportedOp)
	check("SetKeepAlivePeriod", c.SetKeepAlivePeriod(time.Minute), ErrUnsupportedOp)
	check("SetNoDelay", c.SetNoDelay(true), ErrUnsupportedOp)
	_, err = c.ReadFrom(bytes.NewReader(b))
	check("ReadFrom", err, ErrUnsupportedOp)
	check("SetReadBuffer", c.SetReadBuffer(1<<16), nil)
	check("Flush", c.Flush(), nil)
	if fd, err := c.Dup(); err != nil || fd <= 2 {
		h.out <- fmt.Errorf("Dup: %d, %v", fd, err)
	} else {
		syscall.Close(fd)
	}
	if c.LocalAddr().Network() != "udp" || c.RemoteAddr().Network() != "udp" {
		h.out <- fmt.Errorf("addresses %v %v", c.LocalAddr(), c.RemoteAddr())
	}
	check("Close", c.Close(), nil) // a datagram is not a connection: nothing happens
	n, err := c.SendTo([]byte("to the other"), h.other)
	if err != nil || n != len("to the other") {
		h.out <- fmt.Errorf("SendTo: %d, %v", n, err)
	}
	_, err = c.Write([]byte("reply:" + c.RemoteAddr().String()))
	check("Write", err, nil)
	h.out <- nil
	return None
}

// TestUDPConnAPI: what a datagram's conn supports, and how it refuses the
// rest, as gnet v2 does.
func TestUDPConnAPI(t *testing.T) {
	other, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	h := &udpProbe{other: other.LocalAddr(), out: make(chan error, 32)}
	s := startServer(t, h, "udp")
	c := s.dial()
	defer c.Close()
	c.Write([]byte("probe"))
	for err := range h.out {
		if err == nil {
			break
		}
		t.Error(err)
	}
	buf := make([]byte, 100)
	c.SetReadDeadline(time.Now().Add(long))
	n, err := c.Read(buf)
	if err != nil || string(buf[:n]) != "reply:"+c.LocalAddr().String() {
		t.Fatalf("reply %q, %v; want the peer address %s", buf[:n], err, c.LocalAddr())
	}
	other.SetReadDeadline(time.Now().Add(long))
	n, _, err = other.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "to the other" {
		t.Fatalf("SendTo's datagram: %q, %v", buf[:n], err)
	}
	// the "closed" datagram did not close the socket
	udpRoundTripAfter(t, s, c)
}

func udpRoundTripAfter(t *testing.T, s *server, c net.Conn) {
	t.Helper()
	c.Write([]byte("again"))
	buf := make([]byte, 100)
	c.SetReadDeadline(time.Now().Add(long))
	if _, err := c.Read(buf); err != nil {
		t.Fatalf("the socket stopped serving: %v", err)
	}
}

// sizes records the size of every datagram.
type sizes struct {
	BuiltinEventEngine
	got chan int
}

func (h *sizes) OnTraffic(c Conn) Action {
	h.got <- c.InboundBuffered()
	return None
}

// TestUDPOversized: a datagram larger than the read buffer is dropped, not
// delivered cut short, and the socket goes on; one that fits arrives whole.
func TestUDPOversized(t *testing.T) {
	h := &sizes{got: make(chan int, 8)}
	s := startServer(t, h, "udp", WithReadBufferCap(4096))
	c := s.dial()
	defer c.Close()
	c.Write(make([]byte, 6000))
	c.Write(make([]byte, 4096))
	c.Write(make([]byte, 100))
	for _, want := range []int{4096, 100} {
		select {
		case n := <-h.got:
			if n != want {
				t.Fatalf("delivered a %d-byte datagram, want %d (the 6000-byte one must be dropped)", n, want)
			}
		case <-time.After(long):
			t.Fatal("datagram not delivered")
		}
	}
	h2 := &sizes{got: make(chan int, 1)}
	s2 := startServer(t, h2, "udp")
	c2 := s2.dial()
	defer c2.Close()
	c2.Write(make([]byte, 60000))
	if n := <-h2.got; n != 60000 {
		t.Fatalf("a 60000-byte datagram arrived as %d bytes", n)
	}
}

// floodFair: a UDP socket and TCP connections on one loop.
type floodFair struct {
	BuiltinEventEngine
	datagrams atomic.Int64
}

func (h *floodFair) OnTraffic(c Conn) Action {
	if c.LocalAddr().Network() == "udp" {
		h.datagrams.Add(1)
		return None
	}
	b, _ := c.Next(-1)
	c.Write(b)
	return None
}

// TestUDPFloodFair: a flooded UDP socket does not starve a TCP connection on
// the same loop: the socket is cut off by its per-turn budget and finished
// from the backlog.
func TestUDPFloodFair(t *testing.T) {
	hk := useHooks(t)
	h := &floodFair{}
	udpAddr, tcpAddr := freeUDPAddr(t), freeAddr(t)
	addrs := []string{"udp://" + udpAddr, "tcp://" + tcpAddr}
	done := make(chan error, 1)
	go func() { done <- Rotate(h, addrs, WithNumEventLoop(1), WithSocketRecvBuffer(4<<20)) }()
	var tc net.Conn
	deadline := time.Now().Add(long)
	for tc == nil && time.Now().Before(deadline) {
		tc, _ = net.Dial("tcp", tcpAddr)
	}
	if tc == nil {
		t.Fatal("server did not start")
	}
	defer tc.Close()
	var flooding atomic.Bool
	flooding.Store(true)
	stop := make(chan struct{})
	go func() {
		defer flooding.Store(false)
		u, err := net.Dial("udp", udpAddr)
		if err != nil {
			return
		}
		defer u.Close()
		msg := make([]byte, 64)
		for range 2_000_000 {
			select {
			case <-stop:
				return
			default:
			}
			u.Write(msg)
		}
	}()
	wait(t, "flood under way", func() bool { return h.datagrams.Load() > 1000 })
	for i := range 20 {
		msg := fmt.Appendf(nil, "ping %d", i)
		tc.Write(msg)
		if got := readFull(t, tc, len(msg)); !bytes.Equal(got, msg) {
			t.Fatalf("got %q", got)
		}
	}
	stillFlooding := flooding.Load()
	close(stop)
	if !stillFlooding {
		t.Fatal("the TCP round trips finished only after the flood ended")
	}
	if hk.backlogTurns.Load() == 0 {
		t.Fatal("the budget never cut the flooded socket off")
	}
	if err := Stop(context.Background(), addrs[0]); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// connectedUDP is a server that also holds connected UDP conns.
type connectedUDP struct {
	echo
	got  chan string
	errs chan error
}

func (h *connectedUDP) OnOpen(c Conn) ([]byte, Action) {
	h.opened.Add(1)
	return []byte("hello"), None
}

func (h *connectedUDP) OnTraffic(c Conn) Action {
	b, _ := c.Next(-1)
	h.got <- string(b)
	return None
}

func (h *connectedUDP) OnClose(c Conn, err error) Action {
	h.closed.Add(1)
	h.errs <- err
	return None
}

// TestUDPRegister: a UDP address registered on a server engine is a
// connection (OnOpen, counted, OnClose); an ICMP port unreachable for it
// closes it with ECONNREFUSED, as in gnet v2.
func TestUDPRegister(t *testing.T) {
	peer, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	go func() { // echo
		buf := make([]byte, 2048)
		for {
			n, from, err := peer.ReadFrom(buf)
			if err != nil {
				return
			}
			peer.WriteTo(buf[:n], from)
		}
	}()
	h := &connectedUDP{got: make(chan string, 8), errs: make(chan error, 8)}
	startServer(t, h, "tcp")
	eng := *h.eng.Load()
	var ch <-chan RegisteredResult
	wait(t, "the loops to start after OnBoot", func() bool {
		ch, err = eng.Register(NewNetAddrContext(context.Background(), peer.LocalAddr()))
		return !errors.Is(err, ErrEmptyEngine)
	})
	if err != nil {
		t.Fatal(err)
	}
	r := <-ch
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	if s := <-h.got; s != "hello" { // OnOpen's output, echoed
		t.Fatalf("got %q", s)
	}
	if n := eng.CountConnections(); n != 1 {
		t.Fatalf("CountConnections %d, want 1", n)
	}
	r.Conn.AsyncWrite([]byte("async"), nil)
	if s := <-h.got; s != "async" {
		t.Fatalf("got %q", s)
	}

	// A port with no socket: the kernel answers the datagram with an ICMP
	// port unreachable, which the connected socket reports.
	dead, _ := net.ListenPacket("udp", "127.0.0.1:0")
	deadAddr := dead.LocalAddr()
	dead.Close()
	ch, err = eng.Register(NewNetAddrContext(context.Background(), deadAddr))
	if err != nil {
		t.Fatal(err)
	}
	if r := <-ch; r.Err != nil {
		t.Fatal(r.Err)
	}
	if err := recvErr(t, h.errs, "the refused connection to close"); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("OnClose: %v, want ECONNREFUSED", err)
	}
	if err := r.Conn.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-h.errs; err != nil {
		t.Fatalf("OnClose after Close: %v", err)
	}
	if n := eng.CountConnections(); n != 0 {
		t.Fatalf("CountConnections %d after both closed", n)
	}
}

// TestUDPClient: Client.Dial of a UDP address.
func TestUDPClient(t *testing.T) {
	s := startServer(t, &udpEcho{}, "udp")
	h := &connectedUDP{got: make(chan string, 8), errs: make(chan error, 8)}
	cli, err := NewClient(h)
	if err != nil {
		t.Fatal(err)
	}
	if err := cli.Start(); err != nil {
		t.Fatal(err)
	}
	c, err := cli.Dial("udp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	if got := <-h.got; got != "hello" {
		t.Fatalf("got %q", got)
	}
	if _, err := c.SendTo([]byte("sent to"), c.RemoteAddr()); err != nil {
		t.Fatal(err)
	}
	if got := <-h.got; got != "sent to" {
		t.Fatalf("got %q", got)
	}
	if err := cli.Stop(); err != nil {
		t.Fatal(err)
	}
	if h.closed.Load() != 1 {
		t.Fatalf("OnClose fired %d times", h.closed.Load())
	}
}

// TestRotateMixed: one engine on TCP, UDP and unix addresses at once.
func TestRotateMixed(t *testing.T) {
	tcpA, udpA, unixA := freeAddr(t), freeUDPAddr(t), t.TempDir()+"/s.sock"
	h := &udpEcho{}
	booted := make(chan Engine, 1)
	done := make(chan error, 1)
	addrs := []string{"tcp://" + tcpA, "udp://" + udpA, "unix://" + unixA}
	go func() { done <- Rotate(&bootNotifierH{EventHandler: h, booted: booted}, addrs, WithNumEventLoop(2)) }()
	eng := <-booted
	for _, na := range [][2]string{{"tcp", tcpA}, {"udp", udpA}, {"unix", unixA}} {
		c, err := net.Dial(na[0], na[1])
		if err != nil {
			t.Fatal(err)
		}
		udpRoundTrip(t, c, []byte("over "+na[0]))
		c.Close()
	}
	if _, err := eng.Dup(); !errors.Is(err, ErrUnsupportedOp) {
		t.Fatalf("Dup with three listeners: %v", err)
	}
	for _, na := range [][2]string{{"udp", udpA}, {"udp4", udpA}, {"tcp", tcpA}, {"unix", unixA}} {
		fd, err := eng.DupListener(na[0], na[1])
		if na[0] == "udp4" {
			if !errors.Is(err, ErrInvalidNetworkAddress) {
				t.Fatalf("DupListener(udp4) of a udp listener: %v", err)
			}
			continue
		}
		if err != nil || fd <= 2 {
			t.Fatalf("DupListener(%s): %d, %v", na[0], fd, err)
		}
		syscall.Close(fd)
	}
	if err := eng.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// bootNotifierH hands out the Engine at boot.
type bootNotifierH struct {
	EventHandler
	booted chan Engine
}

func (b *bootNotifierH) OnBoot(e Engine) Action {
	b.EventHandler.OnBoot(e)
	b.booted <- e
	return None
}

// TestUDPReusePort: with WithReusePort two engines share a UDP port;
// without it the second cannot bind.
func TestUDPReusePort(t *testing.T) {
	addr := freeUDPAddr(t)
	// Stop(ctx, protoAddr) names one engine per address: stop these two
	// through their Engines.
	var engs []Engine
	var dones []chan error
	for range 2 {
		booted, done := make(chan Engine, 1), make(chan error, 1)
		go func() {
			done <- Run(&bootNotifierH{EventHandler: &udpEcho{}, booted: booted}, "udp://"+addr, WithReusePort(true))
		}()
		select {
		case e := <-booted:
			engs, dones = append(engs, e), append(dones, done)
		case err := <-done:
			t.Fatalf("an engine with SO_REUSEPORT: %v", err)
		}
	}
	if err := Run(&udpEcho{}, "udp://"+addr); err == nil || !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("an engine without SO_REUSEPORT: %v, want EADDRINUSE", err)
	}
	for i, e := range engs {
		if err := e.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := <-dones[i]; err != nil {
			t.Fatal(err)
		}
	}
}

// TestUDPNoLeakAfterStop: after Stop the UDP sockets, loops and goroutines
// are gone, and a datagram's conn kept by the program cannot send any more
// (its socket's descriptor number may have been reused).
func TestUDPNoLeakAfterStop(t *testing.T) {
	g0, fd0 := goroutines(), countFDs()
	h := &udpEcho{}
	s := startServer(t, h, "udp", WithNumEventLoop(2))
	c := s.dial()
	udpRoundTrip(t, c, []byte("one"))
	c.Close()
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	h.mu.Lock()
	kept := h.last
	h.mu.Unlock()
	if err := kept.AsyncWrite([]byte("late"), nil); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("AsyncWrite after Stop: %v, want net.ErrClosed", err)
	}
	if _, err := kept.SendTo([]byte("late"), kept.RemoteAddr()); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("SendTo after Stop: %v, want net.ErrClosed", err)
	}
	wait(t, "goroutines", func() bool { return goroutines() <= g0 })
	wait(t, "descriptors", func() bool { return countFDs() <= fd0 })
}
