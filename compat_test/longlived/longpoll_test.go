package longlivedcompat

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"testing"
	"time"

	"github.com/pollnet/pollnet"
	"github.com/pollnet/pollnet/compat_test/internal/compat"
	"github.com/pollnet/pollnet/examples/longlived/longpoll"
)

func longPollServer(t *testing.T, timeout time.Duration) (*compat.HTTPServer, *longpoll.Server) {
	polls := longpoll.New(timeout)
	mux := http.NewServeMux()
	mux.Handle("GET /poll", polls)
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") })
	return serve(t, mux), polls
}

// rawHTTP is a client on one TCP connection.
type rawHTTP struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
}

func dialHTTP(t *testing.T, s *compat.HTTPServer) *rawHTTP {
	c, err := net.Dial("tcp", s.Ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawHTTP{t: t, conn: c, br: bufio.NewReader(c)}
}

func (c *rawHTTP) send(paths ...string) {
	var reqs string
	for _, p := range paths {
		reqs += "GET " + p + " HTTP/1.1\r\nHost: x\r\n\r\n"
	}
	if _, err := io.WriteString(c.conn, reqs); err != nil {
		c.t.Fatal(err)
	}
}

func (c *rawHTTP) expect(status int, body string) {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != status || string(b) != body {
		c.t.Fatalf("got %d %q (%v), want %d %q", resp.StatusCode, b, err, status, body)
	}
}

// A poll answered by an event, then one answered by its timeout; after
// each the same TCP connection serves the next request; it then hibernates.
func TestLongPollKeepsConnection(t *testing.T) {
	s, polls := longPollServer(t, 300*time.Millisecond)
	c := dialHTTP(t, s)
	c.send("/poll")
	waitCond(t, "the poll waiting", func() bool { return polls.Waiting() == 1 })
	compat.WaitStats(t, s.Ln, "the poll's connection waiting", func(st pollnet.Stats) bool { return st.Waiting == 1 })
	polls.Publish("news")
	c.expect(200, "news")
	c.send("/hello")
	c.expect(200, "hello")
	c.send("/poll")
	c.expect(204, "") // the timeout
	c.send("/hello")
	c.expect(200, "hello")
	// Idle: the connection hibernates like any keep-alive one, then serves.
	// (Not right after Unhijack: to net/http the connection is new, and a
	// new connection only hibernates once it has served a request.)
	compat.WaitStats(t, s.Ln, "the connection parked", func(st pollnet.Stats) bool { return st.Parked == 1 })
	c.send("/hello")
	c.expect(200, "hello")
	if st := s.Stats(); st.Accepted != 1 {
		t.Fatalf("stats %+v: want one TCP connection", st)
	}
	c.conn.Close()
}

// The next request pipelined behind a poll is kept while the poll waits and
// served after it, on the same connection.
func TestLongPollPipelined(t *testing.T) {
	s, polls := longPollServer(t, time.Minute)
	c := dialHTTP(t, s)
	c.send("/poll", "/hello", "/poll")
	waitCond(t, "the poll waiting", func() bool { return polls.Waiting() == 1 })
	polls.Publish("first")
	c.expect(200, "first")
	c.expect(200, "hello")
	waitCond(t, "the second poll waiting", func() bool { return polls.Waiting() == 1 })
	polls.Publish("second")
	c.expect(200, "second")
	c.conn.Close()
}

// net/http's client reuses the connection after each poll (httptrace).
func TestLongPollHTTPClientReuse(t *testing.T) {
	s, polls := longPollServer(t, 200*time.Millisecond)
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var reused []bool
	get := func(path string, answer func()) (int, string) {
		trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = append(reused, i.Reused) }}
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", s.URL+path, nil)
		done := make(chan struct{})
		if answer != nil {
			go func() { answer(); close(done) }()
		} else {
			close(done)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		<-done
		return resp.StatusCode, string(b)
	}
	publish := func() {
		waitCond(t, "the poll waiting", func() bool { return polls.Waiting() == 1 })
		polls.Publish("event")
	}
	if st, b := get("/poll", publish); st != 200 || b != "event" {
		t.Fatalf("poll: %d %q", st, b)
	}
	if st, _ := get("/poll", nil); st != 204 {
		t.Fatalf("poll: %d, want the timeout's 204", st)
	}
	if st, b := get("/hello", nil); st != 200 || b != "hello" {
		t.Fatalf("hello: %d %q", st, b)
	}
	if len(reused) != 3 || reused[0] || !reused[1] || !reused[2] {
		t.Fatalf("connection reused: %v, want [false true true]", reused)
	}
}

// A client that goes away while its poll waits is noticed at once.
func TestLongPollClientGone(t *testing.T) {
	s, polls := longPollServer(t, time.Minute)
	c := dialHTTP(t, s)
	c.send("/poll")
	waitCond(t, "the poll waiting", func() bool { return polls.Waiting() == 1 })
	c.conn.Close()
	waitCond(t, "the poll gone", func() bool { return polls.Waiting() == 0 })
	compat.WaitStats(t, s.Ln, "its socket closed", func(st pollnet.Stats) bool { return st.Open == 0 })
}
