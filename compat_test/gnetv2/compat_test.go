package gnetv2

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

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

// transcript collects what a program observes, in order.
type transcript struct {
	mu    sync.Mutex
	lines []string
}

func (tr *transcript) add(format string, args ...any) {
	tr.mu.Lock()
	tr.lines = append(tr.lines, fmt.Sprintf(format, args...))
	tr.mu.Unlock()
}

func (tr *transcript) get() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return slices.Clone(tr.lines)
}

func errName(err error) string {
	switch {
	case err == nil:
		return "nil"
	case errors.Is(err, io.ErrShortBuffer):
		return "ErrShortBuffer"
	case errors.Is(err, io.EOF):
		return "EOF"
	case errors.Is(err, net.ErrClosed):
		return "net.ErrClosed"
	}
	return "other:" + err.Error()
}

// running is one engine running a handler.
type running struct {
	e     engine
	proto string
	done  chan error
}

func start(t *testing.T, e engine, h *handler, proto string) *running {
	t.Helper()
	booted := make(chan struct{})
	inner := h.boot
	h.boot = func() int {
		a := 0
		if inner != nil {
			a = inner()
		}
		close(booted)
		return a
	}
	r := &running{e: e, proto: proto, done: make(chan error, 1)}
	go func() { r.done <- e.run(h, proto) }()
	select {
	case <-booted:
	case err := <-r.done:
		t.Fatalf("%s: Run returned %v", e.name(), err)
	case <-time.After(long):
		t.Fatalf("%s: no boot", e.name())
	}
	return r
}

// stop stops the engine (gnet v2 registers it for Stop only after OnBoot, so
// retry until Stop succeeds or Run returns) and returns Run's result.
func (r *running) stop(t *testing.T) error {
	t.Helper()
	deadline := time.Now().Add(long)
	for {
		select {
		case err := <-r.done:
			return err
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), long)
		err := r.e.stop(ctx, r.proto)
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: Stop: %v", r.e.name(), err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-r.done:
		return err
	case <-time.After(long):
		t.Fatalf("%s: Run did not return after Stop", r.e.name())
	}
	return nil
}

func (r *running) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-r.done:
		return err
	case <-time.After(long):
		t.Fatalf("%s: Run did not return", r.e.name())
	}
	return nil
}

func dial(t *testing.T, network, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(long))
	return c
}

func expect(t *testing.T, c net.Conn, want string) {
	t.Helper()
	b := make([]byte, len(want))
	if _, err := io.ReadFull(c, b); err != nil || string(b) != want {
		t.Fatalf("read %q (%v), want %q", b, err, want)
	}
}

// compare runs scenario on every engine and compares each pollnet
// transcript (epoll, io_uring) with gnet v2's.
func compare(t *testing.T, scenario func(t *testing.T, e engine) []string) {
	t.Helper()
	got := map[string][]string{}
	for _, e := range engines {
		got[e.name()] = scenario(t, e)
		if pe, ok := e.(*pnEngine); ok {
			if err := pe.backendOK(); err != nil {
				t.Error(err)
			}
		}
	}
	b := got["gnetv2"]
	for _, name := range []string{"pollnet", "pollnet-io_uring"} {
		if a := got[name]; !slices.Equal(a, b) {
			t.Errorf("transcripts differ:\n%s: %s\ngnetv2: %s", name, strings.Join(a, " | "), strings.Join(b, " | "))
		} else {
			t.Logf("same on %s and gnetv2: %s", name, strings.Join(a, " | "))
		}
	}
}

// TestShortReads: Peek/Next/Read/Discard on short and empty buffers, n <= 0,
// and input kept across events.
func TestShortReads(t *testing.T) {
	compare(t, func(t *testing.T, e engine) []string {
		tr := &transcript{}
		step := 0
		h := &handler{traffic: func(c conn) int {
			step++
			switch step {
			case 1: // "abc"
				tr.add("buffered %d", c.InboundBuffered())
				b, err := c.Peek(5)
				tr.add("Peek(5) %q %s", b, errName(err))
				b, err = c.Next(5)
				tr.add("Next(5) %q %s", b, errName(err))
				b, err = c.Peek(0)
				tr.add("Peek(0) %q %s", b, errName(err))
				b, err = c.Peek(-1)
				tr.add("Peek(-1) %q %s", b, errName(err))
				p := make([]byte, 2)
				n, err := c.Read(p)
				tr.add("Read(2) %d %q %s", n, p[:n], errName(err))
				b, err = c.Next(-1)
				tr.add("Next(-1) %q %s", b, errName(err))
				tr.add("buffered %d", c.InboundBuffered())
				n, err = c.Read(make([]byte, 4))
				tr.add("empty Read(4) %d %s", n, errName(err))
				n, err = c.Read(nil)
				tr.add("empty Read(nil) %d %s", n, errName(err))
				b, err = c.Peek(1)
				tr.add("empty Peek(1) %q %v %s", b, b == nil, errName(err))
				b, err = c.Next(-1)
				tr.add("empty Next(-1) len %d %s", len(b), errName(err))
				n, err = c.Discard(5)
				tr.add("empty Discard(5) %d %s", n, errName(err))
				c.Write([]byte("1"))
			case 2: // "defgh"
				n, err := c.Discard(2)
				tr.add("Discard(2) %d %s", n, errName(err))
				n, err = c.Discard(0)
				tr.add("Discard(0) %d %s", n, errName(err))
				tr.add("buffered %d", c.InboundBuffered())
				c.Write([]byte("2"))
			case 3: // "ij": leave it unread
				tr.add("ij buffered %d", c.InboundBuffered())
				c.Write([]byte("3"))
			case 4: // "kl" arrives: "ijkl" visible
				b, err := c.Peek(-1)
				tr.add("kept Peek(-1) %q %s", b, errName(err))
				b, _ = c.Next(3)
				tr.add("Next(3) %q buffered %d", b, c.InboundBuffered())
				c.Discard(-1)
				c.Write([]byte("4"))
			}
			return 0
		}}
		addr := freeAddr(t)
		r := start(t, e, h, "tcp://"+addr)
		c := dial(t, "tcp", addr)
		for i, msg := range []string{"abc", "defgh", "ij", "kl"} {
			c.Write([]byte(msg))
			expect(t, c, fmt.Sprint(i+1))
		}
		c.Close()
		if err := r.stop(t); err != nil {
			t.Errorf("%s: Run returned %v", e.name(), err)
		}
		return tr.get()
	})
}

// TestCallbacks: callback order and counts for a server-side Close action,
// a peer close, and Stop; what Run returns.
func TestCallbacks(t *testing.T) {
	compare(t, func(t *testing.T, e engine) []string {
		tr := &transcript{}
		h := &handler{
			boot:     func() int { tr.add("boot"); return 0 },
			shutdown: func() { tr.add("shutdown") },
			open: func(c conn) ([]byte, int) {
				tr.add("open count=%d", e.count())
				return []byte("hi"), 0
			},
			traffic: func(c conn) int {
				b, _ := c.Next(-1)
				tr.add("traffic %q", b)
				if string(b) == "close" {
					return 1
				}
				c.Write(b)
				return 0
			},
			close: func(c conn, err error) int {
				tr.add("close %s", errName(err))
				return 0
			},
		}
		addr := freeAddr(t)
		r := start(t, e, h, "tcp://"+addr)
		c := dial(t, "tcp", addr)
		expect(t, c, "hi")
		c.Write([]byte("close")) // server returns Close
		if b, err := io.ReadAll(c); err != nil || len(b) != 0 {
			t.Fatalf("%s: after Close action: %q %v", e.name(), b, err)
		}
		c.Close()
		time.Sleep(50 * time.Millisecond)
		c = dial(t, "tcp", addr)
		expect(t, c, "hi")
		c.Write([]byte("echo"))
		expect(t, c, "echo")
		c.Close() // peer close
		deadline := time.Now().Add(long)
		for len(tr.get()) < 7 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		err := r.stop(t)
		tr.add("Run returned %s", errName(err))
		tr.add("count after stop %d", e.count())
		return tr.get()
	})
}

// TestShutdownAction: a Shutdown action from OnTraffic makes Run return nil;
// the other open connection gets OnClose; OnShutdown fires once.
func TestShutdownAction(t *testing.T) {
	compare(t, func(t *testing.T, e engine) []string {
		tr := &transcript{}
		var opened sync.WaitGroup
		opened.Add(2)
		h := &handler{
			shutdown: func() { tr.add("shutdown") },
			open:     func(conn) ([]byte, int) { opened.Done(); return nil, 0 },
			traffic:  func(conn) int { return 2 },
			close:    func(c conn, err error) int { tr.add("close %s", errName(err)); return 0 },
		}
		addr := freeAddr(t)
		r := start(t, e, h, "tcp://"+addr)
		a, b := dial(t, "tcp", addr), dial(t, "tcp", addr)
		defer a.Close()
		defer b.Close()
		opened.Wait()
		a.Write([]byte("x"))
		err := r.wait(t)
		lines := tr.get()
		slices.Sort(lines) // OnShutdown and OnClose run concurrently in gnet v2
		return append(lines, "Run returned "+errName(err))
	})
}

// TestBootShutdown: OnBoot returning Shutdown makes Run return nil at once,
// without OnShutdown.
func TestBootShutdown(t *testing.T) {
	compare(t, func(t *testing.T, e engine) []string {
		tr := &transcript{}
		h := &handler{
			boot:     func() int { tr.add("boot"); return 2 },
			shutdown: func() { tr.add("shutdown") },
		}
		err := e.run(h, "tcp://"+freeAddr(t))
		tr.add("Run returned %s", errName(err))
		err = e.stop(context.Background(), "tcp://127.0.0.1:1")
		tr.add("Stop(unknown) %v", err)
		return tr.get()
	})
}

// TestUnixSocketFile: a stale file at the path is replaced; the socket file
// exists while running and is removed when Run returns.
func TestUnixSocketFile(t *testing.T) {
	compare(t, func(t *testing.T, e engine) []string {
		tr := &transcript{}
		path := t.TempDir() + "/g.sock"
		os.WriteFile(path, []byte("stale"), 0o600)
		h := &handler{traffic: func(c conn) int {
			b, _ := c.Next(-1)
			c.Write(b)
			return 0
		}}
		r := start(t, e, h, "unix://"+path)
		fi, err := os.Stat(path)
		tr.add("while running: socket=%v err=%s", err == nil && fi.Mode()&os.ModeSocket != 0, errName(err))
		c := dial(t, "unix", path)
		c.Write([]byte("u"))
		expect(t, c, "u")
		c.Close()
		err = r.stop(t)
		tr.add("Run returned %s", errName(err))
		_, err = os.Stat(path)
		tr.add("after: removed=%v", os.IsNotExist(err))
		return tr.get()
	})
}

// TestWakeAndAsync: Wake runs OnTraffic with nothing buffered; AsyncWrite
// after the close reports an error through its callback.
func TestWakeAndAsync(t *testing.T) {
	compare(t, func(t *testing.T, e engine) []string {
		tr := &transcript{}
		conns := make(chan conn, 1)
		closed := make(chan struct{})
		h := &handler{
			open: func(c conn) ([]byte, int) { conns <- c; return nil, 0 },
			traffic: func(c conn) int {
				tr.add("traffic buffered=%d", c.InboundBuffered())
				c.Write([]byte("w"))
				return 0
			},
			close: func(conn, error) int { close(closed); return 0 },
		}
		addr := freeAddr(t)
		r := start(t, e, h, "tcp://"+addr)
		nc := dial(t, "tcp", addr)
		c := <-conns
		errc := make(chan error, 1)
		e.wake(c, func(err error) { errc <- err })
		tr.add("wake cb %s", errName(<-errc))
		expect(t, nc, "w")
		e.asyncWrite(c, []byte("a"), func(err error) { errc <- err })
		tr.add("async cb %s", errName(<-errc))
		expect(t, nc, "a")
		nc.Close()
		<-closed
		e.asyncWrite(c, []byte("a"), func(err error) { errc <- err })
		tr.add("async after close: error=%v", <-errc != nil)
		r.stop(t)
		return tr.get()
	})
}

// TestKnownDifferences asserts the intended differences (README table).
func TestKnownDifferences(t *testing.T) {
	for _, e := range engines {
		// 1. SetDeadline: gnet v2 says unsupported; pollnet enforces it.
		conns := make(chan conn, 1)
		h := &handler{open: func(c conn) ([]byte, int) { conns <- c; return nil, 0 },
			traffic: func(c conn) int {
				p := make([]byte, 8<<20)
				for i := range p {
					p[i] = byte(i)
				}
				c.Write(p)
				return 1 // Close right after a large Write
			}}
		addr := freeAddr(t)
		r := start(t, e, h, "tcp://"+addr)
		nc := dial(t, "tcp", addr)
		c := <-conns
		derr := c.SetDeadline(time.Time{})
		nc.Write([]byte("go"))
		time.Sleep(50 * time.Millisecond) // a reader that starts late
		got, rerr := io.ReadAll(nc)
		t.Logf("%s: SetDeadline -> %v; 8 MiB Write then Close delivered %d bytes (%v)", e.name(), derr, len(got), rerr)
		switch e.name() {
		case "pollnet", "pollnet-io_uring":
			if derr != nil || len(got) != 8<<20 {
				t.Errorf("%s: SetDeadline %v, delivered %d of %d", e.name(), derr, len(got), 8<<20)
			}
		case "gnetv2":
			if derr == nil {
				t.Errorf("gnet v2 now supports SetDeadline: update the README table")
			}
			if len(got) == 8<<20 {
				t.Logf("gnet v2 delivered everything this time (it truncates when the socket buffer fills)")
			}
		}
		nc.Close()
		r.stop(t)
	}
}
