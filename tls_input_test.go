//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"io"
	"net"
	"net/http"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Bad input before or instead of a TLS handshake: clients that never
// finish it hold nothing forever and delay no one; everything is answered
// and logged as std answers and logs it.

// normalizeLog replaces the ports in a log line (they differ between runs).
var portRE = regexp.MustCompile(`:\d+`)

func handshakeLog(ts *tlsServer) []string {
	var out []string
	for _, l := range ts.log.lines("TLS handshake error") {
		out = append(out, portRE.ReplaceAllString(l, ":PORT"))
	}
	slices.Sort(out)
	return out
}

// badClient is one misbehaving client: what it sends, and what it expects
// back before the server closes (nil: nothing checked).
type badClient struct {
	name   string
	send   string
	answer *string
}

var plaintextAnswer = "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n"

var badClients = []badClient{
	{"silent", "", nil},
	{"partial record header", "\x16\x03\x01", nil},
	{"partial ClientHello", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", nil},
	{"garbage", "\x00\x01\x02\x03\x04\x05garbage\r\n", nil},
	{"plaintext HTTP", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", &plaintextAnswer},
	{"plaintext POST", "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", &plaintextAnswer},
}

// A server with a handshake timeout (ReadHeaderTimeout): every bad client is
// answered as std answers it and closed, at the latest when the timeout
// passes, and the server logs the same lines as std. Meanwhile a good client
// is served.
func TestServeTLSBadClientsLikeStd(t *testing.T) {
	var logs [][]string
	for _, std := range []bool{true, false} {
		ts := startTLS(t, std, tlsMux(), func(srv *http.Server) { srv.ReadHeaderTimeout = 500 * time.Millisecond })
		base := takeBaseline(t)
		var conns []net.Conn
		for _, bc := range badClients {
			c, err := net.Dial("tcp", ts.ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(20 * time.Second))
			io.WriteString(c, bc.send)
			conns = append(conns, c)
		}
		// A good client is served while the bad ones are still there.
		client := ts.client(t, false)
		resp, err := client.Get(ts.url("/tls"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		for i, bc := range badClients {
			got, err := io.ReadAll(conns[i])
			if err != nil && !isConnReset(err) {
				t.Fatalf("std=%v %s: %v after %q; want the server to close", std, bc.name, err, got)
			}
			if bc.answer != nil && string(got) != *bc.answer {
				t.Fatalf("std=%v %s: got %q, want %q", std, bc.name, got, *bc.answer)
			}
			conns[i].Close()
		}
		client.CloseIdleConnections()
		if ts.pl != nil {
			waitStats(t, ts.pl, "every socket closed", func(s Stats) bool { return s.Open == 0 })
		}
		base.check(t)
		waitFor(t, "the handshake errors logged", func() bool { return len(handshakeLog(ts)) == len(badClients) })
		logs = append(logs, handshakeLog(ts))
	}
	if !slices.Equal(logs[0], logs[1]) {
		t.Fatalf("handshake errors logged differently:\nstd:     %q\npollnet: %q", logs[0], logs[1])
	}
	t.Logf("logged: %q", logs[1])
}

// A handshake slowloris (many clients that connect and send nothing, or
// part of a ClientHello, and never finish) delays neither Accept nor other
// handshakes: new clients are served while the slow ones hold on. No
// handshake timeout is set, so DefaultTLSHandshakeTimeout applies; the slow
// clients are let go by the test.
func TestServeTLSSlowlorisDelaysNoOne(t *testing.T) {
	ts := startTLS(t, false, tlsMux(), nil)
	base := takeBaseline(t)
	var slow []net.Conn
	for i := range 200 {
		c, err := net.Dial("tcp", ts.ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 1 {
			io.WriteString(c, "\x16\x03\x01\x02\x00\x01")
		}
		slow = append(slow, c)
	}
	waitStats(t, ts.pl, "the slow clients accepted", func(s Stats) bool { return s.Accepted == 200 })
	client := ts.client(t, false)
	for i := range 20 {
		resp, err := client.Get(ts.url("/"))
		if err != nil {
			t.Fatalf("request %d while 200 handshakes hang: %v", i, err)
		}
		resp.Body.Close()
		client.CloseIdleConnections() // a new connection, a new handshake, each time
	}
	if st := ts.pl.Stats(); st.Open < 200 {
		t.Fatalf("stats %+v: the slow clients should still be connected", st)
	}
	for _, c := range slow {
		c.Close()
	}
	waitStats(t, ts.pl, "every socket closed", func(s Stats) bool { return s.Open == 0 })
	base.check(t)
	// Each slow client's handshake error is logged (EOF, unexpected EOF);
	// the HTTP client may add some of its own (a connection it dialed and
	// closed unused).
	logged := ts.log.String()
	for _, c := range slow {
		if !strings.Contains(logged, "TLS handshake error from "+c.LocalAddr().String()+": ") {
			t.Fatalf("no handshake error logged for %s:\n%s", c.LocalAddr(), logged)
		}
	}
}

func TestTLSHandshakeTimeout(t *testing.T) {
	for _, tc := range []struct {
		srv  *http.Server
		want time.Duration
	}{
		{&http.Server{}, DefaultTLSHandshakeTimeout},
		{&http.Server{ReadTimeout: 3 * time.Second}, 3 * time.Second},
		{&http.Server{ReadHeaderTimeout: 2 * time.Second, ReadTimeout: 3 * time.Second, WriteTimeout: time.Second}, time.Second},
		{&http.Server{ReadHeaderTimeout: -1, WriteTimeout: 4 * time.Second}, 4 * time.Second},
	} {
		if got := tlsHandshakeTimeout(tc.srv); got != tc.want {
			t.Errorf("ReadHeaderTimeout %v ReadTimeout %v WriteTimeout %v: %v, want %v",
				tc.srv.ReadHeaderTimeout, tc.srv.ReadTimeout, tc.srv.WriteTimeout, got, tc.want)
		}
	}
}

// The listener closing (Shutdown) ends handshakes in progress, without a
// log line for them.
func TestServeTLSShutdownEndsHandshakes(t *testing.T) {
	ts := startTLS(t, false, tlsMux(), nil)
	base := takeBaseline(t)
	var slow []net.Conn
	for range 10 {
		c, err := net.Dial("tcp", ts.ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		slow = append(slow, c)
	}
	waitStats(t, ts.pl, "the clients accepted", func(s Stats) bool { return s.Accepted == 10 })
	if err := ts.srv.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, c := range slow {
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if b, err := io.ReadAll(c); err != nil && !isConnReset(err) || len(b) != 0 {
			t.Fatalf("got %q, %v; want the server to close", b, err)
		}
		c.Close()
	}
	base.check(t)
	if l := ts.log.String(); strings.Contains(l, "handshake") {
		t.Fatalf("logged: %s", l)
	}
}

// A client that connects and sends nothing holds no goroutine while its
// handshake waits for its first bytes (std holds one per connection); when
// it finally speaks, or goes, the handshake runs or fails as usual.
func TestServeTLSSilentClientsHoldNoGoroutine(t *testing.T) {
	const n = 200
	ts := startTLS(t, false, tlsMux(), nil)
	client := ts.client(t, false)
	get := func() {
		t.Helper()
		resp, err := client.Get(ts.url("/tls"))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	get() // the server's own goroutines are all running
	client.CloseIdleConnections()
	waitStats(t, ts.pl, "the first client gone", func(s Stats) bool { return s.Open == 0 })
	base := takeBaseline(t)
	before := runtime.NumGoroutine()
	silent := dialSilent(t, ts, n)
	if g := runtime.NumGoroutine(); g-before >= n/4 {
		t.Fatalf("%d silent connections hold %d goroutines", n, g-before)
	}
	get()                      // served meanwhile
	for i, c := range silent { // half speak (a plaintext request), half go
		if i%2 == 0 {
			io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
			if got, _ := io.ReadAll(c); string(got) != plaintextAnswer {
				t.Fatalf("got %q, want net/http's answer to plaintext", got)
			}
		}
		c.Close()
	}
	client.CloseIdleConnections()
	waitStats(t, ts.pl, "every connection closed", func(s Stats) bool { return s.Open == 0 && s.Waiting == 0 })
	base.check(t) // no fd or goroutine left by the waits and handshakes
}

// Closing the server while new connections still wait for their first
// bytes closes them, tells ConnState (StateNew, then StateClosed, as std
// shows connections closed before their handshake) and leaves no fd or
// goroutine behind.
func TestServeTLSCloseWithSilentClients(t *testing.T) {
	const n = 20
	base := takeBaseline(t)
	var mu sync.Mutex
	states := map[http.ConnState]int{}
	ts := startTLS(t, false, tlsMux(), func(srv *http.Server) {
		srv.ConnState = func(c net.Conn, s http.ConnState) {
			mu.Lock()
			states[s]++
			mu.Unlock()
		}
	})
	silent := dialSilent(t, ts, n)
	ts.srv.Close()
	for _, c := range silent {
		if _, err := io.ReadAll(c); err != nil && !isConnReset(err) {
			t.Fatalf("%v; want the server to close", err)
		}
		c.Close()
	}
	waitFor(t, "StateClosed for each", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return states[http.StateClosed] == n
	})
	mu.Lock()
	if states[http.StateNew] != n || len(states) != 2 {
		t.Fatalf("ConnState saw %v, want %d StateNew and %d StateClosed", states, n, n)
	}
	mu.Unlock()
	base.check(t)
}

// dialSilent opens n connections that send nothing (closed when the test
// ends) and waits until the server has them all waiting for their first
// bytes.
func dialSilent(t *testing.T, ts *tlsServer, n int) []net.Conn {
	t.Helper()
	var silent []net.Conn
	for range n {
		c, err := net.Dial("tcp", ts.ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		c.SetDeadline(time.Now().Add(waitBound))
		silent = append(silent, c)
	}
	waitStats(t, ts.pl, "every silent connection waiting", func(s Stats) bool { return s.Waiting == int64(n) })
	return silent
}
