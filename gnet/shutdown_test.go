//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package gnet

import (
	"sync/atomic"
	"testing"
	"time"
)

// lateEffect replies, then records the reply a little later; the ticker
// shuts the engine down once the client has the reply.
type lateEffect struct {
	BuiltinEventEngine
	replied, recorded atomic.Bool
	seenAtShutdown    atomic.Bool
}

func (h *lateEffect) OnTraffic(c Conn) Action {
	b, _ := c.Next(-1)
	c.Write(b)
	time.Sleep(20 * time.Millisecond) // widen the window
	h.recorded.Store(true)
	return None
}

func (h *lateEffect) OnTick() (time.Duration, Action) {
	if h.replied.Load() {
		return time.Hour, Shutdown
	}
	return time.Millisecond, None
}

func (h *lateEffect) OnShutdown(Engine) { h.seenAtShutdown.Store(h.recorded.Load()) }

// TestOnShutdownSeesFinishedCallbacks: a callback running when a shutdown is
// requested finishes before OnShutdown runs (gnet v2's suite relies on it:
// TestBindToDevice counts in OnTraffic after replying and checks the count
// in OnShutdown).
func TestOnShutdownSeesFinishedCallbacks(t *testing.T) {
	h := &lateEffect{}
	s := startServer(t, h, "tcp", WithTicker(true))
	c := s.dial()
	defer c.Close()
	c.Write([]byte("x"))
	readFull(t, c, 1)
	h.replied.Store(true)
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	if !h.seenAtShutdown.Load() {
		t.Fatal("OnShutdown ran before the OnTraffic in progress had finished")
	}
}
