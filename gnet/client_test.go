//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package gnet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

type clientH struct {
	BuiltinEventEngine
	eng             atomic.Pointer[Engine]
	opened, closed  atomic.Int64
	got             chan string
	boots, shutdown atomic.Int64
}

func (h *clientH) OnBoot(e Engine) Action { h.eng.Store(&e); h.boots.Add(1); return None }
func (h *clientH) OnShutdown(Engine)      { h.shutdown.Add(1) }
func (h *clientH) OnOpen(Conn) ([]byte, Action) {
	h.opened.Add(1)
	return []byte("hello"), None
}
func (h *clientH) OnTraffic(c Conn) Action {
	b, _ := c.Next(-1)
	h.got <- string(b)
	return None
}
func (h *clientH) OnClose(Conn, error) Action { h.closed.Add(1); return None }

// TestClient dials a std echo server from the client side, enrolls a second
// connection, and checks Stop closes both. As in gnet v2, a client's Engine
// is empty (it has no listener).
func TestClient(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	h := &clientH{got: make(chan string, 16)}
	cli, err := NewClient(h, WithNumEventLoop(2))
	if err != nil {
		t.Fatal(err)
	}
	if err := cli.Start(); err != nil {
		t.Fatal(err)
	}
	c, err := cli.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if s := recvAll(t, h.got, 5); s != "hello" {
		t.Fatalf("got %q", s)
	}
	c.AsyncWrite([]byte("again"), nil)
	if s := recvAll(t, h.got, 5); s != "again" {
		t.Fatalf("got %q", s)
	}
	eng := h.eng.Load()
	if _, err := eng.Register(NewNetAddrContext(context.Background(), ln.Addr())); !errors.Is(err, ErrEmptyEngine) {
		t.Fatalf("client Engine.Register: %v, want ErrEmptyEngine", err)
	}
	if _, err := eng.Dup(); !errors.Is(err, ErrEmptyEngine) {
		t.Fatalf("client Engine.Dup: %v, want ErrEmptyEngine", err)
	}
	if n := eng.CountConnections(); n != -1 {
		t.Fatalf("client Engine.CountConnections %d, want -1", n)
	}
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Enroll(nc); err != nil {
		t.Fatal(err)
	}
	if s := recvAll(t, h.got, 5); s != "hello" {
		t.Fatalf("got %q", s)
	}
	if err := cli.Stop(); err != nil {
		t.Fatal(err)
	}
	if h.opened.Load() != 2 || h.closed.Load() != 2 || h.boots.Load() != 1 || h.shutdown.Load() != 1 {
		t.Fatalf("opened %d closed %d boots %d shutdowns %d", h.opened.Load(), h.closed.Load(), h.boots.Load(), h.shutdown.Load())
	}
}

func recvAll(t *testing.T, ch chan string, n int) string {
	t.Helper()
	s := ""
	for len(s) < n {
		s += <-ch
	}
	return s
}

// registerAtBoot calls Register from OnBoot and then shuts the engine down.
type registerAtBoot struct {
	BuiltinEventEngine
	err error
	eng Engine
}

func (b *registerAtBoot) OnBoot(e Engine) Action {
	b.eng = e
	_, b.err = e.Register(NewNetAddrContext(context.Background(), &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}))
	return Shutdown
}

// TestRegisterAtBoot: as in gnet v2, the loops do not exist for Register
// until OnBoot returns (ErrEmptyEngine), and after Run returns the engine is
// shut down (ErrEngineInShutdown).
func TestRegisterAtBoot(t *testing.T) {
	h := &registerAtBoot{}
	if err := Run(h, "tcp://"+freeAddr(t)); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(h.err, ErrEmptyEngine) {
		t.Fatalf("Register in OnBoot: %v, want ErrEmptyEngine", h.err)
	}
	if _, err := h.eng.Register(context.Background()); !errors.Is(err, ErrEngineInShutdown) {
		t.Fatalf("Register after Run returned: %v, want ErrEngineInShutdown", err)
	}
}

// registerAtOpen registers a connection from the first OnOpen, through the
// connection's loop, and shuts the engine down.
type registerAtOpen struct {
	BuiltinEventEngine
	addr net.Addr
	res  chan (<-chan RegisteredResult)
}

func (b *registerAtOpen) OnOpen(c Conn) ([]byte, Action) {
	ch, err := c.EventLoop().Register(context.Background(), b.addr)
	if err != nil {
		panic(err)
	}
	b.res <- ch
	return nil, Shutdown
}

// gatedAddr holds up a dial (net.Dial asks for String) until gate closes.
type gatedAddr struct {
	net.Addr
	gate chan struct{}
}

func (g gatedAddr) String() string { <-g.gate; return g.Addr.String() }

// TestRegisterAfterShutdown: a Register that dials only after Run returned
// gets an error result, and its wake-up never writes into a descriptor the
// program opened meanwhile (found in review: the loops' queues stayed open
// after their pollers closed, so the result never came and 8 bytes landed
// in a reused fd).
func TestRegisterAfterShutdown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	gate := make(chan struct{})
	h := &registerAtOpen{addr: gatedAddr{ln.Addr(), gate}, res: make(chan (<-chan RegisteredResult), 1)}
	addr := freeAddr(t)
	done := make(chan error, 1)
	go func() { done <- Run(h, "tcp://"+addr) }()
	var c net.Conn
	for c == nil {
		c, _ = net.Dial("tcp", addr)
	}
	defer c.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	res := <-h.res
	var files []*os.File // likely to reuse the engine's descriptor numbers
	for i := range 16 {
		f, err := os.Create(filepath.Join(t.TempDir(), fmt.Sprint(i)))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		files = append(files, f)
	}
	close(gate)
	select {
	case r := <-res:
		if r.Err == nil {
			t.Errorf("Register after shutdown succeeded: %v", r.Conn)
		}
	case <-time.After(long):
		t.Fatal("Register's result never arrived")
	}
	for _, f := range files {
		if st, err := f.Stat(); err != nil || st.Size() != 0 {
			t.Errorf("%s, opened after Run returned: size %d (%v)", f.Name(), st.Size(), err)
		}
	}
}
