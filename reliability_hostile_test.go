//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Slow and hostile peers: they must cost the server only what they hold,
// never stall anyone else, and be cut off by the server's timeouts.

// TestReliabilitySlowloris: clients that trickle header bytes forever, on
// fresh connections and on connections woken from hibernation, are cut off
// by ReadHeaderTimeout while bystanders keep being served.
func TestReliabilitySlowloris(t *testing.T) {
	checkLeaks(t)
	ln := relServe(t, 5*time.Millisecond, func(s *http.Server) { s.ReadHeaderTimeout = time.Second })
	addr := ln.Addr().String()
	by := newBystanders(t, addr, 4)

	const n = 20
	var wg sync.WaitGroup
	var notCut atomic.Int32
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := relDial(addr)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			if i%2 == 1 { // hibernate first, then trickle the next request
				rc := &relClient{c: c, br: newBufReader(c)}
				if err := rc.token("before"); err != nil {
					t.Error(err)
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
			cut := make(chan struct{})
			go func() { // the server cutting us off shows up as EOF or a reset
				io.Copy(io.Discard, c)
				close(cut)
			}()
			io.WriteString(c, "GET /tok?t=slow HTTP/1.1\r\n")
			for j := 0; ; j++ {
				select {
				case <-cut:
					return
				case <-time.After(50 * time.Millisecond):
				}
				if j == 400 { // 20 s of trickling: the server never cut us off
					notCut.Add(1)
					return
				}
				c.Write([]byte{"X-Slow: abcdefgh\r\n"[j%18]})
			}
		}()
	}
	for i := range 5 {
		by.round(fmt.Sprint(i))
		time.Sleep(50 * time.Millisecond)
	}
	wg.Wait()
	if k := notCut.Load(); k > 0 {
		t.Fatalf("%d slowloris clients were never cut off", k)
	}
	by.round("end")
	by.check(t)
	by.leave(t, ln)
}

// TestReliabilityNeverReadingClient: a client that requests a large response
// and never reads it blocks only its own handler, whose write fails with a
// timeout error once WriteTimeout passes; everyone else is served meanwhile.
func TestReliabilityNeverReadingClient(t *testing.T) {
	checkLeaks(t)
	writeErr := make(chan error, 4)
	mux := http.NewServeMux()
	mux.Handle("/", relTokenHandler())
	mux.HandleFunc("/flood", func(w http.ResponseWriter, r *http.Request) {
		writeErr <- relWritePattern(w, 256<<20)
	})
	ln, _ := serveTest(t, ListenConfig{IdleGrace: 5 * time.Millisecond}, mux, func(s *http.Server) {
		s.WriteTimeout = 2 * time.Second
	})
	addr := ln.Addr().String()
	by := newBystanders(t, addr, 4)

	var sinks []net.Conn
	for range 3 {
		c, err := relDial(addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.(*net.TCPConn).SetReadBuffer(4096)
		io.WriteString(c, "GET /flood HTTP/1.1\r\nHost: x\r\n\r\n")
		sinks = append(sinks, c)
	}
	// While the three handlers are blocked writing, bystanders are served.
	for i := range 5 {
		by.round(fmt.Sprint(i))
	}
	for range sinks {
		select {
		case err := <-writeErr:
			var ne net.Error
			if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
				t.Fatalf("blocked handler's write returned %v, want a timeout net.Error", err)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("the blocked handler's write never failed")
		}
	}
	by.round("end")
	by.check(t)
	for _, c := range sinks {
		relReset(c)
	}
	by.leave(t, ln)
}

// TestReliabilityWriteDeadlineNonReader: the same on a bare *Conn: a Write to
// a peer that does not read returns a timeout *net.OpError at the write
// deadline, having written only part of the data, and the Conn stays usable.
func TestReliabilityWriteDeadlineNonReader(t *testing.T) {
	checkLeaks(t)
	c, client := acceptPair(t, listenTest(t, ListenConfig{}))
	defer client.Close()
	defer c.Close()
	c.SetWriteDeadline(time.Now().Add(300 * time.Millisecond))
	big := make([]byte, 256<<20)
	n, err := c.Write(big)
	var oe *net.OpError
	if !errors.As(err, &oe) || !oe.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) || n >= len(big) {
		t.Fatalf("Write to a non-reader = %d, %v; want a partial write and a timeout *net.OpError", n, err)
	}
	// Clear the deadline, drain on the client, and the Conn still works.
	c.SetWriteDeadline(time.Time{})
	go io.CopyN(io.Discard, client, int64(n)+5)
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatalf("Write after clearing the deadline: %v", err)
	}
}

// TestReliabilityConnectFlood: 3,000 clients connect and send nothing. They
// hold sockets and net/http goroutines (as with std), and bystanders are
// still served; when they go, everything they held is released.
func TestReliabilityConnectFlood(t *testing.T) {
	checkLeaks(t)
	ln := relServe(t, 5*time.Millisecond, nil)
	addr := ln.Addr().String()
	by := newBystanders(t, addr, 4)
	const n = 3000
	flood := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range flood {
			relReset(c)
		}
	}()
	for range n {
		c, err := relDial(addr)
		if err != nil {
			t.Fatalf("flood dial %d: %v", len(flood), err)
		}
		flood = append(flood, c)
	}
	waitStats(t, ln, "flood accepted", func(s Stats) bool { return s.Accepted >= n+4 })
	by.round("flooded")
	by.check(t)
	if st := ln.Stats(); st.Open != n+4 {
		t.Fatalf("stats %+v: want %d open", st, n+4)
	}
	for _, c := range flood {
		relReset(c)
	}
	flood = nil
	waitStats(t, ln, "flood released", func(s Stats) bool { return s.Open == 4 })
	by.round("after")
	by.check(t)
	by.leave(t, ln)
}

// TestReliabilityOpenCloseCycles: 100,000 connections opened and closed
// (reset, so neither side keeps TIME_WAIT entries; sources spread over
// 127.0.0.x), one in 16 making a request first. Afterwards the listener
// holds nothing and fds and goroutines are back to the baseline. Under the
// race detector, which makes each cycle several times slower, it runs 25,000
// cycles; scripts/reliability.sh runs the full 100,000 without it.
func TestReliabilityOpenCloseCycles(t *testing.T) {
	checkLeaks(t)
	ln := relServe(t, 5*time.Millisecond, nil)
	addr := ln.Addr().String()
	port := ln.Addr().(*net.TCPAddr).Port
	total, workers := 100_000, 8
	if relRace {
		total = 25_000
	}
	var wg sync.WaitGroup
	var failed atomic.Int64
	var firstErr atomic.Value
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range total / workers {
				var err error
				if i%16 == 0 {
					err = relTokenCycle(addr, fmt.Sprintf("%d-%d", w, i))
				} else {
					err = relRawCycle(port)
				}
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
				}
			}
		}()
	}
	wg.Wait()
	if k := failed.Load(); k > 0 {
		t.Fatalf("%d of %d cycles failed; first: %v", k, total, firstErr.Load())
	}
	waitStats(t, ln, "all released", func(s Stats) bool { return s.Open == 0 && s.Parked == 0 })
	t.Logf("stats %+v", ln.Stats())
}

// relTokenCycle opens a connection, makes one token request and resets it.
func relTokenCycle(addr, tok string) error {
	c, err := relDial(addr)
	if err != nil {
		return err
	}
	defer relReset(c)
	return (&relClient{c: c, br: newBufReader(c)}).token(tok)
}

// relRawCycle connects to 127.0.0.1:port from a spread-out source address and
// resets the connection at once, with plain blocking syscalls: the client
// side of the cycle costs a few syscalls, so the test measures the server.
func relRawCycle(port int) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		return os.NewSyscallError("socket", err)
	}
	defer unix.Close(fd)
	unix.CloseOnExec(fd)
	src := relSourceAddr().IP.To4()
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte(src)}); err != nil {
		return os.NewSyscallError("bind", err)
	}
	if err := unix.Connect(fd, &unix.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		return os.NewSyscallError("connect", err)
	}
	return unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
}
