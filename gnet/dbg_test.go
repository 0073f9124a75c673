package gnet

import (
	"bytes"
	crand "crypto/rand"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type gapSrv struct {
	BuiltinEventEngine
	mu   sync.Mutex
	last map[Conn]time.Time
	max  time.Duration
}

func (s *gapSrv) OnTraffic(c Conn) Action {
	now := time.Now()
	s.mu.Lock()
	if t, ok := s.last[c]; ok && now.Sub(t) > s.max {
		s.max = now.Sub(t)
	}
	s.last[c] = now
	s.mu.Unlock()
	buf, _ := c.Next(-1)
	c.Write(buf)
	return None
}

func TestDbgGap(t *testing.T) {
	gs := &gapSrv{last: map[Conn]time.Time{}}
	s := startServer(t, gs, "tcp", WithNumEventLoop(1))
	var wg sync.WaitGroup
	var rounds, maxRound atomic.Int64
	for range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := s.dial()
			defer c.Close()
			start := time.Now()
			for time.Since(start) < 3*time.Second {
				r0 := time.Now()
				req := make([]byte, 1<<20)
				crand.Read(req)
				c.Write(req)
				resp := make([]byte, len(req))
				io.ReadFull(c, resp)
				if !bytes.Equal(req, resp) {
					t.Error("mismatch")
				}
				rounds.Add(1)
				if d := time.Since(r0); d > time.Duration(maxRound.Load()) {
					maxRound.Store(int64(d))
				}
			}
		}()
	}
	wg.Wait()
	gs.mu.Lock()
	t.Logf("%s: rounds %d, max gap between OnTraffic calls %v, max round %v", testBackend(), rounds.Load(), gs.max, time.Duration(maxRound.Load()))
	gs.mu.Unlock()
}
