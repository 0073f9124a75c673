package main

import (
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

const echoSize = 1024

// echoLoad runs closed-loop clients on conns for d: each sends a 1 KiB
// message, reads its echo, and sends again. It returns the round trips
// completed and their 99th percentile in ms.
func echoLoad(conns []net.Conn, d time.Duration) (int, float64, error) {
	var mu sync.Mutex
	var rtts []time.Duration
	var errs atomic.Int64
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			msg, buf := make([]byte, echoSize), make([]byte, echoSize)
			var mine []time.Duration
			for time.Now().Before(deadline) {
				t0 := time.Now()
				if _, err := c.Write(msg); err != nil {
					errs.Add(1)
					return
				}
				if _, err := io.ReadFull(c, buf); err != nil {
					errs.Add(1)
					return
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			rtts = append(rtts, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if n := errs.Load(); n > 0 {
		return 0, 0, fmt.Errorf("%d echo clients failed", n)
	}
	if len(rtts) == 0 {
		return 0, 0, fmt.Errorf("no round trips")
	}
	slices.Sort(rtts)
	return len(rtts), float64(rtts[len(rtts)*99/100]) / 1e6, nil
}

// dialAll opens n connections to addr.
func dialAll(addr string, n int) ([]net.Conn, error) {
	conns := make([]net.Conn, 0, n)
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			closeAll(conns)
			return nil, err
		}
		conns = append(conns, c)
	}
	return conns, nil
}

func closeAll(conns []net.Conn) {
	for _, c := range conns {
		c.Close()
	}
}

// echoRound measures one engine's echo server at each connection count.
func echoRound(b binaries, engine string, counts []int, d time.Duration) map[string]float64 {
	s, err := start(b, engine, "echo")
	must(err)
	defer s.stop()
	res := map[string]float64{}
	for i, n := range counts {
		conns, err := dialAll(s.addr, n)
		must(err)
		_, _, err = echoLoad(conns, 300*time.Millisecond) // warm-up
		must(err)
		cpu0, t0 := cpuSeconds(s.pid()), time.Now()
		rt, p99, err := echoLoad(conns, d)
		must(err)
		el, cpu := time.Since(t0).Seconds(), cpuSeconds(s.pid())-cpu0
		closeAll(conns)
		key := func(k int, what string) string { return fmt.Sprintf("%d%d c%d %s", i, k, n, what) }
		res[key(0, "round trips/s")] = float64(rt) / el
		res[key(1, "p99 (ms)")] = p99
		res[key(2, "server CPU per round trip (us)")] = cpu / float64(rt) * 1e6
		fmt.Printf("  %-16s c%-5d %8.0f rt/s  p99 %7.2f ms  CPU %.2f us/rt\n", engine, n, float64(rt)/el, p99, cpu/float64(rt)*1e6)
	}
	return res
}
