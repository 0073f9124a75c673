//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"testing"
	"time"
)

// TestNoLeaksParkedWithDeadlines: connections parked with an idle deadline
// (entries in the lots' deadline heaps, their timers armed), then closed by
// Server.Close. Afterwards every lot is empty (no registration, no heap
// entry), its timer is stopped, and fds and goroutines are back to their
// baseline. (A deadline that expires while parked:
// TestHibernateIdleTimeoutClosesParked.)
func TestNoLeaksParkedWithDeadlines(t *testing.T) {
	runtime.GC()
	fds0, g0 := countFDs(), runtime.NumGoroutine()
	ln := listenTest(t, ListenConfig{IdleGrace: 5 * time.Millisecond, Pollers: 2})
	srv := &http.Server{
		Handler:     http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }),
		IdleTimeout: time.Hour, // parked with a deadline: a heap entry each
	}
	Hibernate(srv)
	done := make(chan struct{})
	go func() { srv.Serve(ln); close(done) }()

	const n = 40
	clients := make([]net.Conn, n)
	for i := range clients {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		clients[i] = c
		fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	waitFor(t, "every connection parked", func() bool { return ln.Stats().Parked == n })
	heaped := 0
	for _, lp := range ln.hub.set.loops {
		lp.lot.mu.Lock()
		heaped += lp.lot.deadlines.Len()
		lp.lot.mu.Unlock()
	}
	if heaped != n {
		t.Fatalf("%d parked connections in the deadline heaps, want %d", heaped, n)
	}

	srv.Close()
	<-done
	for _, c := range clients {
		c.Close()
	}
	if st := ln.Stats(); st.Parked != 0 || st.Open != 0 {
		t.Fatalf("after Close: %+v", st)
	}
	for i, lp := range ln.hub.set.loops {
		l := lp.lot
		l.mu.Lock()
		registered := 0
		for _, s := range l.slots {
			if s.gen != 0 {
				registered++
			}
		}
		heap, stopped := l.deadlines.Len(), l.timer == nil || !l.timer.Stop()
		l.mu.Unlock()
		if registered != 0 || heap != 0 || !stopped {
			t.Errorf("lot %d after Close: %d registrations, %d deadlines, timer stopped %v", i, registered, heap, stopped)
		}
	}
	settleGoroutines(t, g0)
	waitFor(t, "fds back to baseline", func() bool { return countFDs() <= fds0 })
}
