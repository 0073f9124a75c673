//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package gnet

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// long bounds every wait in these tests: generous, because the machine is
// shared; a test never asserts on time, only fails if something hangs.
const long = 60 * time.Second

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func freeUDPAddr(t *testing.T) string {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().String()
}

// server runs h on protoAddr in the background.
type server struct {
	t     *testing.T
	addr  string // host:port or path
	proto string
	done  chan error
}

// bootWrap tells startServer that OnBoot ran.
type bootWrap struct {
	EventHandler
	ch      chan struct{}
	backend Backend
}

func (b *bootWrap) OnBoot(e Engine) Action {
	b.backend = e.Backend()
	a := b.EventHandler.OnBoot(e)
	close(b.ch)
	return a
}

// startServer runs Run(h, network://addr) on a free address and waits
// until it serves.
func startServer(t *testing.T, h EventHandler, network string, opts ...Option) *server {
	t.Helper()
	var addr string
	switch network {
	case "unix":
		addr = t.TempDir() + "/s.sock"
	case "udp", "udp4":
		addr = freeUDPAddr(t)
	default:
		addr = freeAddr(t)
	}
	return startServerAt(t, h, network+"://"+addr, opts...)
}

// startServerAt runs Run(h, proto) and waits until it serves.
func startServerAt(t *testing.T, h EventHandler, proto string, opts ...Option) *server {
	t.Helper()
	_, addr, _ := strings.Cut(proto, "://")
	s := &server{t: t, addr: addr, proto: proto, done: make(chan error, 1)}
	bw := &bootWrap{EventHandler: h, ch: make(chan struct{})}
	go func() { s.done <- Run(bw, s.proto, opts...) }()
	// The listener is bound before OnBoot runs: once it has, dials succeed.
	select {
	case <-bw.ch:
		if want := testBackend(); bw.backend != want {
			t.Fatalf("engine runs on %q, want %q", bw.backend, want)
		}
	case err := <-s.done:
		t.Fatalf("Run returned early: %v", err)
	case <-time.After(long):
		t.Fatal("server did not start")
	}
	t.Cleanup(func() { s.stop() })
	return s
}

func (s *server) dial() net.Conn {
	s.t.Helper()
	network, _, _ := strings.Cut(s.proto, "://")
	c, err := net.Dial(network, s.addr)
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

// stop stops the engine and returns Run's result (once).
var stopMu sync.Mutex

func (s *server) stop() error {
	stopMu.Lock()
	defer stopMu.Unlock()
	if s.done == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), long)
	defer cancel()
	err := Stop(ctx, s.proto)
	if err != nil && !errors.Is(err, ErrEngineInShutdown) {
		s.t.Errorf("Stop: %v", err)
	}
	select {
	case rerr := <-s.done:
		s.done = nil
		return rerr
	case <-time.After(long):
		s.t.Fatal("Run did not return after Stop")
	}
	return nil
}

// wait polls cond until it holds or long passes.
func wait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(long)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// echo is an echo server that counts callbacks.
type echo struct {
	BuiltinEventEngine
	opened, closed, traffic atomic.Int64
	eng                     atomic.Pointer[Engine]
}

func (e *echo) OnBoot(eng Engine) Action { e.eng.Store(&eng); return None }
func (e *echo) OnOpen(Conn) ([]byte, Action) {
	e.opened.Add(1)
	return nil, None
}
func (e *echo) OnClose(Conn, error) Action { e.closed.Add(1); return None }
func (e *echo) OnTraffic(c Conn) Action {
	e.traffic.Add(1)
	buf, _ := c.Next(-1)
	c.Write(buf)
	return None
}

func readFull(t *testing.T, c net.Conn, n int) []byte {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(long))
	b := make([]byte, n)
	if _, err := io.ReadFull(c, b); err != nil {
		t.Fatalf("read %d: %v", n, err)
	}
	return b
}

func countFDs() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}

func goroutines() int { return runtime.NumGoroutine() }

// pollerOnly skips a test of a poller-only mechanism in the io_uring pass.
func pollerOnly(t *testing.T, why string) {
	if forceIOUring {
		t.Skip("poller only: " + why)
	}
}

// testBackend is the backend of the current pass (main_test.go).
func testBackend() Backend {
	if forceIOUring {
		return BackendIOUring
	}
	return pollerBackend
}

// useHooks turns the package's test hooks on for the rest of the test.
func useHooks(t *testing.T) *hooks {
	h := new(hooks)
	testHooks = h
	t.Cleanup(func() { testHooks = nil })
	return h
}

// recvErr waits for the next error on ch (an OnClose report).
func recvErr(t *testing.T, ch <-chan error, what string) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(long):
		t.Fatalf("timed out waiting for %s", what)
		return nil
	}
}
