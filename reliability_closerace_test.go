//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Close racing every other method, for the race detector: each iteration
// starts one goroutine per method, lets them run, and closes concurrently
// (twice). Every call must return (blocked ones unblocked by Close), none
// may panic or race, and nothing may leak.

// relConnMethods are the calls raced against Conn.Close. Each runs in a loop
// until the Conn is closed; blocking ones are unblocked by Close.
var relConnMethods = map[string]func(c *Conn, file *os.File) error{
	"Read": func(c *Conn, _ *os.File) error {
		_, err := c.Read(make([]byte, 4096))
		return err
	},
	"Write": func(c *Conn, _ *os.File) error {
		_, err := c.Write(make([]byte, 64<<10))
		return err
	},
	"ReadFrom": func(c *Conn, _ *os.File) error {
		_, err := c.ReadFrom(strings.NewReader("readfrom"))
		return err
	},
	"ReadFromFile": func(c *Conn, f *os.File) error {
		_, err := c.ReadFrom(io.NewSectionReader(f, 0, 1<<20))
		if err == nil {
			g, err := os.Open(f.Name())
			if err != nil {
				return err
			}
			defer g.Close()
			_, err = c.ReadFrom(g) // the sendfile path
			return err
		}
		return err
	},
	"SetDeadline":      func(c *Conn, _ *os.File) error { return c.SetDeadline(time.Now().Add(time.Hour)) },
	"SetReadDeadline":  func(c *Conn, _ *os.File) error { return c.SetReadDeadline(time.Time{}) },
	"SetWriteDeadline": func(c *Conn, _ *os.File) error { return c.SetWriteDeadline(time.Now().Add(time.Hour)) },
	"CloseWrite": func(c *Conn, _ *os.File) error {
		if err := c.CloseWrite(); errors.Is(err, net.ErrClosed) {
			return err
		}
		return nil // ENOTCONN once both sides shut down
	},
	"SyscallConn": func(c *Conn, _ *os.File) error {
		rc, err := c.SyscallConn()
		if err != nil {
			return err
		}
		return rc.Control(func(fd uintptr) {})
	},
	"SetNoDelay": func(c *Conn, _ *os.File) error { return c.SetNoDelay(true) },
	"File": func(c *Conn, _ *os.File) error {
		f, err := c.File()
		if err == nil {
			f.Close()
		}
		return err
	},
	"Addrs": func(c *Conn, _ *os.File) error {
		if c.LocalAddr() == nil || c.RemoteAddr() == nil {
			return errors.New("nil address")
		}
		if c.sock.closed() {
			return net.ErrClosed
		}
		return nil
	},
	"ConnState": func(c *Conn, _ *os.File) error {
		for _, s := range []http.ConnState{http.StateIdle, http.StateActive, http.StateIdle, http.StateClosed} {
			connStateHook(c, s)
		}
		if c.sock.closed() {
			return net.ErrClosed
		}
		return nil
	},
}

func TestReliabilityCloseRacesConnMethods(t *testing.T) {
	checkLeaks(t)
	file := filepath.Join(t.TempDir(), "data")
	if err := os.WriteFile(file, make([]byte, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ln := listenTest(t, ListenConfig{IdleGrace: time.Millisecond})
	rng := rand.New(rand.NewPCG(1, 2))
	iterations := 200
	if relRace {
		iterations = 60
	}
	for range iterations {
		c, client := acceptPair(t, ln)
		go func() { io.Copy(io.Discard, client) }()
		go func() { io.Copy(client, strings.NewReader("GET / HTTP/1.1\r\n")) }() // lets the sniff decide HTTP/1
		var wg sync.WaitGroup
		for name, call := range relConnMethods {
			wg.Add(1)
			go func() {
				defer wg.Done()
				giveUp := time.Now().Add(20 * time.Second)
				for {
					if err := call(c, f); err != nil {
						if c.sock.closed() {
							return
						}
						if errors.Is(err, os.ErrDeadlineExceeded) || relIsPeerGone(err) {
							continue
						}
						t.Errorf("%s before Close: %v", name, err)
						return
					}
					if time.Now().After(giveUp) {
						t.Errorf("%s never saw Close", name)
						return
					}
				}
			}()
		}
		time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond)
		var closers sync.WaitGroup
		for range 2 {
			closers.Add(1)
			go func() { defer closers.Done(); c.Close() }()
		}
		closers.Wait()
		relWaitGroup(t, &wg, "Conn methods after Close")
		client.Close()
	}
	ln.Close()
	if st := ln.Stats(); st.Open != 0 {
		t.Fatalf("stats %+v: sockets left open", st)
	}
}

// TestReliabilityCloseRacesListenerMethods races Listener.Close with Accept,
// Stats, Addr and File, while clients connect and an HTTP server parks and
// wakes connections, so that Close also races parks, wakes and expiries.
func TestReliabilityCloseRacesListenerMethods(t *testing.T) {
	checkLeaks(t)
	rng := rand.New(rand.NewPCG(3, 4))
	iterations := 40
	if relRace {
		iterations = 15
	}
	for range iterations {
		lc := ListenConfig{IdleGrace: time.Millisecond}
		nl, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ln := nl.(*Listener)
		srv := &http.Server{Handler: relTokenHandler(), IdleTimeout: 50 * time.Millisecond}
		Hibernate(srv)
		served := make(chan struct{})
		go func() { srv.Serve(ln); close(served) }()

		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := range 6 { // clients that park, wake and vanish
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					c, err := relDial(ln.Addr().String())
					if err != nil {
						return
					}
					rc := &relClient{c: c, br: newBufReader(c)}
					rc.c.SetDeadline(time.Now().Add(20 * time.Second))
					for j := range 3 {
						if rc.token("t") != nil {
							break
						}
						time.Sleep(time.Duration((w+i+j)%4) * time.Millisecond)
					}
					relReset(c)
				}
			}()
		}
		for range 3 { // the other listener methods
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					ln.Stats()
					_ = ln.Addr()
					f, err := ln.File()
					if err != nil {
						if !errors.Is(err, net.ErrClosed) {
							t.Errorf("File: %v", err)
						}
						return
					}
					f.Close()
				}
			}()
		}
		wg.Add(1)
		go func() { // a second Accept caller besides the server's
			defer wg.Done()
			for {
				c, err := ln.Accept()
				if err != nil {
					if !errors.Is(err, net.ErrClosed) {
						t.Errorf("Accept: %v", err)
					}
					return
				}
				c.Close()
			}
		}()
		time.Sleep(time.Duration(5+rng.IntN(20)) * time.Millisecond)
		var closers sync.WaitGroup
		for range 2 {
			closers.Add(1)
			go func() { defer closers.Done(); ln.Close() }()
		}
		closers.Wait()
		close(stop)
		relWaitGroup(t, &wg, "Listener methods after Close")
		srv.Close()
		<-served
		waitStats(t, ln, "everything released", func(s Stats) bool { return s.Open == 0 && s.Parked == 0 })
	}
}

// relWaitGroup waits for wg with a 20 s bound.
func relWaitGroup(t *testing.T, wg *sync.WaitGroup, what string) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		buf := make([]byte, 1<<20)
		t.Fatalf("%s: calls still blocked after 20 s\n%s", what, buf[:runtime.Stack(buf, true)])
	}
}
