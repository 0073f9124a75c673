//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package gnet

import (
	"bytes"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"
)

// TestResetAndHalfCloseStorm: many clients at once; half reset their
// connection mid-stream, half half-close and must still get every echoed
// byte. OnClose fires exactly once per connection, and the count drops to 0.
func TestResetAndHalfCloseStorm(t *testing.T) {
	h := &echo{}
	s := startServer(t, h, "tcp", WithNumEventLoop(2))
	const n = 200
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := s.dial().(*net.TCPConn)
			msg := bytes.Repeat([]byte{byte(i)}, 1000+i*50)
			if i%2 == 0 {
				c.Write(msg)
				c.SetLinger(0) // close sends RST
				c.Close()
				return
			}
			defer c.Close()
			c.Write(msg)
			c.CloseWrite()
			c.SetReadDeadline(time.Now().Add(long))
			got, err := io.ReadAll(c)
			if err != nil || !bytes.Equal(got, msg) {
				t.Errorf("half-closed conn %d: %d bytes, err %v", i, len(got), err)
			}
		}()
	}
	wg.Wait()
	wait(t, "all closed", func() bool { return h.closed.Load() == n })
	eng := h.eng.Load()
	wait(t, "count 0", func() bool { return eng.CountConnections() == 0 })
	if h.opened.Load() != n {
		t.Fatalf("opened %d, want %d", h.opened.Load(), n)
	}
	time.Sleep(20 * time.Millisecond)
	if h.closed.Load() != n {
		t.Fatalf("OnClose fired %d times for %d conns", h.closed.Load(), n)
	}
}

// TestUnixSocketFile: the socket file is replaced at start (a stale file
// does not prevent Run) and removed when the engine stops.
func TestUnixSocketFile(t *testing.T) {
	path := t.TempDir() + "/u.sock"
	os.WriteFile(path, []byte("stale"), 0o600)
	h := &bootNotify{echo: &echo{}, ch: make(chan Engine, 1)}
	done := make(chan error, 1)
	go func() { done <- Run(h, "unix://"+path) }()
	eng := <-h.ch
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("hello"))
	if got := readFull(t, c, 5); string(got) != "hello" {
		t.Fatalf("got %q", got)
	}
	c.Close()
	if err := eng.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("socket file still there: %v", err)
	}
}
