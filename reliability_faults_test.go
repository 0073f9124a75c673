//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"
)

// Faults: peers that reset, half-close or vanish at the worst moments. Each
// test checks that nothing panics, that bystander connections keep being
// served correctly, that no response reaches the wrong connection, and that
// every socket is released.

// relBystanders are keep-alive clients that keep making token requests while
// a test injects faults; they must never see an error.
type relBystanders struct {
	addr    string
	clients []*relClient
	mu      sync.Mutex
	errs    []error
}

func newBystanders(t *testing.T, addr string, n int) *relBystanders {
	b := &relBystanders{addr: addr}
	for range n {
		b.clients = append(b.clients, relDialClient(t, addr))
	}
	return b
}

// round makes one token request on every bystander, concurrently.
func (b *relBystanders) round(tag string) {
	var wg sync.WaitGroup
	for i, c := range b.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.token(fmt.Sprintf("by%d-%s", i, tag)); err != nil {
				b.mu.Lock()
				b.errs = append(b.errs, fmt.Errorf("bystander %d: %w", i, err))
				b.mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

func (b *relBystanders) check(t *testing.T) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, err := range b.errs {
		t.Error(err)
	}
}

// leave closes the bystanders and waits until ln holds no socket.
func (b *relBystanders) leave(t *testing.T, ln *Listener) {
	t.Helper()
	for _, c := range b.clients {
		c.c.Close()
	}
	waitStats(t, ln, "all closed", func(s Stats) bool { return s.Open == 0 && s.Parked == 0 })
}

// relCheckCounters checks what must hold once no socket is parked: every
// park ended exactly once, in a wake, an expiry or a departed peer.
func relCheckCounters(t *testing.T, st Stats) {
	t.Helper()
	if st.Parked != 0 || st.Wakes+st.Expired+st.PeerGone != st.Parks {
		t.Fatalf("inconsistent counters %+v", st)
	}
}

func TestReliabilityResetMidRequest(t *testing.T) {
	checkLeaks(t)
	ln := relServe(t, 10*time.Millisecond, nil)
	addr := ln.Addr().String()
	by := newBystanders(t, addr, 8)
	by.round("start")
	for i := range 30 {
		var wg sync.WaitGroup
		wg.Add(3)
		go func() { // reset inside the header block
			defer wg.Done()
			if c, err := relDial(addr); err == nil {
				io.WriteString(c, "GET /tok?t=x HTTP/1.1\r\nHost: x\r\nX-Pad: abc")
				relReset(c)
			}
		}()
		go func() { // reset in the middle of a request body
			defer wg.Done()
			if c, err := relDial(addr); err == nil {
				io.WriteString(c, "POST /sum HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n")
				c.Write(bytes.Repeat([]byte{'b'}, 50000))
				relReset(c)
			}
		}()
		go func() { // reset inside the next request of a woken connection
			defer wg.Done()
			c, err := relDial(addr)
			if err != nil {
				return
			}
			rc := &relClient{c: c, br: newBufReader(c)}
			if err := rc.token(fmt.Sprintf("w%d", i)); err != nil {
				t.Errorf("woken-conn client: %v", err)
			}
			time.Sleep(30 * time.Millisecond) // usually parked by now
			io.WriteString(c, "POST /sum HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab")
			relReset(c)
		}()
		wg.Wait()
		by.round(fmt.Sprint(i))
	}
	by.check(t)
	waitStats(t, ln, "only the bystanders left", func(s Stats) bool { return s.Open == 8 })
	by.leave(t, ln)
	relCheckCounters(t, ln.Stats())
	t.Logf("stats %+v", ln.Stats())
}

func TestReliabilityResetMidResponse(t *testing.T) {
	checkLeaks(t)
	ln := relServe(t, 10*time.Millisecond, nil)
	addr := ln.Addr().String()
	by := newBystanders(t, addr, 8)
	for i := range 20 {
		c := relDialClient(t, addr)
		io.WriteString(c.c, "GET /big?n=16777216 HTTP/1.1\r\nHost: x\r\n\r\n")
		c.c.SetReadDeadline(time.Now().Add(20 * time.Second))
		got, err := io.ReadFull(c.br, make([]byte, 64<<10))
		if err != nil || got != 64<<10 {
			t.Fatalf("reading the start of the response: %d, %v", got, err)
		}
		relReset(c.c) // the handler is still writing megabytes
		by.round(fmt.Sprint(i))
	}
	by.check(t)
	waitStats(t, ln, "only the bystanders left", func(s Stats) bool { return s.Open == 8 })
	by.leave(t, ln)
	relCheckCounters(t, ln.Stats())
}

func TestReliabilityHalfCloseAfterRequest(t *testing.T) {
	ln := relServe(t, 10*time.Millisecond, nil)
	addr := ln.Addr().String()
	body := bytes.Repeat([]byte("upload-"), 30000)
	for i := range 10 {
		for _, woken := range []bool{false, true} {
			c := relDialClient(t, addr)
			if woken {
				if err := c.token("first"); err != nil {
					t.Fatal(err)
				}
				parks := ln.Stats().Parks
				waitStats(t, ln, "park", func(s Stats) bool { return s.Parks > parks })
			}
			// A GET answered with a large body, then an upload: each sent
			// in full and followed at once by CloseWrite.
			for _, req := range []struct{ head, want string }{
				{fmt.Sprintf("GET /big?n=%d HTTP/1.1\r\nHost: x\r\n\r\n", 1<<20+i), ""},
				{fmt.Sprintf("POST /sum HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", len(body), body), relSHA(body)},
			} {
				if req.want != "" { // one request per connection: a fresh one
					c = relDialClient(t, addr)
					if woken {
						c.token("first")
						parks := ln.Stats().Parks
						waitStats(t, ln, "park", func(s Stats) bool { return s.Parks > parks })
					}
				}
				c.c.SetDeadline(time.Now().Add(20 * time.Second))
				io.WriteString(c.c, req.head)
				c.c.(*net.TCPConn).CloseWrite()
				resp, err := http.ReadResponse(c.br, nil)
				if err != nil {
					t.Fatalf("woken=%v: no response after CloseWrite: %v", woken, err)
				}
				got, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil {
					t.Fatalf("woken=%v: reading the body: %v", woken, err)
				}
				if req.want != "" {
					if string(got) != req.want {
						t.Fatalf("woken=%v: checksum %q, want %q", woken, got, req.want)
					}
				} else if !relIsPattern(got, 1<<20+i) {
					t.Fatalf("woken=%v: body of %d bytes is not the pattern", woken, len(got))
				}
				c.c.Close()
			}
		}
	}
	waitStats(t, ln, "all closed", func(s Stats) bool { return s.Open == 0 })
	relCheckCounters(t, ln.Stats())
}

func relIsPattern(b []byte, n int) bool {
	if len(b) != n {
		return false
	}
	for i, c := range b {
		if c != relPattern(i) {
			return false
		}
	}
	return true
}

func TestReliabilityCloseWhileParked(t *testing.T) {
	checkLeaks(t)
	ln := relServe(t, 5*time.Millisecond, nil)
	addr := ln.Addr().String()
	const n = 60
	var clients []*relClient
	for i := range n {
		c := relDialClient(t, addr)
		if err := c.token(fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
	}
	waitStats(t, ln, "all parked", func(s Stats) bool { return s.Parked == n })
	by := newBystanders(t, addr, 4)
	for i, c := range clients {
		if i%2 == 0 {
			c.c.Close() // FIN
		} else {
			relReset(c.c) // RST
		}
	}
	waitStats(t, ln, "parked peers gone", func(s Stats) bool { return s.PeerGone == n && s.Parked <= 4 })
	by.round("after")
	by.check(t)
	by.leave(t, ln)
	relCheckCounters(t, ln.Stats())
}

// TestReliabilityCloseRacingWake: a parked client sends its next request
// and resets (or closes) the connection at once, so the wake-up, the peek,
// Accept and net/http's read all race the peer's disappearance.
func TestReliabilityCloseRacingWake(t *testing.T) {
	checkLeaks(t)
	const grace = 5 * time.Millisecond
	ln := relServe(t, grace, nil)
	addr := ln.Addr().String()
	by := newBystanders(t, addr, 4)
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for i := range 25 {
				c, err := relDial(addr)
				if err != nil {
					errs <- err
					return
				}
				rc := &relClient{c: c, br: newBufReader(c)}
				if err := rc.token(fmt.Sprintf("%d-%d", w, i)); err != nil {
					errs <- err
					c.Close()
					return
				}
				time.Sleep(grace + time.Duration(rng.IntN(20))*time.Millisecond)
				io.WriteString(c, "GET /tok?t=gone HTTP/1.1\r\nHost: x\r\n\r\n")
				if rng.IntN(2) == 0 {
					relReset(c)
				} else {
					c.Close()
				}
			}
		}()
	}
	for i := 0; i < 10; i++ {
		by.round(fmt.Sprint(i))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	by.check(t)
	by.leave(t, ln)
	relCheckCounters(t, ln.Stats())
	t.Logf("stats %+v", ln.Stats())
}

// TestReliabilityFDReuse churns short connections that reset at every stage
// (mid-request, parked, right after a wake) while long-lived clients park and
// wake continually, so that fd numbers are freed and reused constantly, by
// new accepts and by the dups of parked sockets. Every client checks the
// token in each response: a response or event that reached another
// connection's fd would show up as a foreign token.
func TestReliabilityFDReuse(t *testing.T) {
	checkLeaks(t)
	const grace = 3 * time.Millisecond
	ln := relServe(t, grace, nil)
	addr := ln.Addr().String()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []string
	fail := func(format string, a ...any) {
		mu.Lock()
		errs = append(errs, fmt.Sprintf(format, a...))
		mu.Unlock()
	}
	for w := range 24 { // long-lived checkers: park and wake, never fail
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := relDial(addr)
			if err != nil {
				fail("checker dial: %v", err)
				return
			}
			defer c.Close()
			rc := &relClient{c: c, br: newBufReader(c)}
			rng := rand.New(rand.NewPCG(uint64(w), 2))
			for i := range 40 {
				if err := rc.token(fmt.Sprintf("chk%d-%d", w, i)); err != nil {
					fail("checker %d request %d: %v", w, i, err)
					return
				}
				time.Sleep(time.Duration(rng.IntN(12)) * time.Millisecond)
			}
		}()
	}
	for w := range 24 { // churners: short connections dying at every stage
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 3))
			for i := range 80 {
				c, err := relDial(addr)
				if err != nil {
					fail("churner dial: %v", err)
					return
				}
				rc := &relClient{c: c, br: newBufReader(c)}
				tok := fmt.Sprintf("ch%d-%d", w, i)
				switch rng.IntN(5) {
				case 0: // half a request, reset
					io.WriteString(c, "GET /tok?t="+tok+" HTTP/1.1\r\nHo")
				case 1: // a request, reset before reading the answer
					io.WriteString(c, "GET /tok?t="+tok+" HTTP/1.1\r\nHost: x\r\n\r\n")
				case 2: // a full exchange, then reset while (maybe) parked
					if err := rc.token(tok); err != nil {
						fail("churner %s: %v", tok, err)
					}
					time.Sleep(time.Duration(rng.IntN(8)) * time.Millisecond)
				case 3: // exchange, park, wake with a request, reset at once
					if err := rc.token(tok); err != nil {
						fail("churner %s: %v", tok, err)
					}
					time.Sleep(grace + time.Duration(rng.IntN(8))*time.Millisecond)
					io.WriteString(c, "GET /tok?t="+tok+"b HTTP/1.1\r\nHost: x\r\n\r\n")
				case 4: // two exchanges across a park, then a clean close
					for j := range 2 {
						if err := rc.token(fmt.Sprint(tok, "-", j)); err != nil {
							fail("churner %s: %v", tok, err)
						}
						time.Sleep(time.Duration(rng.IntN(8)) * time.Millisecond)
					}
					c.Close()
					continue
				}
				relReset(c)
			}
		}()
	}
	wg.Wait()
	for _, e := range errs {
		t.Error(e)
	}
	waitStats(t, ln, "all closed", func(s Stats) bool { return s.Open == 0 && s.Parked == 0 })
	st := ln.Stats()
	relCheckCounters(t, st)
	if st.Parks == 0 || st.Wakes == 0 {
		t.Fatalf("stats %+v: the test did not exercise parking", st)
	}
	t.Logf("stats %+v", st)
}
