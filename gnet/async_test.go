//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package gnet

import (
	"bytes"
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// pusher keeps the last opened conn for other goroutines to push into.
type pusher struct {
	BuiltinEventEngine
	conns     chan Conn
	wakes     atomic.Int64
	closes    atomic.Int64
	closeErrs chan error
}

func (p *pusher) OnOpen(c Conn) ([]byte, Action) { p.conns <- c; return nil, None }
func (p *pusher) OnTraffic(c Conn) Action {
	if c.InboundBuffered() == 0 { // a Wake, not data
		p.wakes.Add(1)
		c.Write([]byte("W"))
	}
	c.Discard(-1)
	return None
}
func (p *pusher) OnClose(_ Conn, err error) Action {
	p.closes.Add(1)
	if p.closeErrs != nil {
		p.closeErrs <- err
	}
	return None
}

// TestAsyncWriteWake writes and wakes from many goroutines at once.
func TestAsyncWriteWake(t *testing.T) {
	p := &pusher{conns: make(chan Conn, 1)}
	s := startServer(t, p, "tcp")
	nc := s.dial()
	defer nc.Close()
	c := <-p.conns
	const G, N = 8, 200
	var cbs atomic.Int64
	var wg sync.WaitGroup
	for g := range G {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range N {
				msg := []byte{'a' + byte(g)}
				if err := c.AsyncWrite(msg, func(Conn, error) error { cbs.Add(1); return nil }); err != nil {
					t.Error(err)
				}
				if err := c.AsyncWritev([][]byte{msg, msg}, nil); err != nil {
					t.Error(err)
				}
			}
			if err := c.Wake(func(Conn, error) error { cbs.Add(1); return nil }); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	got := readFull(t, nc, G*N*3+G)
	for g := range G {
		if n := bytes.Count(got, []byte{'a' + byte(g)}); n != 3*N {
			t.Fatalf("goroutine %d: %d bytes, want %d", g, n, 3*N)
		}
	}
	if n := bytes.Count(got, []byte("W")); n != G {
		t.Fatalf("%d wake replies, want %d", n, G)
	}
	wait(t, "callbacks", func() bool { return cbs.Load() == G*N+G })
	// After close, async calls report net.ErrClosed through the callback.
	c.Close()
	wait(t, "close", func() bool { return p.closes.Load() == 1 })
	errc := make(chan error, 2)
	c.AsyncWrite([]byte("x"), func(_ Conn, err error) error { errc <- err; return nil })
	c.Wake(func(_ Conn, err error) error { errc <- err; return nil })
	for range 2 {
		if err := <-errc; !errors.Is(err, net.ErrClosed) {
			t.Fatalf("after close: %v, want net.ErrClosed", err)
		}
	}
	if err := c.SetNoDelay(true); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("SetNoDelay after close: %v", err)
	}
}

// TestCloseRace closes one connection from many goroutines while they write:
// OnClose fires exactly once.
func TestCloseRace(t *testing.T) {
	p := &pusher{conns: make(chan Conn, 64)}
	s := startServer(t, p, "tcp", WithNumEventLoop(2))
	const conns = 20
	for range conns {
		nc := s.dial()
		defer nc.Close()
	}
	var wg sync.WaitGroup
	for range conns {
		c := <-p.conns
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c.AsyncWrite([]byte("hello"), nil)
				c.SetDeadline(time.Now().Add(time.Hour))
				c.SetKeepAlivePeriod(time.Minute)
				c.Close()
				c.CloseWithCallback(nil)
				c.RemoteAddr()
			}()
		}
	}
	wg.Wait()
	wait(t, "all closed", func() bool { return p.closes.Load() == conns })
	time.Sleep(10 * time.Millisecond)
	if n := p.closes.Load(); n != conns {
		t.Fatalf("OnClose fired %d times for %d conns", n, conns)
	}
}

// ticker counts ticks and shuts the engine down on the third.
type ticker struct {
	BuiltinEventEngine
	ticks, shutdowns atomic.Int64
	boots            atomic.Int64
}

func (h *ticker) OnBoot(Engine) Action { h.boots.Add(1); return None }
func (h *ticker) OnTick() (time.Duration, Action) {
	if h.ticks.Add(1) >= 3 {
		return time.Millisecond, Shutdown
	}
	return time.Millisecond, None
}
func (h *ticker) OnShutdown(Engine) { h.shutdowns.Add(1) }

func TestTickerShutdown(t *testing.T) {
	h := &ticker{}
	addr := "tcp://" + freeAddr(t)
	done := make(chan error, 1)
	go func() { done <- Run(h, addr, WithTicker(true)) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run returned %v after a Shutdown action, want nil", err)
		}
	case <-time.After(long):
		t.Fatal("Run did not return")
	}
	if h.ticks.Load() < 3 || h.shutdowns.Load() != 1 || h.boots.Load() != 1 {
		t.Fatalf("ticks %d shutdowns %d boots %d", h.ticks.Load(), h.shutdowns.Load(), h.boots.Load())
	}
	if err := Stop(context.Background(), addr); !errors.Is(err, ErrEngineInShutdown) {
		t.Fatalf("Stop after shutdown: %v", err)
	}
}

// TestShutdownAction: a Shutdown returned from OnTraffic stops the engine;
// every open connection gets OnClose.
func TestShutdownAction(t *testing.T) {
	h := &shutter{}
	s := startServer(t, h, "tcp", WithNumEventLoop(2))
	a, b := s.dial(), s.dial()
	defer a.Close()
	defer b.Close()
	wait(t, "opens", func() bool { return h.opened.Load() >= 2 })
	a.Write([]byte("bye"))
	select {
	case err := <-s.done:
		s.done = nil
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(long):
		t.Fatal("no shutdown")
	}
	if h.opened.Load() != h.closed.Load() {
		t.Fatalf("opened %d closed %d", h.opened.Load(), h.closed.Load())
	}
}

type shutter struct{ echo }

func (h *shutter) OnTraffic(Conn) Action { return Shutdown }

// TestCountConnectionsRace calls Engine methods from another goroutine
// through start-up, traffic and shutdown.
func TestCountConnectionsRace(t *testing.T) {
	for range 5 {
		h := &echo{}
		engc := make(chan Engine, 1)
		b := &bootNotify{echo: h, ch: engc}
		addr := "tcp://" + freeAddr(t)
		done := make(chan error, 1)
		go func() { done <- Run(b, addr, WithNumEventLoop(3)) }()
		eng := <-engc
		stop := make(chan struct{})
		go func() {
			for {
				select {
				case <-stop:
					return
				default:
					eng.CountConnections()
					eng.Validate()
				}
			}
		}()
		if err := eng.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
		<-done
		close(stop)
		if n := eng.CountConnections(); n != -1 {
			t.Fatalf("CountConnections after stop: %d", n)
		}
		if err := eng.Validate(); !errors.Is(err, ErrEngineInShutdown) {
			t.Fatalf("Validate after stop: %v", err)
		}
	}
}

type bootNotify struct {
	*echo
	ch chan Engine
}

func (b *bootNotify) OnBoot(e Engine) Action { b.ch <- e; return None }
