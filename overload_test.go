//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
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

// gatedListener lets a test stop net/http's accept loop: while held, each
// Accept waits for a release.
type gatedListener struct {
	net.Listener
	held    atomic.Bool
	release chan struct{}
}

func (g *gatedListener) Accept() (net.Conn, error) {
	if g.held.Load() {
		<-g.release
	}
	return g.Listener.Accept()
}

// TestStatsQueued: woken connections that Accept has not taken yet are
// counted in Stats.Queued, and leave it when Accept takes them.
func TestStatsQueued(t *testing.T) {
	ln := listenTest(t, hibConfig())
	g := &gatedListener{Listener: ln, release: make(chan struct{})}
	srv := &http.Server{Handler: hibMux()}
	Hibernate(srv)
	done := make(chan struct{})
	go func() { srv.Serve(g); close(done) }()
	t.Cleanup(func() { close(g.release); srv.Close(); <-done })

	const n = 3
	var clients []*rawClient
	for range n {
		c := dialRaw(t, ln.Addr())
		c.write(getRequest("/"))
		c.response("GET")
		clients = append(clients, c)
	}
	waitParked(t, ln, n)
	g.held.Store(true) // the Accept already waiting takes one more connection
	for _, c := range clients {
		c.write(getRequest("/"))
	}
	waitStats(t, ln, "the woken connections queued", func(s Stats) bool { return s.Queued == n-1 })
	for range n - 1 {
		g.release <- struct{}{}
	}
	for _, c := range clients {
		c.response("GET")
	}
	if st := ln.Stats(); st.Queued != 0 {
		t.Fatalf("served, but %d still counted as queued", st.Queued)
	}
}
