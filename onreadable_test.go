//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// connPair returns a server-side *Conn accepted by a pollnet Listener and
// the std client connected to it.
func connPair(t *testing.T) (*Conn, net.Conn, *Listener) {
	t.Helper()
	ln := listenTest(t, ListenConfig{})
	c, client := acceptPair(t, ln)
	t.Cleanup(func() { client.Close() })
	t.Cleanup(func() { c.Close() })
	return c, client, ln
}

// onReadableChan arms OnReadable with a function that reports on a channel.
func onReadableChan(t *testing.T, c net.Conn) chan struct{} {
	t.Helper()
	ran := make(chan struct{}, 1)
	if err := OnReadable(c, func() { ran <- struct{}{} }); err != nil {
		t.Fatal(err)
	}
	return ran
}

func mustRun(t *testing.T, ran chan struct{}, what string) {
	t.Helper()
	select {
	case <-ran:
	case <-time.After(10 * time.Second):
		t.Fatalf("fn did not run: %s", what)
	}
}

func mustNotRun(t *testing.T, ran chan struct{}, what string) {
	t.Helper()
	select {
	case <-ran:
		t.Fatalf("fn ran: %s", what)
	case <-time.After(100 * time.Millisecond):
	}
}

// runsOnlyOnData checks that fn has not run although why, then sends a
// byte from client and checks that fn runs for it.
func runsOnlyOnData(t *testing.T, ran chan struct{}, client net.Conn, why string) {
	t.Helper()
	mustNotRun(t, ran, why)
	client.Write([]byte("x"))
	mustRun(t, ran, "data after: "+why)
}

// stallableConnPair is connPair with 16 KiB socket buffers (c's send,
// client's receive), so that a large write to a client that reads nothing
// blocks soon.
func stallableConnPair(t *testing.T) (*Conn, net.Conn) {
	t.Helper()
	c, client, _ := connPair(t)
	c.SetWriteBuffer(16 << 10)
	client.(*net.TCPConn).SetReadBuffer(16 << 10)
	return c, client
}

// detached reports whether c waits without its runtime poller registration.
func detached(c *Conn) bool { return c.sock.file.Load() == nil }

func TestOnReadableData(t *testing.T) {
	c, client, ln := connPair(t)
	ran := onReadableChan(t, c)
	if !detached(c) {
		t.Fatal("a waiting Conn keeps its *os.File")
	}
	if st := ln.Stats(); st.Waiting != 1 {
		t.Fatalf("Stats().Waiting = %d while waiting", st.Waiting)
	}
	mustNotRun(t, ran, "before any data")
	client.Write([]byte("hello"))
	mustRun(t, ran, "data arrived")
	buf := make([]byte, 16)
	n, err := c.Read(buf)
	if err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("Read = %q, %v", buf[:n], err)
	}
	if st := ln.Stats(); st.Waiting != 0 {
		t.Fatalf("Stats().Waiting = %d after the wait", st.Waiting)
	}
}

// A waiting Conn echoes many messages, re-arming each time: every byte in
// order, and each wait is detached.
func TestOnReadableEchoLoop(t *testing.T) {
	c, client, _ := connPair(t)
	const messages = 500
	var fn func()
	done := make(chan error, 1)
	buf := make([]byte, 64)
	count := 0
	fn = func() {
		n, err := c.Read(buf)
		if err != nil {
			done <- err
			return
		}
		if _, err := c.Write(buf[:n]); err != nil {
			done <- err
			return
		}
		if count++; count == messages {
			done <- nil
			return
		}
		if err := OnReadable(c, fn); err != nil {
			done <- err
		}
	}
	if err := OnReadable(c, fn); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(client)
	for i := range messages {
		msg := []byte{byte('a' + i%26), '\n'}
		client.Write(msg)
		got, err := br.ReadBytes('\n')
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("message %d: got %q, %v", i, got, err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// Writes to a waiting Conn go straight to the socket and leave it waiting.
func TestOnReadableWriteWhileWaiting(t *testing.T) {
	c, client, _ := connPair(t)
	ran := onReadableChan(t, c)
	var want bytes.Buffer
	for i := range 1000 {
		msg := []byte(strings.Repeat(string(rune('a'+i%26)), 50))
		want.Write(msg)
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
	}
	if !detached(c) {
		t.Fatal("writes attached the waiting Conn to the runtime poller")
	}
	got := make([]byte, want.Len())
	client.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(client, got); err != nil || !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("client read %d bytes, %v; mismatch %v", len(got), err, !bytes.Equal(got, want.Bytes()))
	}
	runsOnlyOnData(t, ran, client, "writes are not readability")
}

// A write to a waiting Conn whose peer does not read blocks only its caller,
// honours the write deadline, and the Conn goes back to waiting detached.
func TestOnReadableSlowReaderWriteDeadline(t *testing.T) {
	c, client := stallableConnPair(t)
	ran := onReadableChan(t, c)
	c.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
	big := make([]byte, 32<<20)
	n, err := c.Write(big)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Write to a stalled reader: %d, %v; want a timeout", n, err)
	}
	if n == len(big) {
		t.Fatalf("Write wrote all %d bytes to a peer that reads nothing", n)
	}
	waitFor(t, "the waiting Conn to detach again", func() bool { return detached(c) })
	runsOnlyOnData(t, ran, client, "the write was not readability")
}

// OnReadable asked while another goroutine's Write is blocked: it returns at
// once, and the detach happens when the write ends.
func TestOnReadableWhileWriteInFlight(t *testing.T) {
	c, client := stallableConnPair(t)
	big := make([]byte, 8<<20)
	wrote := make(chan error, 1)
	go func() { _, err := c.Write(big); wrote <- err }()
	// The write is in flight once it holds a call on an attached socket
	// (it had to wait: the peer does not read); on a slow machine that may
	// take a while.
	waitFor(t, "the write to block", func() bool {
		return c.sock.state.Load()&sockRefs > 0 && !detached(c)
	})
	ran := onReadableChan(t, c)
	if detached(c) {
		t.Fatal("detached under a Write in flight")
	}
	go io.Copy(io.Discard, io.LimitReader(client, int64(len(big))))
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the deferred detach", func() bool { return detached(c) })
	client.Write([]byte("x"))
	mustRun(t, ran, "data after the deferred detach")
}

func TestOnReadableCloseCancels(t *testing.T) {
	c, client, ln := connPair(t)
	ran := onReadableChan(t, c)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	client.Write([]byte("x"))
	mustNotRun(t, ran, "after Close")
	if st := ln.Stats(); st.Waiting != 0 || st.Open != 0 {
		t.Fatalf("after Close: %+v", st)
	}
	client.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := client.Read(make([]byte, 1)); err == nil {
		t.Fatal("the socket stayed open after Close")
	}
}

func TestOnReadablePeerClose(t *testing.T) {
	c, client, _ := connPair(t)
	ran := onReadableChan(t, c)
	client.Close()
	mustRun(t, ran, "peer FIN")
	if n, err := c.Read(make([]byte, 8)); n != 0 || err != io.EOF {
		t.Fatalf("Read after FIN = %d, %v; want io.EOF", n, err)
	}
}

func TestOnReadablePeerReset(t *testing.T) {
	c, client, _ := connPair(t)
	ran := onReadableChan(t, c)
	client.(*net.TCPConn).SetLinger(0)
	client.Close()
	mustRun(t, ran, "peer RST")
	_, err := c.Read(make([]byte, 8))
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("Read after RST = %v; want ECONNRESET", err)
	}
	var oe *net.OpError
	if !errors.As(err, &oe) || oe.Op != "read" {
		t.Fatalf("error %#v is not std-shaped", err)
	}
}

// A read deadline that passes runs fn, and its Read reports the timeout as
// std does. The deadline may be set before or during the wait, and moved.
func TestOnReadableReadDeadline(t *testing.T) {
	for _, when := range []string{"before", "during", "moved"} {
		t.Run(when, func(t *testing.T) {
			c, _, _ := connPair(t)
			if when == "before" {
				c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			}
			ran := onReadableChan(t, c)
			switch when {
			case "during":
				c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			case "moved":
				c.SetReadDeadline(time.Now().Add(time.Hour))
				c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			}
			mustRun(t, ran, "the read deadline passed")
			_, err := c.Read(make([]byte, 8))
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("Read after the deadline = %v; want a timeout", err)
			}
		})
	}
}

// Clearing the deadline of a waiting Conn keeps it waiting.
func TestOnReadableDeadlineCleared(t *testing.T) {
	c, client, _ := connPair(t)
	c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	ran := onReadableChan(t, c)
	c.SetReadDeadline(time.Time{})
	mustNotRun(t, ran, "the deadline was cleared")
	time.Sleep(100 * time.Millisecond)
	runsOnlyOnData(t, ran, client, "the deadline was cleared")
}

// A Read on a waiting Conn ends the wait: the program reads on its own.
func TestOnReadableReadEndsWait(t *testing.T) {
	c, client, _ := connPair(t)
	ran := onReadableChan(t, c)
	go func() { time.Sleep(50 * time.Millisecond); client.Write([]byte("abc")) }()
	buf := make([]byte, 8)
	n, err := c.Read(buf)
	if err != nil || string(buf[:n]) != "abc" {
		t.Fatalf("Read = %q, %v", buf[:n], err)
	}
	mustNotRun(t, ran, "Read ended the wait")
	if err := OnReadable(c, func() {}); err != nil {
		t.Fatalf("OnReadable after the wait ended: %v", err)
	}
}

func TestOnReadableTwiceFails(t *testing.T) {
	c, _, _ := connPair(t)
	onReadableChan(t, c)
	if err := OnReadable(c, func() {}); !errors.Is(err, errAlreadyWaiting) {
		t.Fatalf("second OnReadable = %v", err)
	}
	if err := OnReadable(c, nil); err == nil {
		t.Fatal("OnReadable(c, nil) succeeded")
	}
}

// An event for a closed Conn never reaches the Conn that reuses its fd.
func TestOnReadableNoEventForReusedFD(t *testing.T) {
	ln := listenTest(t, ListenConfig{})
	for range 50 {
		old, client := acceptPair(t, ln)
		oldRan := onReadableChan(t, old)
		client.Write([]byte("x")) // an event for the old registration may be in flight
		old.Close()
		client.Close()
		c2, client2, _ := connPair(t)
		ran2 := onReadableChan(t, c2)
		mustNotRun(t, ran2, "an old event reached a new Conn")
		select {
		case <-oldRan: // the event may have won the race with Close: fine
		default:
		}
		c2.Close()
		client2.Close()
	}
}

// Listener.Close leaves waiting Conns waiting, as std leaves hijacked ones.
func TestOnReadableOutlivesListener(t *testing.T) {
	c, client, ln := connPair(t)
	ran := onReadableChan(t, c)
	ln.Close()
	runsOnlyOnData(t, ran, client, "the listener closed")
}

// OnReadable works on connections that are not pollnet's, with a goroutine.
func TestOnReadableStdConn(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	ran := onReadableChan(t, c)
	runsOnlyOnData(t, ran, client, "no data yet")
	if n, err := c.Read(make([]byte, 4)); n != 1 || err != nil {
		t.Fatalf("Read = %d, %v: the wait consumed a byte?", n, err)
	}
	// Close cancels the goroutine's wait without running fn.
	ran = onReadableChan(t, c)
	c.Close()
	mustNotRun(t, ran, "after Close")
	// A deadline runs fn.
	c2, _ := net.Dial("tcp", ln.Addr().String())
	defer c2.Close()
	s2, _ := ln.Accept()
	defer s2.Close()
	s2.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
	mustRun(t, onReadableChan(t, s2), "deadline")
}

// A *tls.Conn over a pollnet Conn waits on the socket under it.
func TestOnReadableTLS(t *testing.T) {
	ln := listenTest(t, ListenConfig{})
	cert, _ := selfSignedCert(t)
	tln := tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}})
	go func() {
		c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			return
		}
		defer c.Close()
		time.Sleep(100 * time.Millisecond) // after the server's OnReadable
		c.Write([]byte("ping"))
		io.Copy(io.Discard, c)
	}()
	nc, err := tln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	tc := nc.(*tls.Conn)
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	ran := onReadableChan(t, tc)
	mustRun(t, ran, "TLS data")
	buf := make([]byte, 8)
	n, err := tc.Read(buf)
	if err != nil || string(buf[:n]) != "ping" {
		t.Fatalf("Read = %q, %v", buf[:n], err)
	}
}

// A hijacked connection under pollnet.Serve waits with no goroutine, and
// the server closing does not end the wait.
func TestOnReadableHijacked(t *testing.T) {
	conns := make(chan net.Conn, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", upgradeHandler(t, conns))
	ln, _ := serveTest(t, hibConfig(), mux, nil)
	client := dialRaw(t, ln.Addr())
	client.write("GET /ws HTTP/1.1\r\nHost: x\r\n\r\n")
	client.response("GET")
	c := <-conns
	if _, ok := c.(*Conn); !ok {
		t.Fatalf("hijacked conn is %T", c)
	}
	ran := onReadableChan(t, c)
	if st := ln.Stats(); st.Waiting != 1 || st.Parked != 0 {
		t.Fatalf("stats %+v", st)
	}
	client.write("m")
	mustRun(t, ran, "data on the hijacked conn")
	c.Close()
}

// Unhijack: a long-poll answered from an event gives its connection back; a
// request the client sent early (buffered above the socket) is served next.
func TestUnhijackLongPoll(t *testing.T) {
	event := make(chan string)
	ln, _ := serveTest(t, hibConfig(), longPollMux(t, event), nil)
	client := dialRaw(t, ln.Addr())
	// The poll and, pipelined behind it, the next request.
	client.write("GET /poll HTTP/1.1\r\nHost: x\r\n\r\n" + getRequest("/next"))
	time.Sleep(50 * time.Millisecond)
	event <- "news"
	client.expect("GET", 200, "news")
	client.expect("GET", 200, "hello /next")
	// The same connection keeps serving, and hibernates like any other.
	waitParked(t, ln, 1)
	client.get("/again")
	if st := ln.Stats(); st.Accepted != 1 {
		t.Fatalf("stats %+v: want one connection", st)
	}
}

// longPollMux answers /poll with the next event: it hijacks the connection,
// and once an event comes writes it as a complete response and gives the
// connection back with Unhijack, with what the hijack's reader buffered.
// Any other path gets "hello " + path.
func longPollMux(t *testing.T, event <-chan string) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/poll", func(w http.ResponseWriter, r *http.Request) {
		c, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		buffered, _ := rw.Reader.Peek(rw.Reader.Buffered())
		buffered = bytes.Clone(buffered)
		go func() {
			msg := <-event
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: "+strconv.Itoa(len(msg))+"\r\n\r\n"+msg)
			if err := Unhijack(c, buffered); err != nil {
				t.Error(err)
			}
		}()
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello "+r.URL.Path) })
	return mux
}

// No goroutine, fd or poller is left once waiting Conns close.
func TestOnReadableNoLeak(t *testing.T) {
	base := takeBaseline(t)
	func() {
		ln := listenTest(t, ListenConfig{})
		var conns []*Conn
		var clients []net.Conn
		for range 20 {
			c, client := acceptPair(t, ln)
			clients = append(clients, client)
			conns = append(conns, c)
		}
		var fired atomic.Int32
		for i, c := range conns {
			OnReadable(c, func() { fired.Add(1) })
			if i%2 == 0 {
				clients[i].Write([]byte("x"))
			}
		}
		waitFor(t, "half the waits to fire", func() bool { return fired.Load() == 10 })
		var wg sync.WaitGroup
		for i, c := range conns {
			wg.Add(1)
			go func() { defer wg.Done(); c.Close(); clients[i].Close() }()
		}
		wg.Wait()
		ln.Close()
	}()
	shared.mu.Lock()
	running := shared.set != nil
	shared.mu.Unlock()
	if running {
		t.Fatal("the shared pollset still runs with no waiting Conn")
	}
	base.check(t)
}
