//go:build linux

package pollnet

import (
	"fmt"
	"net"
	"sync"
	"testing"
	"time"
)

// BenchmarkParkWakeThroughput measures the park/wake machinery alone, with
// 1 and 2 pollers: N parked connections; each op is one wake-up (a client
// writes one byte), taken by Accept, the byte read, and the connection
// parked again (one epoll_ctl). No net/http: what is measured is pollnet's
// own path (poll loop, lot, hub queues, Accept), so that the figure moves
// with pollnet's code and with the pollers' parallelism, not with net/http.
func BenchmarkParkWakeThroughput(b *testing.B) {
	const conns = 256
	for _, pollers := range []int{1, 2} {
		b.Run(fmt.Sprintf("pollers=%d", pollers), func(b *testing.B) {
			ln, err := (&ListenConfig{Pollers: pollers, IdleGrace: time.Second}).Listen(b.Context(), "tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			defer ln.Close()
			l := ln.(*Listener)
			clients := make([]net.Conn, conns)
			for i := range clients {
				c, err := net.Dial("tcp", ln.Addr().String())
				if err != nil {
					b.Fatal(err)
				}
				defer c.Close()
				clients[i] = c
				sc, err := ln.Accept()
				if err != nil {
					b.Fatal(err)
				}
				l.hub.park(sc.(*Conn), 0)
			}
			waitStats(b, l, "all parked", func(s Stats) bool { return s.Parked == conns })
			// The clients send in a loop, each waiting until its previous
			// byte was consumed, so that every byte is one wake-up.
			var wg sync.WaitGroup
			next := make(chan int, conns)
			for i := range conns {
				next <- i
			}
			stop := make(chan struct{})
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case i := <-next:
						clients[i].Write([]byte{1})
					case <-stop:
						return
					}
				}
			}()
			buf := make([]byte, 1)
			index := map[string]int{}
			for i, c := range clients {
				index[c.LocalAddr().String()] = i
			}
			cpu0 := cpuTime()
			b.ResetTimer()
			for b.Loop() {
				nc, err := ln.Accept()
				if err != nil {
					b.Fatal(err)
				}
				c := nc.(*Conn)
				if _, err := c.Read(buf); err != nil {
					b.Fatal(err)
				}
				i := index[c.RemoteAddr().String()]
				l.hub.park(c, 0)
				next <- i
			}
			b.StopTimer()
			b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N)/1e3, "cpu-µs/op")
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "wakes/s")
			close(stop)
			wg.Wait()
		})
	}
}
