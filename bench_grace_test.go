//go:build linux

package pollnet

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"
)

// BenchmarkParkWakeCycle measures the CPU cost of one hibernation cycle
// (park after the grace period, wake on the next request, serve it) against
// the same request pattern with hibernation off. Each op is one request
// after a pause longer than the grace period. The cpu-µs/op metric is the
// whole process's CPU (client included): the difference between the two
// sub-benchmarks is what a park/wake cycle costs. README.md ("Choosing the
// grace period") uses it.
func BenchmarkParkWakeCycle(b *testing.B) {
	const pause = 3 * time.Millisecond
	for _, tc := range []struct {
		name  string
		grace time.Duration
	}{{"hibernating", time.Millisecond}, {"not-hibernating", -1}} {
		b.Run(tc.name, func(b *testing.B) {
			ln, err := (&ListenConfig{IdleGrace: tc.grace}).Listen(b.Context(), "tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			pl := ln.(*Listener)
			go Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
			defer ln.Close()
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			br := bufio.NewReader(c)
			get := func() {
				fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: b\r\n\r\n")
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			get()
			cpu0 := cpuTime()
			b.ResetTimer()
			for b.Loop() {
				time.Sleep(pause)
				get()
			}
			b.StopTimer()
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
			if tc.grace > 0 {
				b.ReportMetric(float64(pl.Stats().Wakes)/float64(b.N), "wakes/op")
			}
		})
	}
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
