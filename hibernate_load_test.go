//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"
)

// 1,500 keep-alive connections open at once, each sending several POSTs
// with random idle pauses before them (some shorter, some longer than the
// grace period): every response body is checked, every request is seen on
// its own connection's address, connections park and wake, and once the
// clients close and the server stops, fds and goroutines are back to their
// baseline.
func TestHibernate1500Connections(t *testing.T) {
	const (
		conns    = 1500
		requests = 3
		maxPause = 100 * time.Millisecond // grace is 20 ms
	)
	base := takeBaseline(t)
	ln := listenTest(t, hibConfig())
	srv := &http.Server{Handler: hibMux()}
	Hibernate(srv)
	serveDone := make(chan error, 1)
	go func() { serveDone <- srv.Serve(ln) }()

	var (
		errMu sync.Mutex
		errs  []string
	)
	fail := func(format string, args ...any) {
		errMu.Lock()
		errs = append(errs, fmt.Sprintf(format, args...))
		errMu.Unlock()
	}
	var finished, closeAll sync.WaitGroup
	finished.Add(conns)
	closeAll.Add(1)
	var allClosed sync.WaitGroup
	allClosed.Add(conns)
	// client runs connection i's requests and returns its still-open
	// connection (nil if it failed).
	client := func(i int) net.Conn {
		// Spread client addresses over 127.0.0.2..9 (ephemeral ports).
		d := net.Dialer{Timeout: 20 * time.Second, LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i%8))}}
		c, err := d.Dial("tcp", ln.Addr().String())
		if err != nil {
			fail("conn %d: dial: %v", i, err)
			return nil
		}
		c.SetDeadline(time.Now().Add(60 * time.Second))
		rng := rand.New(rand.NewPCG(uint64(i), 1))
		br := bufio.NewReader(c)
		for r := range requests {
			if r > 0 || rng.IntN(2) == 0 {
				time.Sleep(time.Duration(rng.Int64N(int64(maxPause))))
			}
			size := rng.IntN(8 << 10)
			if rng.IntN(20) == 0 {
				size = rng.IntN(64 << 10)
			}
			body := randomBytes(size, uint64(i*requests+r))
			if _, err := io.WriteString(c, postRequest("/sum", body)); err != nil {
				fail("conn %d request %d: write: %v", i, r, err)
				return c
			}
			resp, err := http.ReadResponse(br, &http.Request{Method: "POST"})
			if err != nil {
				fail("conn %d request %d: read: %v", i, r, err)
				return c
			}
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 || string(got) != bodySum(body) {
				fail("conn %d request %d: %d %q %v, want %q", i, r, resp.StatusCode, got, err, bodySum(body))
				return c
			}
			if remote := resp.Header.Get("X-Remote"); remote != c.LocalAddr().String() {
				fail("conn %d request %d: server saw %s, client is %s", i, r, remote, c.LocalAddr())
				return c
			}
		}
		return c
	}
	for i := range conns {
		go func() {
			defer allClosed.Done()
			c := client(i)
			finished.Done()
			closeAll.Wait() // every connection stays open until all are done
			if c != nil {
				c.Close()
			}
		}()
	}
	waitDone := make(chan struct{})
	go func() { finished.Wait(); close(waitDone) }()
	select {
	case <-waitDone:
	case <-time.After(80 * time.Second):
		closeAll.Done()
		t.Fatalf("clients did not finish within 80 s; stats %+v", ln.Stats())
	}
	atPeak := ln.Stats()
	closeAll.Done()
	allClosed.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d of %d connections failed, first: %v", len(errs), conns, errs[:min(10, len(errs))])
	}
	if atPeak.Open != conns || atPeak.Accepted != conns {
		t.Fatalf("with every client connected: stats %+v, want %d open and %d accepted (one TCP connection each)", atPeak, conns, conns)
	}
	waitStats(t, ln, "every socket released after the clients closed", func(s Stats) bool { return s.Open == 0 && s.Parked == 0 })
	st := ln.Stats()
	t.Logf("stats %+v", st)
	if st.Parks == 0 || st.Wakes == 0 || st.Accepted != conns {
		t.Fatalf("stats %+v: want parks and wakes, %d accepted", st, conns)
	}
	// Every park ended in exactly one way: woken, peer gone, or expired.
	if st.Parks != st.Wakes+st.PeerGone+st.Expired {
		t.Fatalf("stats %+v: parks != wakes + peer gone + expired", st)
	}
	srv.Close()
	if err := <-serveDone; err != http.ErrServerClosed {
		t.Fatalf("Serve: %v", err)
	}
	base.check(t)
}
