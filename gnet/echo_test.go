//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package gnet

import (
	"bytes"
	"math/rand/v2"
	"sync"
	"testing"
)

// TestEchoRandom sends random payloads up to 1 MiB in random splits over
// several connections at once and checks every echoed byte.
func TestEchoRandom(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			h := &echo{}
			s := startServer(t, h, network, WithMulticore(true), WithNumEventLoop(2))
			var wg sync.WaitGroup
			for i := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := rand.New(rand.NewPCG(uint64(i), 7))
					c := s.dial()
					defer c.Close()
					for range 6 {
						msg := make([]byte, 1+r.IntN(1<<20))
						for j := range msg {
							msg[j] = byte(r.Uint32())
						}
						seed := r.Uint64()
						go func() {
							wr := rand.New(rand.NewPCG(seed, 1))
							for rest := msg; len(rest) > 0; {
								k := min(len(rest), 1+wr.IntN(70000))
								if _, err := c.Write(rest[:k]); err != nil {
									return
								}
								rest = rest[k:]
							}
						}()
						got := readFull(t, c, len(msg))
						if !bytes.Equal(got, msg) {
							t.Errorf("conn %d: echo differs", i)
							return
						}
					}
				}()
			}
			wg.Wait()
			if err := s.stop(); err != nil {
				t.Fatalf("Run returned %v", err)
			}
			if o, c := h.opened.Load(), h.closed.Load(); o != c {
				t.Fatalf("opened %d closed %d", o, c)
			}
		})
	}
}
