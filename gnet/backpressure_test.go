//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package gnet

import (
	"context"
	"errors"
	"io"
	"net"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// maxOut is an echo server that records the largest outbound backlog it ever
// had on a connection.
type maxOut struct {
	echo
	max atomic.Int64
}

func (h *maxOut) OnTraffic(c Conn) Action {
	h.echo.OnTraffic(c)
	if n := int64(c.OutboundBuffered()); n > h.max.Load() {
		h.max.Store(n)
	}
	return None
}

// TestSlowReaderBackpressure: a client sends 64 MiB to an echo server and
// reads nothing. The server must stop reading once its pending output passes
// the high-water mark, so its memory stays bounded by the mark, not by the
// 64 MiB; then, once the client reads, every byte arrives.
func TestSlowReaderBackpressure(t *testing.T) {
	const total = 64 << 20
	const high = 1 << 20
	h := &maxOut{}
	s := startServer(t, h, "tcp", WithWriteHighWaterMark(high), WithWriteLowWaterMark(high/4))
	c := s.dial()
	defer c.Close()
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	var sent atomic.Int64
	go func() {
		chunk := make([]byte, 64<<10)
		for i := range chunk {
			chunk[i] = byte(i)
		}
		for sent.Load() < total {
			n, err := c.Write(chunk)
			sent.Add(int64(n))
			if err != nil {
				return
			}
		}
	}()
	// Wait until the client is stuck: the server stopped reading, so the
	// kernel buffers filled and sent stops growing. "Stuck" is detected as
	// no progress across 20 checks (behaviour, not a time threshold).
	last, still := int64(-1), 0
	wait(t, "client writes to stall", func() bool {
		time.Sleep(20 * time.Millisecond)
		n := sent.Load()
		if n == last {
			still++
		} else {
			last, still = n, 0
		}
		return still >= 20 || n >= total
	})
	if sent.Load() >= total {
		t.Fatalf("client sent all %d bytes to a server that should have stopped reading", total)
	}
	runtime.GC()
	var during runtime.MemStats
	runtime.ReadMemStats(&during)
	grow := int64(during.HeapInuse) - int64(before.HeapInuse)
	t.Logf("client stalled after %d of %d bytes; server max outbound %d; heap growth %d",
		sent.Load(), total, h.max.Load(), grow)
	// Bound: the mark plus one read buffer of overshoot per connection.
	if m := h.max.Load(); m > high+int64(MaxStreamBufferCap) {
		t.Fatalf("outbound reached %d bytes, bound %d", m, high+MaxStreamBufferCap)
	}
	if grow > 8<<20 {
		t.Fatalf("heap grew by %d bytes while the client was stalled (bound 8 MiB)", grow)
	}
	// Now read everything back.
	buf := make([]byte, 1<<20)
	var got int64
	c.SetReadDeadline(time.Now().Add(long))
	for got < total {
		n, err := c.Read(buf)
		for i := 0; i < n; i++ {
			if buf[i] != byte((got+int64(i))%(64<<10)) {
				t.Fatalf("byte %d wrong", got+int64(i))
			}
		}
		got += int64(n)
		if err != nil {
			t.Fatalf("after %d bytes: %v", got, err)
		}
	}
}

// bigWriter writes size bytes on the first input, then returns Close.
type bigWriter struct {
	BuiltinEventEngine
	size   int
	closed chan error
}

func (h *bigWriter) OnTraffic(c Conn) Action {
	c.Discard(-1)
	p := make([]byte, h.size)
	for i := range p {
		p[i] = byte(i * 7)
	}
	if n, err := c.Write(p); n != len(p) || err != nil {
		panic("Write refused")
	}
	return Close
}
func (h *bigWriter) OnClose(_ Conn, err error) Action { h.closed <- err; return None }

// TestCloseAfterLargeWrite: Write 8 MiB then Close; a client that starts
// reading late still receives every byte, then EOF.
func TestCloseAfterLargeWrite(t *testing.T) {
	h := &bigWriter{size: 8 << 20, closed: make(chan error, 2)}
	s := startServer(t, h, "tcp")
	c := s.dial()
	defer c.Close()
	c.Write([]byte("go"))
	time.Sleep(50 * time.Millisecond) // let the kernel buffers fill: a slow reader
	readBigWrite(t, c, h)
}

// TestCloseWithUnreadInput: Write 8 MiB then Close while the peer has sent
// far more than the server read. Input left unread at close(2) would make
// the kernel reset the connection and drop the output still queued (found
// in review: about 4.8 of 8 MiB arrived); it is dropped instead, and the
// socket lingers after the FIN until the peer's end of stream.
func TestCloseWithUnreadInput(t *testing.T) {
	t.Run("sent before", func(t *testing.T) {
		h := &bigWriter{size: 8 << 20, closed: make(chan error, 2)}
		s := startServer(t, h, "tcp")
		c := s.dial()
		defer c.Close()
		if _, err := c.Write(make([]byte, 256<<10)); err != nil {
			t.Fatal(err)
		}
		readBigWrite(t, c, h)
	})
	t.Run("sent throughout", func(t *testing.T) {
		h := &bigWriter{size: 8 << 20, closed: make(chan error, 2)}
		s := startServer(t, h, "tcp")
		c := s.dial()
		defer c.Close()
		wrote := make(chan error, 1)
		go func() { // keeps sending while the server writes, closes and lingers
			junk := make([]byte, 64<<10)
			c.SetWriteDeadline(time.Now().Add(long))
			for range 64 {
				if _, err := c.Write(junk); err != nil {
					wrote <- err
					return
				}
			}
			wrote <- nil
		}()
		readBigWrite(t, c, h)
		if err := <-wrote; err != nil {
			t.Fatalf("the client's writes failed: %v (reset by the server?)", err)
		}
	})
}

// readBigWrite reads what h wrote, slowly, and checks every byte, the EOF
// after them, and OnClose.
func readBigWrite(t *testing.T, c net.Conn, h *bigWriter) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(long))
	buf := make([]byte, 32<<10)
	got := 0
	for {
		n, err := c.Read(buf)
		for i := range n {
			if buf[i] != byte((got+i)*7) {
				t.Fatalf("byte %d wrong", got+i)
			}
		}
		got += n
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("after %d of %d bytes: %v", got, h.size, err)
		}
		time.Sleep(100 * time.Microsecond) // a slowish reader
	}
	if got != h.size {
		t.Fatalf("got %d bytes, want %d", got, h.size)
	}
	if err := <-h.closed; err != nil {
		t.Fatalf("OnClose: %v", err)
	}
}

// TestHardCap: with WithOutboundHardCap, AsyncWrite past the cap fails
// through its callback with ErrOutboundFull, and nothing is queued.
func TestHardCap(t *testing.T) {
	p := &pusher{conns: make(chan Conn, 1)}
	s := startServer(t, p, "tcp", WithOutboundHardCap(4<<20))
	nc := s.dial()
	defer nc.Close()
	c := <-p.conns
	errs := make(chan error, 64)
	big := make([]byte, 1<<20)
	for range 32 {
		c.AsyncWrite(big, func(_ Conn, err error) error { errs <- err; return nil })
	}
	full := 0
	for range 32 {
		if err := <-errs; errors.Is(err, ErrOutboundFull) {
			full++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if full == 0 {
		t.Fatal("no AsyncWrite hit the hard cap")
	}
	ob := make(chan int, 1)
	c.EventLoop().Execute(context.Background(), RunnableFunc(func(context.Context) error {
		ob <- c.OutboundBuffered()
		return nil
	}))
	if n := <-ob; n > 4<<20 {
		t.Fatalf("outbound %d past the cap", n)
	}
}
