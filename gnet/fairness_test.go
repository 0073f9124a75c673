//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package gnet

import (
	"bytes"
	"sync"
	"sync/atomic"
	"testing"
)

// counter discards input, counting it per connection kind: a connection
// whose first byte is 'A' is the flooder; any other answers "pong" to each
// input, recording how much the flooder had delivered at that moment.
type counter struct {
	BuiltinEventEngine
	floodBytes atomic.Int64
	atPong     atomic.Int64
	loop       atomic.Pointer[eventloop]
	want       int64 // for TestFairBacklog: reply "done" at this count
}

func (h *counter) OnOpen(c Conn) ([]byte, Action) {
	h.loop.Store(c.EventLoop().(*eventloop))
	return nil, None
}

func (h *counter) OnTraffic(c Conn) Action {
	b, _ := c.Peek(-1)
	if c.Context() == nil {
		c.SetContext(b[0] == 'A')
	}
	if c.Context().(bool) {
		n := h.floodBytes.Add(int64(len(b)))
		if h.want > 0 && n == h.want {
			c.Write([]byte("done"))
		}
	} else {
		h.atPong.Store(h.floodBytes.Load())
		c.Write([]byte("pong"))
	}
	c.Discard(-1)
	return None
}

// TestFairBudget, first half: a flooding connection does not starve another
// connection of the same loop. The budget is one 4 KiB read per turn.
func TestFairBudget(t *testing.T) {
	hk := useHooks(t)
	const total = 64 << 20
	h := &counter{}
	s := startServer(t, h, "tcp", WithReadBufferCap(4096), WithNumEventLoop(1))
	a, b := s.dial(), s.dial()
	defer a.Close()
	defer b.Close()
	go func() {
		chunk := bytes.Repeat([]byte("A"), 1<<20)
		for sent := 0; sent < total; sent += len(chunk) {
			if _, err := a.Write(chunk); err != nil {
				return
			}
		}
	}()
	wait(t, "flood under way", func() bool { return h.floodBytes.Load() > 1<<20 })
	b.Write([]byte("ping"))
	readFull(t, b, 4)
	at := h.atPong.Load()
	turns := hk.backlogTurns.Load()
	t.Logf("pong served after %d of %d flood bytes; %d backlog turns", at, total, turns)
	if at >= total {
		t.Fatal("the other connection was served only after the flood ended")
	}
	if turns == 0 {
		t.Fatal("the budget never cut the flooder off")
	}
}

// TestFairBacklog, second half: a connection cut off by the budget, which
// gets no new edge because its peer sends nothing more, is still served to
// the end from the loop's backlog.
func TestFairBacklog(t *testing.T) {
	hk := useHooks(t)
	const total = 256 << 10
	h := &counter{want: total}
	s := startServer(t, h, "tcp", WithReadBufferCap(4096), WithNumEventLoop(1), WithSocketRecvBuffer(1<<20))
	a := s.dial()
	defer a.Close()
	msg := bytes.Repeat([]byte("A"), total)
	if _, err := a.Write(msg); err != nil { // one write, then silence
		t.Fatal(err)
	}
	if got := readFull(t, a, 4); string(got) != "done" {
		t.Fatalf("got %q", got)
	}
	if turns := hk.backlogTurns.Load(); turns == 0 {
		t.Fatal("no backlog turn: the test did not exercise the budget")
	} else {
		t.Logf("%d backlog turns", turns)
	}
}

// TestFairManyWriters: many connections of one loop send bulk data and get
// it echoed (so they are busy writing too) while the loop's read budget is
// small. On io_uring the buffer ring runs dry every turn; a receive that
// got nothing must be served again before any connection is passed over
// more turns than there are connections (round robin), whatever the others
// write. (gnet v2's suite found connections starved for over a second.)
func TestFairManyWriters(t *testing.T) {
	hk := useHooks(t)
	h := &echo{}
	s := startServer(t, h, "tcp", WithReadBufferCap(4096), WithNumEventLoop(1))
	const conns, size = 16, 256 << 10
	var wg sync.WaitGroup
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := s.dial()
			defer c.Close()
			msg := bytes.Repeat([]byte{byte('a' + i)}, size)
			go c.Write(msg)
			if got := readFull(t, c, size); !bytes.Equal(got, msg) {
				t.Errorf("connection %d: echo differs", i)
			}
		}()
	}
	wg.Wait()
	streak := hk.longestStreak()
	t.Logf("%d backlog turns; longest run of turns a receive got nothing: %d", hk.backlogTurns.Load(), streak)
	if streak > conns {
		t.Fatalf("a receive was passed over %d turns in a row with %d connections", streak, conns)
	}
}
