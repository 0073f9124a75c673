//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"fmt"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The hibernation rule (hibernate.go) matches the exact calls net/http makes
// on a connection at idle. These tests record those calls on a std
// connection (no pollnet) and fail loudly if a Go release changes them.

// callLog records the calls made on one connection, and the ConnState hooks.
type callLog struct {
	mu    sync.Mutex
	calls []string
}

func (l *callLog) add(s string) {
	l.mu.Lock()
	l.calls = append(l.calls, s)
	l.mu.Unlock()
}

func (l *callLog) snapshot() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.calls)
}

// recordingConn logs every net.Conn call net/http makes.
type recordingConn struct {
	net.Conn
	log *callLog
}

func (c *recordingConn) Read(p []byte) (int, error) {
	c.log.add(fmt.Sprintf("Read(%d)", len(p)))
	n, err := c.Conn.Read(p)
	c.log.add(fmt.Sprintf("Read -> %s", outcome(n, err)))
	return n, err
}

func (c *recordingConn) Write(p []byte) (int, error) {
	c.log.add("Write")
	return c.Conn.Write(p)
}

func (c *recordingConn) Close() error {
	c.log.add("Close")
	return c.Conn.Close()
}

func (c *recordingConn) SetDeadline(t time.Time) error {
	c.log.add("SetDeadline" + deadlineKind(t))
	return c.Conn.SetDeadline(t)
}

func (c *recordingConn) SetReadDeadline(t time.Time) error {
	c.log.add("SetReadDeadline" + deadlineKind(t))
	return c.Conn.SetReadDeadline(t)
}

func (c *recordingConn) SetWriteDeadline(t time.Time) error {
	c.log.add("SetWriteDeadline" + deadlineKind(t))
	return c.Conn.SetWriteDeadline(t)
}

func (c *recordingConn) CloseWrite() error {
	c.log.add("CloseWrite")
	return c.Conn.(*net.TCPConn).CloseWrite()
}

func deadlineKind(t time.Time) string {
	switch {
	case t.IsZero():
		return "(none)"
	case t.Before(time.Now()):
		return "(past)"
	}
	return "(future)"
}

func outcome(n int, err error) string {
	switch {
	case err == nil:
		return "data"
	case n > 0:
		return "data+error"
	case err.Error() == "EOF":
		return "EOF"
	case strings.Contains(err.Error(), "timeout"):
		return "timeout"
	}
	return "error"
}

type recordingListener struct {
	net.Listener
	conns chan *recordingConn
}

func (l *recordingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	rc := &recordingConn{Conn: c, log: &callLog{}}
	l.conns <- rc
	return rc, nil
}

// idleSequence serves one request on a std listener with the given server
// settings, then lets the idle connection end (end closes the client side,
// or nil to wait for the server's idle timeout), and returns the calls from
// the StateIdle hook to the connection's Close.
func idleSequence(t *testing.T, configure func(*http.Server), end func(net.Conn)) []string {
	t.Helper()
	ln, c := recordingServer(t, configure)
	c.get("/sentinel")
	rc := <-ln.conns
	if end != nil {
		// Close only once net/http waits in its idle read.
		waitFor(t, "net/http's idle read", func() bool {
			calls := rc.log.snapshot()
			i := slices.Index(calls, "hook idle")
			return i >= 0 && slices.ContainsFunc(calls[i:], func(s string) bool { return strings.HasPrefix(s, "Read(") })
		})
		end(c.conn)
	}
	waitFor(t, "net/http to close the idle connection", func() bool {
		return slices.Contains(rc.log.snapshot(), "hook closed")
	})
	calls := rc.log.snapshot()
	from := slices.Index(calls, "hook idle")
	to := slices.Index(calls, "Close")
	if from < 0 || to < from {
		t.Fatalf("%s\ncalls: %v", sentinelMessage, calls)
	}
	return calls[from : to+1]
}

// recordingServer starts std http.Serve (configured by configure, if not
// nil) on a listener that records every call net/http makes on its
// connections and each ConnState it reports, and dials it.
func recordingServer(t *testing.T, configure func(*http.Server)) (*recordingListener, *rawClient) {
	t.Helper()
	std, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := &recordingListener{Listener: std, conns: make(chan *recordingConn, 1)}
	srv := &http.Server{
		Handler: hibMux(),
		ConnState: func(c net.Conn, s http.ConnState) {
			if rc, ok := c.(*recordingConn); ok {
				rc.log.add("hook " + s.String())
			}
		},
	}
	if configure != nil {
		configure(srv)
	}
	startServer(t, srv, func() error { return srv.Serve(ln) })
	return ln, dialRaw(t, std.Addr())
}

var sentinelMessage = "net/http's idle call sequence changed on " + runtime.Version() +
	": pollnet's hibernation rule (hibernate.go, DESIGN.md section 2) depends on it and must be" +
	" revisited before parking can be trusted on this Go release (DESIGN.md: Go 1.28 changes the" +
	" idle read). The guards should make parking stop, never lose data; check that they do."

// TestHibernateSentinelIdleCallSequence: from StateIdle until it closes an
// idle keep-alive connection, net/http calls exactly: the hook (StateIdle),
// one SetReadDeadline (IdleTimeout, else none), one Read with a 4096-byte
// buffer (its empty bufio.Reader's Peek), then Close.
func TestHibernateSentinelIdleCallSequence(t *testing.T) {
	cases := []struct {
		name      string
		configure func(*http.Server)
		end       func(net.Conn)
		want      []string
	}{
		{"peer closes, no IdleTimeout", nil, func(c net.Conn) { c.Close() },
			[]string{"hook idle", "SetReadDeadline(none)", "Read(4096)", "Read -> EOF", "Close"}},
		{"peer closes, IdleTimeout", func(s *http.Server) { s.IdleTimeout = time.Minute }, func(c net.Conn) { c.Close() },
			[]string{"hook idle", "SetReadDeadline(future)", "Read(4096)", "Read -> EOF", "Close"}},
		{"peer closes, ReadTimeout", func(s *http.Server) { s.ReadTimeout = time.Minute }, func(c net.Conn) { c.Close() },
			[]string{"hook idle", "SetReadDeadline(future)", "Read(4096)", "Read -> EOF", "Close"}},
		{"IdleTimeout passes", func(s *http.Server) { s.IdleTimeout = 200 * time.Millisecond }, nil,
			[]string{"hook idle", "SetReadDeadline(future)", "Read(4096)", "Read -> timeout", "Close"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := idleSequence(t, tc.configure, tc.end)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("%s\ngot:  %q\nwant: %q", sentinelMessage, got, tc.want)
			}
		})
	}
	if idleReadSize != 4096 {
		t.Fatalf("idleReadSize = %d, but net/http's idle read is 4096 bytes", idleReadSize)
	}
}

// With a pipelined request already in net/http's buffer, its idle Peek is
// served from the buffer: the call after the idle SetReadDeadline is another
// SetReadDeadline, not a Read (guard 2 of the rule relies on this).
func TestHibernateSentinelPipelinedIdle(t *testing.T) {
	ln, c := recordingServer(t, nil)
	c.write(getRequest("/one") + getRequest("/two"))
	c.expect("GET", 200, "hello /one")
	c.expect("GET", 200, "hello /two")
	calls := (<-ln.conns).log.snapshot()
	i := slices.Index(calls, "hook idle")
	want := []string{"hook idle", "SetReadDeadline(none)", "SetReadDeadline(none)"}
	if i < 0 || len(calls) < i+3 || !slices.Equal(calls[i:i+3], want) {
		t.Fatalf("%s\ncalls: %q\nwant after the first response: %q", sentinelMessage, calls, want)
	}
}

// classifyRequestLine decides from a connection's first bytes whether it
// may hibernate: only an HTTP/1 request line (1-7 upper-case letters and a
// space) other than the HTTP/2 preface.
func TestHibernateClassifyRequestLine(t *testing.T) {
	tests := []struct {
		head string
		want int32
	}{
		{"GET / HTTP/1.1", protoHTTP1},
		{"GET ", protoHTTP1},
		{"POST /upload", protoHTTP1},
		{"PUT /", protoHTTP1},
		{"HEAD /", protoHTTP1},
		{"PATCH /x", protoHTTP1},
		{"DELETE /", protoHTTP1},
		{"OPTIONS * HTTP/1.1", protoHTTP1}, // 7 letters: the longest allowed
		{"CONNECT host:443", protoHTTP1},
		{"PRIX / HTTP/1.1", protoHTTP1}, // only "PRI" itself is the preface
		{"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", protoOther},
		{"PRI ", protoOther},
		{"get / HTTP/1.1", protoOther}, // lower case
		{"Get / HTTP/1.1", protoOther},
		{"gET", protoOther},
		{"ABCDEFGH / HTTP/1.1", protoOther}, // 8 letters: too long
		{"ABCDEFGH", protoOther},
		{"M-SEARCH * HTTP/1.1", protoOther},
		{" GET /", protoOther},
		{"\r\nGET /", protoOther},
		{"\x16\x03\x01\x02\x00", protoOther}, // TLS ClientHello
		{"\x16", protoOther},
		{"\x00", protoOther},
		{"SSH-2.0-OpenSSH", protoOther},
		{"", protoUnknown},
		{"G", protoUnknown},
		{"GE", protoUnknown},
		{"GET", protoUnknown},
		{"P", protoUnknown},
		{"PR", protoUnknown},
		{"PRI", protoUnknown},
		{"OPTIONS", protoUnknown},
	}
	for _, tc := range tests {
		if got := classifyRequestLine([]byte(tc.head)); got != tc.want {
			t.Errorf("classifyRequestLine(%q) = %d, want %d", tc.head, got, tc.want)
		}
	}

	// The sniff sees a request line that arrives in pieces.
	pieces := []struct {
		parts []string
		want  int32
	}{
		{[]string{"G", "E", "T", " /"}, protoHTTP1},
		{[]string{"OPTIONS", " *"}, protoHTTP1},
		{[]string{"PR", "I", " * HTTP/2.0"}, protoOther},
		{[]string{"PO", "ST", "X", "YZW /"}, protoOther}, // 8 letters
		{[]string{"GE", "t"}, protoOther},
		{[]string{"P", "R"}, protoUnknown},
	}
	for _, tc := range pieces {
		var s idleState
		for _, p := range tc.parts {
			s.sniff([]byte(p))
		}
		if got := s.proto.Load(); got != tc.want {
			t.Errorf("sniff(%q) = %d, want %d", tc.parts, got, tc.want)
		}
	}
}
