//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// No byte is lost or reordered across a TLS connection's hibernation, and
// its end looks to the client as std's does.

// splitConn is a client's TCP connection that can stop halfway through one
// write (one TLS record): armed, its next Write sends the first half, then
// waits for release before sending the rest.
type splitConn struct {
	net.Conn
	mu       sync.Mutex
	armed    bool
	halfSent chan struct{}
	release  chan struct{}
}

func (c *splitConn) arm() {
	c.mu.Lock()
	c.armed = true
	c.halfSent, c.release = make(chan struct{}), make(chan struct{})
	c.mu.Unlock()
}

func (c *splitConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	armed := c.armed
	c.armed = false
	c.mu.Unlock()
	if !armed || len(p) < 2 {
		return c.Conn.Write(p)
	}
	n, err := c.Conn.Write(p[:len(p)/2])
	close(c.halfSent)
	if err != nil {
		return n, err
	}
	<-c.release
	m, err := c.Conn.Write(p[len(p)/2:])
	return n + m, err
}

// A TLS record split across the pause: its first half arrives during the
// grace period (the *tls.Conn keeps it in its input buffer while the
// connection parks), the rest after the park. And a record whose first
// half arrives while the connection is parked.
func TestServeTLSRecordSplitAcrossPark(t *testing.T) {
	ts := startTLS(t, false, tlsMux(), nil)
	raw, err := net.Dial("tcp", ts.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	sc := &splitConn{Conn: raw}
	tc := tls.Client(sc, &tls.Config{RootCAs: ts.pool, ServerName: "127.0.0.1", NextProtos: []string{"http/1.1"}})
	defer tc.Close()
	tc.SetDeadline(time.Now().Add(30 * time.Second))
	c := &rawClient{t: t, conn: tc, br: bufio.NewReader(tc)}

	c.get("/first")
	// Half a record right after the response, while the server is in its
	// grace period: it parks holding it.
	sc.arm()
	done := make(chan struct{})
	go func() { defer close(done); c.write(getRequest("/split-in-grace")) }()
	<-sc.halfSent
	waitParked(t, ts.pl, 1)
	close(sc.release)
	<-done
	c.expect("GET", 200, "hello /split-in-grace")

	// Half a record that wakes the parked connection; the rest later.
	waitParked(t, ts.pl, 1)
	sc.arm()
	done = make(chan struct{})
	go func() { defer close(done); c.write(getRequest("/split-in-park")) }()
	<-sc.halfSent
	waitStats(t, ts.pl, "the wake-up", func(s Stats) bool { return s.Wakes == 2 })
	time.Sleep(hibPause) // the server waits for the rest of the record
	close(sc.release)
	<-done
	c.expect("GET", 200, "hello /split-in-park")
	waitParked(t, ts.pl, 1)
	c.get("/last")
	if st := ts.pl.Stats(); st.Accepted != 1 || st.Parks != 3 || st.Wakes != 3 {
		t.Fatalf("stats %+v: want 1 connection, 3 parks, 3 wakes", st)
	}
}

// Pipelined requests, in one write (one TLS record) and in several, are
// answered in order; the connection parks only once all are answered.
func TestServeTLSPipelining(t *testing.T) {
	ts := startTLS(t, false, tlsMux(), nil)
	c := tlsRaw(t, ts)
	for round := range 3 {
		var all strings.Builder
		for i := range 5 {
			all.WriteString(getRequest(fmt.Sprintf("/r%d-%d", round, i)))
		}
		body := randomBytes(70000, uint64(round))
		all.WriteString(postRequest("/sum", body))
		all.WriteString(getRequest(fmt.Sprintf("/r%d-last", round)))
		if round == 1 { // byte by byte: many tiny records
			for i, b := range []byte(all.String()) {
				if _, err := c.conn.Write([]byte{b}); err != nil {
					t.Fatalf("byte %d of %d: %v", i, all.Len(), err)
				}
			}
		} else {
			c.write(all.String())
		}
		for i := range 5 {
			c.expect("GET", 200, fmt.Sprintf("hello /r%d-%d", round, i))
		}
		c.expect("POST", 200, bodySum(body))
		c.expect("GET", 200, fmt.Sprintf("hello /r%d-last", round))
		waitParked(t, ts.pl, 1)
	}
	if st := ts.pl.Stats(); st.Accepted != 1 || st.Parks != 3 {
		t.Fatalf("stats %+v: want 1 connection parked 3 times", st)
	}
}

// The peer closing a parked TLS connection releases everything.
func TestServeTLSPeerClosesWhileParked(t *testing.T) {
	ts := startTLS(t, false, tlsMux(), nil)
	base := takeBaseline(t)
	for i := range 10 {
		c := tlsRaw(t, ts)
		c.get("/")
		waitParked(t, ts.pl, 1)
		if i%2 == 0 {
			c.conn.Close() // close_notify, then FIN
		} else {
			c.conn.(*tls.Conn).NetConn().Close() // FIN alone
		}
		waitStats(t, ts.pl, "the parked connection gone", func(s Stats) bool { return s.Parked == 0 && s.Open == 0 })
	}
	// A FIN alone ends the park on the poller (PeerGone); a close_notify is
	// data: the connection wakes and net/http reads the end of the stream.
	if st := ts.pl.Stats(); st.PeerGone < 5 || st.PeerGone+st.Wakes != 10 {
		t.Fatalf("stats %+v: want at least 5 PeerGone, PeerGone+Wakes = 10", st)
	}
	base.check(t)
}

// closeBytes reads what the server sends on c's TCP connection once it
// closes: after the last response, std sends close_notify (an alert record)
// at Shutdown and at the idle timeout.
func closeBytes(t *testing.T, c *rawClient) int {
	t.Helper()
	tc := c.conn.(*tls.Conn)
	b, err := io.ReadAll(tc.NetConn())
	if err != nil && !isConnReset(err) {
		t.Fatalf("reading the server's close: %v", err)
	}
	return len(b)
}

// At Shutdown and at the idle timeout a parked TLS connection is closed as
// std closes an idle one: close_notify, then FIN.
func TestServeTLSCloseNotifyLikeStd(t *testing.T) {
	for _, how := range []string{"shutdown", "idle timeout"} {
		got := map[bool]int{}
		for _, std := range []bool{true, false} {
			ts := startTLS(t, std, tlsMux(), func(srv *http.Server) {
				if how == "idle timeout" {
					srv.IdleTimeout = 300 * time.Millisecond
				}
			})
			c := tlsRaw(t, ts)
			c.get("/")
			if std {
				time.Sleep(hibPause)
			} else {
				waitParked(t, ts.pl, 1)
			}
			if how == "shutdown" {
				if err := ts.srv.Shutdown(t.Context()); err != nil {
					t.Fatal(err)
				}
			}
			got[std] = closeBytes(t, c)
		}
		if got[true] == 0 || got[true] != got[false] {
			t.Fatalf("%s: the server sent %d bytes before FIN, std %d", how, got[false], got[true])
		}
	}
}

// A TLS 1.2 session survives parks as a TLS 1.3 one does.
func TestServeTLS12Hibernates(t *testing.T) {
	ts := startTLS(t, false, tlsMux(), nil)
	c := ts.dialTLS(t, func(cfg *tls.Config) { cfg.MaxVersion = tls.VersionTLS12 })
	c.SetDeadline(time.Now().Add(30 * time.Second))
	rc := &rawClient{t: t, conn: c, br: bufio.NewReader(c)}
	var first string
	for i := range 3 {
		rc.write(getRequest("/tls"))
		_, desc := rc.response("GET")
		if !strings.HasPrefix(desc, "TLS 1.2 ") || first != "" && desc != first {
			t.Fatalf("request %d: %q (first %q)", i, desc, first)
		}
		first = desc
		waitParked(t, ts.pl, 1)
	}
}

// A handler that hijacks an HTTPS/1.1 connection gets the view: a net.Conn
// that reads and writes plaintext, whose NetConn is the *tls.Conn, and on
// which OnReadable waits without a goroutine.
func TestServeTLSHijackOnReadable(t *testing.T) {
	ts, c, hijacked := startTLSUpgrade(t)
	c.get("/")
	waitParked(t, ts.pl, 1) // a park and a wake before the upgrade
	c.write(getRequest("/upgrade"))
	if resp, _ := c.response("GET"); resp.StatusCode != 101 {
		t.Fatalf("upgrade: %s", resp.Status)
	}
	s := <-hijacked
	defer s.Close()
	if _, ok := s.(interface{ NetConn() net.Conn }).NetConn().(*tls.Conn); !ok {
		t.Fatalf("hijacked %T, NetConn not a *tls.Conn", s)
	}
	for i := range 3 {
		ran := onReadableChan(t, s)
		if st := ts.pl.Stats(); st.Waiting != 1 {
			t.Fatalf("stats %+v: want the hijacked connection waiting", st)
		}
		msg := fmt.Sprintf("ping %d", i)
		c.write(msg)
		mustRun(t, ran, "data on the hijacked TLS connection")
		buf := make([]byte, 64)
		n, err := s.Read(buf)
		if err != nil || string(buf[:n]) != msg {
			t.Fatalf("read %q, %v", buf[:n], err)
		}
		io.WriteString(s, "echo "+msg)
		got := make([]byte, len("echo ")+len(msg))
		if _, err := io.ReadFull(c.br, got); err != nil || string(got) != "echo "+msg {
			t.Fatalf("client read %q, %v", got, err)
		}
	}
}

// OnReadable on a hijacked view runs fn at once when crypto/tls already
// holds data the socket no longer shows: decrypted bytes a short Read left,
// or whole records it read ahead.
func TestServeTLSOnReadableHeldData(t *testing.T) {
	_, c, hijacked := startTLSUpgrade(t)
	c.write(getRequest("/upgrade"))
	c.response("GET")
	s := <-hijacked
	defer s.Close()
	read := func(n int) string {
		buf := make([]byte, n)
		m, err := s.Read(buf)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		return string(buf[:m])
	}
	// One record "ab", read one byte at a time.
	c.write("ab")
	if got := read(1); got != "a" {
		t.Fatalf("read %q", got)
	}
	mustRun(t, onReadableChan(t, s), "b held decrypted by crypto/tls")
	if got := read(10); got != "b" {
		t.Fatalf("read %q, want b", got)
	}
	// Two records that arrive together: the first Read takes both from the
	// socket (when they came together) and returns the first.
	c.write("c")
	c.write("d")
	time.Sleep(hibPause)
	if got := read(10); got != "c" && got != "cd" {
		t.Fatalf("read %q", got)
	} else if got == "c" {
		mustRun(t, onReadableChan(t, s), "a record held by crypto/tls")
		if got := read(10); got != "d" {
			t.Fatalf("read %q, want d", got)
		}
	}
	// Nothing held: the wait is on the socket.
	ran := onReadableChan(t, s)
	mustNotRun(t, ran, "with nothing to read")
	c.write("e")
	mustRun(t, ran, "new data")
	if got := read(10); got != "e" {
		t.Fatalf("read %q, want e", got)
	}
}

// Many HTTPS connections parking and waking together: every request is
// answered on its own connection, and all resources come back.
func TestServeTLSManyConnsNoLeak(t *testing.T) {
	base := takeBaseline(t)
	func() {
		ts := startTLS(t, false, tlsMux(), nil)
		const n = 40
		clients := make([]*rawClient, n)
		for i := range clients {
			clients[i] = tlsRaw(t, ts)
		}
		for round := range 3 {
			var wg sync.WaitGroup
			for i, c := range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					body := randomBytes(5000+i, uint64(round*n+i))
					if _, err := io.WriteString(c.conn, postRequest("/sum", body)); err != nil {
						t.Error(err)
						return
					}
					resp, err := http.ReadResponse(c.br, &http.Request{Method: "POST"})
					if err != nil {
						t.Error(err)
						return
					}
					got, _ := io.ReadAll(resp.Body)
					if string(got) != bodySum(body) {
						t.Errorf("conn %d round %d: %q", i, round, got)
					}
				}()
			}
			wg.Wait()
			if t.Failed() {
				return
			}
			waitParked(t, ts.pl, n)
		}
		for _, c := range clients {
			c.conn.Close()
		}
		waitStats(t, ts.pl, "every socket closed", func(s Stats) bool { return s.Open == 0 && s.Parked == 0 })
		ts.srv.Close()
	}()
	base.check(t)
}
