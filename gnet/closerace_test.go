//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package gnet

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// closer closes connections whose input starts with 'C' at their first
// traffic and echoes the others. It counts OnTraffic calls for connections
// that OnClose has already seen.
type closer struct {
	BuiltinEventEngine
	mu     sync.Mutex
	closed map[Conn]bool
	late   atomic.Int64
	closes atomic.Int64
}

func (h *closer) OnTraffic(c Conn) Action {
	h.mu.Lock()
	late := h.closed[c]
	h.mu.Unlock()
	if late {
		h.late.Add(1)
	}
	b, _ := c.Peek(-1)
	if b[0] == 'C' {
		c.Discard(-1)
		return Close
	}
	c.Write(b)
	c.Discard(-1)
	return None
}

func (h *closer) OnClose(c Conn, _ error) Action {
	h.mu.Lock()
	h.closed[c] = true
	h.mu.Unlock()
	h.closes.Add(1)
	return None
}

// TestCloseWhileReceiving: connections closed by the server while their
// peers keep sending (on io_uring: with a multishot receive armed and data
// in flight) never get another callback, and connections opened meanwhile,
// which may reuse the closed ones' descriptor numbers, get exactly their own
// bytes.
func TestCloseWhileReceiving(t *testing.T) {
	hk := useHooks(t)
	h := &closer{closed: make(map[Conn]bool)}
	s := startServer(t, h, "tcp", WithNumEventLoop(2))
	fd0 := countFDs()
	const closing, echoing = 64, 16
	var wg sync.WaitGroup
	for i := range closing {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := s.dial()
			defer c.Close()
			chunk := bytes.Repeat([]byte{'C'}, 8<<10)
			c.SetWriteDeadline(time.Now().Add(long))
			for range 32 + i%8 {
				if _, err := c.Write(chunk); err != nil {
					return // reset by the server: fine, it closed
				}
			}
		}()
	}
	errs := make(chan error, echoing)
	for i := range echoing {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := s.dial()
			defer c.Close()
			for j := range 50 {
				msg := fmt.Appendf(nil, "E%d.%d.%s", i, j, bytes.Repeat([]byte{byte('a' + i)}, 100*j))
				c.Write(msg)
				got := make([]byte, len(msg))
				c.SetReadDeadline(time.Now().Add(long))
				if _, err := readAll(c, got); err != nil || !bytes.Equal(got, msg) {
					errs <- fmt.Errorf("echo %d.%d: %v (got %.20q...)", i, j, err, got)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	wait(t, "server-side closes", func() bool { return h.closes.Load() >= closing })
	if n := h.late.Load(); n > 0 {
		t.Fatalf("%d OnTraffic calls after OnClose", n)
	}
	wait(t, "descriptors", func() bool { return countFDs() <= fd0 })
	if forceIOUring {
		// The path under test: input completed for connections already
		// closed, and dropped.
		t.Logf("%d input completions after close, dropped", hk.zombieInput.Load())
		if hk.zombieInput.Load() == 0 {
			t.Fatal("no input arrived after a close: the test did not exercise the race")
		}
	}
}

func readAll(c net.Conn, p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := c.Read(p[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// TestAbortWithSendInFlight: a connection whose reading is paused (its
// output is above the high-water mark) and whose send is blocked by a peer
// that does not read is closed by its write deadline. Its descriptor must
// go at once, while the engine runs (on io_uring: the blocked send is
// cancelled too, not only the receive whose cancellation the pause asked
// for).
func TestAbortWithSendInFlight(t *testing.T) {
	h := &closeErrs{errs: make(chan error, 1), onOpen: func(c Conn) {
		c.Write(make([]byte, 4<<20)) // far above the high-water mark
		c.SetWriteDeadline(time.Now().Add(300 * time.Millisecond))
	}}
	s := startServer(t, h, "tcp", WithWriteHighWaterMark(1<<20))
	fd0 := countFDs()
	nc := s.dial()
	defer nc.Close()
	go func() { // keeps sending, never reads
		b := make([]byte, 64<<10)
		for {
			if _, err := nc.Write(b); err != nil {
				return
			}
		}
	}()
	if err := recvErr(t, h.errs, "the write deadline"); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("OnClose: %v", err)
	}
	// Left: the client's socket only.
	wait(t, "the server's descriptor to close", func() bool { return countFDs() <= fd0+1 })
}
