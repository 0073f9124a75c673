//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func TestListenerCloseUnblocksAccept(t *testing.T) {
	ln := listenTest(t, ListenConfig{})
	errc := make(chan error)
	go func() { _, err := ln.Accept(); errc <- err }()
	time.Sleep(20 * time.Millisecond) // let Accept block (the test holds either way)
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept after Close: %v, want net.ErrClosed", err)
	}
	if _, err := ln.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("second Accept: %v", err)
	}
	if err := ln.Close(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("second Close: %v", err)
	}
}

func TestServeReturnsErrServerClosed(t *testing.T) {
	ln := listenTest(t, ListenConfig{})
	srv := &http.Server{}
	errc := make(chan error)
	go func() { errc <- srv.Serve(ln) }()
	time.Sleep(20 * time.Millisecond)
	srv.Close()
	if err := <-errc; err != http.ErrServerClosed {
		t.Fatalf("Serve: %v, want http.ErrServerClosed", err)
	}
}

func TestListenNetworks(t *testing.T) {
	for _, tc := range []struct{ network, addr string }{
		{"tcp", "127.0.0.1:0"}, {"tcp4", ":0"}, {"tcp6", "[::1]:0"}, {"tcp", ":0"},
		{"unix", filepath.Join(t.TempDir(), "sock")},
	} {
		ln, err := Listen(tc.network, tc.addr)
		if err != nil {
			if tc.network == "tcp6" {
				t.Logf("no IPv6 here: %v", err)
				continue
			}
			t.Fatalf("Listen(%q, %q): %v", tc.network, tc.addr, err)
		}
		addr := ln.Addr().String()
		dialNet := tc.network
		if _, port, err := net.SplitHostPort(addr); err == nil && tc.addr[0] == ':' {
			addr = "127.0.0.1:" + port // wildcard listeners are reached on loopback
			dialNet = "tcp4"
		}
		c, err := net.Dial(dialNet, addr)
		if err != nil {
			t.Fatalf("%s %s: dial %s: %v", tc.network, tc.addr, addr, err)
		}
		sc, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		sc.Close()
		c.Close()
		ln.Close()
		if tc.network == "unix" {
			if _, err := os.Stat(tc.addr); !os.IsNotExist(err) {
				t.Fatalf("unix socket file left after Close: %v", err)
			}
		}
	}
	if _, err := Listen("udp", "127.0.0.1:0"); err == nil {
		t.Fatal("Listen udp: want an error")
	}
}

func TestListenConfigOptions(t *testing.T) {
	var calls int
	lc := ListenConfig{ReusePort: true, Backlog: 16, Pollers: 3, Control: func(network, address string, c syscall.RawConn) error {
		calls++
		return c.Control(func(uintptr) {})
	}}
	ln1 := listenTest(t, lc)
	ln2, err := lc.Listen(t.Context(), "tcp", ln1.Addr().String()) // SO_REUSEPORT: same address twice
	if err != nil {
		t.Fatal(err)
	}
	ln2.Close()
	if calls != 2 || len(ln1.hub.set.loops) != 3 {
		t.Fatalf("Control called %d times, %d pollers", calls, len(ln1.hub.set.loops))
	}
	boom := errors.New("boom")
	lc.Control = func(string, string, syscall.RawConn) error { return boom }
	if _, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0"); !errors.Is(err, boom) {
		t.Fatalf("Control error: %v", err)
	}
}

// TestFileListenerHandover: a listener rebuilt from File() keeps serving
// the same socket after the original is closed.
func TestFileListenerHandover(t *testing.T) {
	ln := listenTest(t, ListenConfig{})
	f, err := ln.File()
	if err != nil {
		t.Fatal(err)
	}
	ln2, err := FileListener(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer ln2.Close()
	ln.Close()
	if ln2.Addr().String() != ln.Addr().String() {
		t.Fatalf("addr %v, want %v", ln2.Addr(), ln.Addr())
	}
	go func() {
		c, err := ln2.Accept()
		if err == nil {
			c.Write([]byte("hi"))
			c.Close()
		}
	}()
	c, err := net.Dial("tcp", ln2.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if b, _ := io.ReadAll(c); string(b) != "hi" {
		t.Fatalf("got %q", b)
	}
}

// TestNoLeaksAfterClose serves 1,000 connections (half of them parking and
// waking) and checks that fds and goroutines return to their baseline once
// the clients and the server are closed.
func TestNoLeaksAfterClose(t *testing.T) {
	runtime.GC()
	fds0, g0 := countFDs(), runtime.NumGoroutine()
	func() {
		ln, err := (&ListenConfig{IdleGrace: 10 * time.Millisecond}).Listen(t.Context(), "tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })}
		Hibernate(srv)
		done := make(chan struct{})
		go func() { srv.Serve(ln); close(done) }()
		var wg sync.WaitGroup
		errs := make(chan error, 1000)
		for i := range 1000 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- leakClient(ln.Addr().String(), i%2 == 0)
			}()
			if i%100 == 99 {
				wg.Wait()
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		st := ln.(*Listener).Stats()
		if st.Accepted != 1000 || st.Parks == 0 || st.Wakes == 0 {
			t.Fatalf("stats %+v: want 1000 accepted and some parks and wakes", st)
		}
		srv.Close()
		<-done
		if st := ln.(*Listener).Stats(); st.Parked != 0 {
			t.Fatalf("after Close: %+v", st)
		}
	}()
	settleGoroutines(t, g0)
	waitFor(t, "fds back to baseline", func() bool { return countFDs() <= fds0 })
}

// leakClient makes a request, optionally waits long enough to be parked and
// makes another on the same connection, then closes.
func leakClient(addr string, pause bool) error {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	br := bufio.NewReader(c)
	for i := range 2 {
		if i == 1 && pause {
			time.Sleep(50 * time.Millisecond)
		}
		fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "ok" {
			return fmt.Errorf("body %q", b)
		}
	}
	return nil
}

// Several goroutines may call Accept on one net.Listener. Every connection
// must be accepted promptly however the callers interleave: with two callers
// the drained flag once let a connection wait in the backlog for the next
// edge (found in review; Accept now admits one caller at a time, as std's
// does). More Ps than cores and busy goroutines make OS preemption between
// accept4 and the flag's update likely; each client waits up to 5 s, far
// beyond any scheduling delay, for the server's byte.
func TestListenerConcurrentAcceptCallers(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(8))
	var stop atomic.Bool
	var busy sync.WaitGroup
	for range 3 {
		busy.Go(func() {
			for n := 0; !stop.Load(); n++ { // keeps a P busy: threads get preempted
			}
		})
	}
	defer busy.Wait()
	defer stop.Store(true)

	end := time.Now().Add(15 * time.Second)
	var total atomic.Int64
	var clients sync.WaitGroup
	for range 4 {
		ln := listenTest(t, ListenConfig{})
		for range 6 {
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					c.Write([]byte{1})
					c.Close()
				}
			}()
		}
		clients.Go(func() {
			b := make([]byte, 1)
			for i := 0; i < 25000 && time.Now().Before(end) && !t.Failed(); i++ {
				c, err := net.Dial("tcp", ln.Addr().String())
				if err != nil {
					t.Errorf("dial: %v", err)
					return
				}
				c.SetReadDeadline(time.Now().Add(5 * time.Second))
				if _, err := c.Read(b); err != nil {
					t.Errorf("connection %d: no byte from the server (%v); stats %+v", i, err, ln.Stats())
				}
				c.(*net.TCPConn).SetLinger(0)
				c.Close()
				total.Add(1)
			}
		})
	}
	clients.Wait()
	t.Logf("%d connections, 6 Accept callers per listener", total.Load())
}
