//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package gnet

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pollnet/pollnet/internal/sock"
	"golang.org/x/sys/unix"
)

// TestNoLeakAfterStop: after Stop, the engine's goroutines, descriptors,
// pooled buffers and (on io_uring) rings and mapped buffer memory are all
// gone, including those of connections that were mid-write to a slow reader
// (a send in flight), had deadlines, or were being enrolled.
func TestNoLeakAfterStop(t *testing.T) {
	g0, fd0 := goroutines(), countFDs()
	r0, m0 := ringStats()
	var opened []*conn // OnOpen runs on the loops; read after Stop
	var mu sync.Mutex
	h := &closeErrs{errs: make(chan error, 200), onOpen: func(c Conn) {
		c.SetDeadline(time.Now().Add(time.Hour))
		c.Write(make([]byte, 1<<20)) // slow reader: output stays pending
		mu.Lock()
		opened = append(opened, c.(*conn))
		mu.Unlock()
	}}
	s := startServer(t, h, "tcp", WithNumEventLoop(2), WithTicker(true), WithIdleTimeout(time.Hour))
	var conns []net.Conn
	for range 50 {
		c := s.dial()
		c.Write([]byte("partial frame, left in the inbound buffer"))
		conns = append(conns, c)
	}
	wait(t, "opens", func() bool { return h.opened.Load() == 50 })
	if err := s.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if h.closed.Load() != 50 {
		t.Fatalf("OnClose fired %d times, want 50", h.closed.Load())
	}
	for _, c := range conns {
		c.Close()
	}
	wait(t, "goroutines", func() bool { return goroutines() <= g0 })
	wait(t, "descriptors", func() bool { return countFDs() <= fd0 })
	if r, m := ringStats(); r != r0 || m != m0 {
		t.Fatalf("%d rings and %d mapped bytes left (before: %d, %d)", r-r0, m-m0, r0, m0)
	}
	// Pooled buffers live only in a conn's in and out: every closed conn
	// must have given both back.
	for _, c := range opened {
		if c.in != nil || c.out != nil {
			t.Fatalf("a closed connection still holds pooled buffers (in %v, out %v)", c.in != nil, c.out != nil)
		}
	}
}

// TestEMFILEBackoff: while accept fails with EMFILE the acceptor backs off
// instead of spinning, and once descriptors are available again it accepts
// the waiting connections without needing a new edge.
func TestEMFILEBackoff(t *testing.T) {
	pollerOnly(t, "sysAccept is the poller acceptor's accept(2); TestEMFILERealLimit runs on both")
	var failing atomic.Bool
	var emfiles atomic.Int64
	failing.Store(true)
	sysAccept = func(fd int) (int, syscall.Sockaddr, error) {
		if failing.Load() {
			emfiles.Add(1)
			return -1, nil, unix.EMFILE
		}
		return sock.Accept(fd)
	}
	defer func() { sysAccept = sock.Accept }()
	h := &echo{}
	s := startServer(t, h, "tcp")
	start := time.Now()
	var conns []net.Conn
	for range 5 {
		conns = append(conns, s.dial()) // completes in the kernel's backlog
	}
	wait(t, "an EMFILE", func() bool { return emfiles.Load() > 0 })
	time.Sleep(300 * time.Millisecond)
	attempts := emfiles.Load()
	elapsed := time.Since(start)
	// The backoff doubles from sock.BackoffMin to sock.BackoffMax: in
	// elapsed time at most about 10 doublings plus one try per BackoffMax.
	// A spinning acceptor would make hundreds of thousands of attempts.
	bound := int64(10 + elapsed/sock.BackoffMax + 10)
	t.Logf("%d accept attempts in %v (bound %d)", attempts, elapsed, bound)
	if attempts > bound {
		t.Fatalf("%d attempts: the acceptor spins", attempts)
	}
	failing.Store(false)
	wait(t, "the waiting connections to open", func() bool { return h.opened.Load() == 5 })
	for _, c := range conns {
		c.Write([]byte("x"))
		readFull(t, c, 1)
		c.Close()
	}
	if err := s.stop(); err != nil { // before the deferred hook restore
		t.Fatal(err)
	}
}

// bootNotifier is an echo engine that hands out its Engine at boot.
type bootNotifier struct {
	echo
	booted chan Engine
}

func (b *bootNotifier) OnBoot(e Engine) Action { b.booted <- e; return None }

// TestEMFILEBackoffManyListeners: an EMFILE on one listener keeps the
// engine's backoff even when another listener reports EAGAIN in the same
// round (found in review: the second listener reset it, and the connection
// whose edge was consumed waited for a new one).
func TestEMFILEBackoffManyListeners(t *testing.T) {
	pollerOnly(t, "sysAccept is the poller acceptor's accept(2); TestEMFILERealLimitManyListeners runs on both")
	a0, a1 := freeAddr(t), freeAddr(t)
	var failsLeft atomic.Int32
	failsLeft.Store(1)
	var fd0 atomic.Int64
	fd0.Store(-1)
	sysAccept = func(fd int) (int, syscall.Sockaddr, error) {
		if int64(fd) == fd0.Load() && failsLeft.Add(-1) >= 0 {
			return -1, nil, unix.EMFILE
		}
		return sock.Accept(fd)
	}
	defer func() { sysAccept = sock.Accept }()
	h := &bootNotifier{booted: make(chan Engine, 1)}
	done := make(chan error, 1)
	go func() { done <- Rotate(h, []string{"tcp://" + a0, "tcp://" + a1}) }()
	e := <-h.booted
	fd0.Store(int64(e.eng.listeners[0].fds[0]))
	c, err := net.Dial("tcp", a0)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	wait(t, "the connection refused once by EMFILE to open", func() bool { return h.opened.Load() == 1 })
	if failsLeft.Load() >= 0 {
		t.Fatal("no EMFILE was injected")
	}
	if err := e.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestLingerEnds: after a server-side Close, the socket lingers only until
// the peer's end of stream, or lingerTimeout for a peer that never closes;
// either way its descriptor goes, while the engine keeps running.
func TestLingerEnds(t *testing.T) {
	h := &bigWriter{size: 1, closed: make(chan error, 20)}
	s := startServer(t, h, "tcp")
	defer s.stop()
	fd0 := countFDs()
	var polite, silent []net.Conn
	for i := range 20 {
		c := s.dial()
		c.Write([]byte("x"))
		readFull(t, c, 1)
		c.SetReadDeadline(time.Now().Add(long))
		if n, err := c.Read(make([]byte, 1)); n != 0 || err != io.EOF {
			t.Fatalf("after the reply: %d, %v; want EOF", n, err)
		}
		if i%2 == 0 {
			polite = append(polite, c)
		} else {
			silent = append(silent, c)
		}
	}
	start := time.Now()
	for _, c := range polite {
		c.Close()
	}
	// Left: the silent clients' sockets and the server's, lingering.
	wait(t, "polite peers' sockets to close", func() bool { return countFDs() <= fd0+20 })
	wait(t, "lingering sockets to time out", func() bool { return countFDs() <= fd0+10 })
	if d := time.Since(start); d < lingerTimeout/2 {
		t.Errorf("silent peers' sockets closed after %v, before the linger time (%v)", d, lingerTimeout)
	}
	for _, c := range silent {
		c.Close()
	}
	wait(t, "descriptors", func() bool { return countFDs() <= fd0 })
}
