//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"testing"
	"time"
)

// Shared pieces of the hibernation tests (hibernate_*_test.go).

// hibGrace is the IdleGrace of the hibernation tests: short, so idle
// connections park quickly.
const hibGrace = 20 * time.Millisecond

// hibPause is an idle pause well past the grace period. Tests that check a
// connection did NOT park pause this long first: a connection that could
// park would have parked by then. (Tests that check a park happened do not
// sleep: they wait for Stats to show it.)
const hibPause = 10 * hibGrace

// hibConfig is the listener config of the hibernation tests.
func hibConfig() ListenConfig { return ListenConfig{IdleGrace: hibGrace} }

// hibMux serves the endpoints the hibernation tests share:
//
//	/addr  the client address the server sees (r.RemoteAddr)
//	/sum   reads the whole body and answers bodySum(body)
//	/      "hello " + path
//
// Every response carries X-Remote: r.RemoteAddr.
func hibMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/addr", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Remote", r.RemoteAddr)
		io.WriteString(w, r.RemoteAddr)
	})
	mux.HandleFunc("/sum", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Remote", r.RemoteAddr)
		h := sha256.New()
		n, err := io.Copy(h, r.Body)
		if err != nil {
			http.Error(w, "reading body: "+err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "%d %x", n, h.Sum(nil))
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Remote", r.RemoteAddr)
		io.WriteString(w, "hello "+r.URL.Path)
	})
	return mux
}

// bodySum is what /sum answers for body b.
func bodySum(b []byte) string { return fmt.Sprintf("%d %x", len(b), sha256.Sum256(b)) }

// randomBytes returns n reproducible pseudo-random bytes.
func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16), byte(seed >> 24)})
	r.Read(b)
	return b
}

// idleNoPark pauses past the grace period and fails if ln parked a socket
// meanwhile (Parks moved from what it was before the pause).
func idleNoPark(t *testing.T, ln *Listener, why string) {
	t.Helper()
	before := ln.Stats().Parks
	time.Sleep(hibPause)
	if st := ln.Stats(); st.Parks != before {
		t.Fatalf("%s: parked during a pause where parking is unsafe (Parks %d -> %d); stats %+v", why, before, st.Parks, st)
	}
}

// rawClient is a plain TCP client for tests where the exact bytes matter.
type rawClient struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
}

func dialRaw(t *testing.T, addr net.Addr) *rawClient {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr.String(), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(30 * time.Second)) // bounds every test step
	return &rawClient{t: t, conn: c, br: bufio.NewReader(c)}
}

// write sends s as one write.
func (c *rawClient) write(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.conn, s); err != nil {
		c.t.Fatalf("write %q: %v", s, err)
	}
}

// response reads one complete response to a request with the given method.
func (c *rawClient) response(method string) (*http.Response, string) {
	c.t.Helper()
	resp, err := http.ReadResponse(c.br, &http.Request{Method: method})
	if err != nil {
		c.t.Fatalf("reading response: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		c.t.Fatalf("reading response body: %v", err)
	}
	return resp, string(body)
}

// expect reads one response and checks its status and body.
func (c *rawClient) expect(method string, status int, body string) *http.Response {
	c.t.Helper()
	resp, got := c.response(method)
	if resp.StatusCode != status || got != body {
		c.t.Fatalf("response %d %q, want %d %q", resp.StatusCode, got, status, body)
	}
	return resp
}

// get sends GET path and checks the hibMux answer.
func (c *rawClient) get(path string) {
	c.t.Helper()
	c.write(getRequest(path))
	c.expect("GET", 200, "hello "+path)
}

// expectClosed reads until the server closes the connection: EOF, or a reset
// if the server closed with unread bytes. Anything else fails.
func (c *rawClient) expectClosed() {
	c.t.Helper()
	b, err := io.ReadAll(c.br)
	if err != nil && !isConnReset(err) {
		c.t.Fatalf("want the server to close the connection, got %v (after %q)", err, b)
	}
	if len(b) != 0 {
		c.t.Fatalf("want the server to close the connection, got bytes %q", b)
	}
}

func isConnReset(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "broken pipe"))
}

func getRequest(path string) string {
	return "GET " + path + " HTTP/1.1\r\nHost: pollnet.test\r\n\r\n"
}

func postRequest(path string, body []byte) string {
	return fmt.Sprintf("POST %s HTTP/1.1\r\nHost: pollnet.test\r\nContent-Length: %d\r\n\r\n%s", path, len(body), body)
}

// connTracker is an http.Client whose requests record which TCP connection
// (client port) carried them and whether it was reused.
type connTracker struct {
	mu     sync.Mutex
	local  []string
	reused []bool
	got100 int
}

func (ct *connTracker) trace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) {
			ct.mu.Lock()
			ct.local = append(ct.local, info.Conn.LocalAddr().String())
			ct.reused = append(ct.reused, info.Reused)
			ct.mu.Unlock()
		},
		Got100Continue: func() {
			ct.mu.Lock()
			ct.got100++
			ct.mu.Unlock()
		},
	}
}

// oneConn fails unless every request went over one connection, the one
// whose client address is want (if not empty).
func (ct *connTracker) oneConn(t *testing.T, want string) {
	t.Helper()
	ct.mu.Lock()
	defer ct.mu.Unlock()
	for i, l := range ct.local {
		if l != ct.local[0] || (want != "" && l != want) || ct.reused[i] != (i > 0) {
			t.Fatalf("request %d went over %s (reused %v); want every request on %s (first %s): %v %v",
				i, l, ct.reused[i], want, ct.local[0], ct.local, ct.reused)
		}
	}
}

// do sends req through client, traced by ct, and returns the response and
// its whole body. A transport error fails the test.
func (ct *connTracker) do(t *testing.T, client *http.Client, req *http.Request) (*http.Response, string) {
	t.Helper()
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), ct.trace()))
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", req.Method, req.URL, err)
	}
	return resp, string(body)
}

// newRequest builds a request to ln's address; body may be nil.
func newRequest(t *testing.T, method string, ln net.Listener, path string, body []byte) *http.Request {
	t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, "http://"+ln.Addr().String()+path, r)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// newTestTransport returns a keep-alive transport closed at the end of the test.
func newTestTransport(t *testing.T) *http.Transport {
	tr := &http.Transport{MaxIdleConnsPerHost: 4, DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

// startServer runs srv on ln in a goroutine; the returned func waits for
// Serve to return and gives its error. The test's cleanup closes srv.
func startServer(t *testing.T, srv *http.Server, serve func() error) func() error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- serve() }()
	var once sync.Once
	var err error
	wait := func() error {
		once.Do(func() {
			select {
			case err = <-done:
			case <-time.After(20 * time.Second):
				err = fmt.Errorf("server did not return within 20 s")
			}
		})
		return err
	}
	t.Cleanup(func() { srv.Close(); wait() })
	return wait
}
