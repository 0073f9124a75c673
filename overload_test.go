//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestNoParkingWhileAcceptLags: while more than maxQueued woken sockets wait
// for Accept, idle connections stay with net/http (std behaviour) instead of
// lengthening the queue; once it drains they park again.
func TestNoParkingWhileAcceptLags(t *testing.T) {
	ln, _ := serveTest(t, ListenConfig{IdleGrace: 10 * time.Millisecond}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}), nil)
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	get := func() {
		t.Helper()
		fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "ok" {
			t.Fatalf("body %q", b)
		}
	}

	ln.hub.queued.Store(maxQueued + 1) // as if Accept were far behind
	get()
	time.Sleep(100 * time.Millisecond) // ten grace periods: would have parked
	if st := ln.Stats(); st.Parks != 0 {
		t.Fatalf("parked while overloaded: %+v", st)
	}
	get() // still served, by the same net/http goroutine

	ln.hub.queued.Store(0)
	get()
	waitFor(t, "park once the queue drained", func() bool { return ln.Stats().Parked == 1 })
	get()
	if st := ln.Stats(); st.Wakes != 1 || st.Accepted != 1 {
		t.Fatalf("after drain: %+v", st)
	}
}
