//go:build linux

package main

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"github.com/pollnet/pollnet/bench/internal/latency"
)

var hello = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Length", "13")
	_, _ = w.Write([]byte("Hello, World!"))
})

func testClient(t *testing.T, out *bytes.Buffer) *client {
	t.Helper()
	srcs, err := parseSources("127.0.0.2,127.0.0.3")
	if err != nil {
		t.Fatal(err)
	}
	c := &client{srcs: srcs, workers: 4, timeout: 5 * time.Second, out: &lineWriter{w: out}}
	t.Cleanup(c.closeAll)
	return c
}

// TestClientHTTP drives the client role's commands in-process against a std
// server: counts and errors only, no timing thresholds.
func TestClientHTTP(t *testing.T) {
	srv := httptest.NewServer(hello)
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	var out bytes.Buffer
	c := testClient(t, &out)
	p := protocols["http"]
	if o := c.open(p, addr, 10); o.OK != 10 || o.Failed != 0 || o.Held != 10 {
		t.Fatalf("open 10: %+v", o)
	}
	if o := c.open(p, addr, 25); o.OK != 15 || o.Held != 25 {
		t.Fatalf("grow to 25: %+v", o)
	}
	if o := c.check(); o.OK != 25 || o.Failed != 0 {
		t.Fatalf("check: %+v", o)
	}
	tr := c.trickle(100*time.Millisecond, 200*time.Millisecond)
	if tr.Conns != 25 || tr.Requests+tr.Skipped != 50 || tr.Errors != 0 {
		t.Fatalf("trickle: %+v", tr)
	}
	if h, err := latency.Decode(tr.Hist); err != nil || int(h.Count()) != tr.Requests {
		t.Fatalf("trickle histogram: %v, %v", h, err)
	}
	ld := c.load(p, addr, 5, 10*time.Millisecond, 100*time.Millisecond)
	if ld.Errors != 0 || ld.Conns != 5 || ld.Requests == 0 {
		t.Fatalf("load: %+v", ld)
	}
	if h, err := latency.Decode(ld.Hist); err != nil || int(h.Count()) != ld.Requests {
		t.Fatalf("load histogram: %v, %v", h, err)
	}
	if !strings.Contains(out.String(), "PROGRESS 25 25") {
		t.Errorf("no progress lines: %q", out.String())
	}
	c.closeAll()
	if c.heldCount() != 0 {
		t.Error("closeAll left connections")
	}
}

func TestClientHTTPS(t *testing.T) {
	dir := t.TempDir()
	cert, key, err := writeCert(dir)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: hello}
	go srv.ServeTLS(ln, cert, key)
	defer srv.Close()
	var out bytes.Buffer
	c := testClient(t, &out)
	c.caCert = cert
	p := protocols["https"]
	if o := c.open(p, ln.Addr().String(), 6); o.OK != 6 || o.Failed != 0 {
		t.Fatalf("open: %+v", o)
	}
	if o := c.check(); o.OK != 6 || o.Failed != 0 {
		t.Fatalf("second request on the same TLS session: %+v", o)
	}
	if ld := c.load(p, ln.Addr().String(), 3, 10*time.Millisecond, 100*time.Millisecond); ld.Errors != 0 || ld.Requests == 0 {
		t.Fatalf("load: %+v", ld)
	}
	c.caCert = ""
	c2 := testClient(t, &out)
	if o := c2.open(p, ln.Addr().String(), 1); o.Failed != 1 {
		t.Errorf("https without -cacert: %+v", o)
	}
}

// echoServer is a gobwas/ws echo server; reply may alter what it sends back.
func echoServer(t *testing.T, reply func([]byte) []byte) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, _, err := ws.UpgradeHTTP(r, w)
		if err != nil {
			return
		}
		go func() {
			defer conn.Close()
			for {
				msg, op, err := wsutil.ReadClientData(conn)
				if err != nil {
					return
				}
				if wsutil.WriteServerMessage(conn, op, reply(msg)) != nil {
					return
				}
			}
		}()
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func TestClientWebSocket(t *testing.T) {
	var out bytes.Buffer
	c := testClient(t, &out)
	addr := echoServer(t, func(b []byte) []byte { return b })
	if o := c.open(protocols["ws"], addr, 8); o.OK != 8 || o.Failed != 0 {
		t.Fatalf("open: %+v", o)
	}
	for i := 0; i < 2; i++ {
		if o := c.check(); o.OK != 8 || o.Failed != 0 {
			t.Fatalf("echo %d: %+v", i, o)
		}
	}
	if tr := c.trickle(50*time.Millisecond, 100*time.Millisecond); tr.Errors != 0 || tr.Requests == 0 {
		t.Fatalf("trickle: %+v", tr)
	}
	// A server that answers with something else is caught.
	bad := echoServer(t, func(b []byte) []byte { return append(b, '!') })
	if o := c.open(protocols["ws"], bad, 3); o.OK != 3 {
		t.Fatalf("open: %+v", o)
	}
	if o := c.check(); o.Failed != 3 || !strings.Contains(o.FirstErr, "echo") {
		t.Errorf("wrong echo not caught: %+v", o)
	}
}

// sseServer sends, right after the header, the events of ids (chunked).
func sseServer(t *testing.T, ids ...string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, id := range ids {
			fmt.Fprintf(w, "id: %s\ndata: event %s\n\n", id, id)
			w.(http.Flusher).Flush()
		}
		<-r.Context().Done()
	}))
	t.Cleanup(func() { srv.CloseClientConnections(); srv.Close() })
	return strings.TrimPrefix(srv.URL, "http://")
}

func TestClientSSE(t *testing.T) {
	var out bytes.Buffer
	c := testClient(t, &out)
	if o := c.readEvents(2); o.Failed != 1 {
		t.Errorf("sse with no connections: %+v", o)
	}
	if o := c.open(protocols["sse"], sseServer(t, "1", "2", "end"), 5); o.OK != 5 {
		t.Fatalf("open: %+v", o)
	}
	if o := c.readEvents(2); o.OK != 5 || o.Failed != 0 {
		t.Fatalf("events: %+v", o)
	}
	for _, ids := range [][]string{{"1", "1", "end"}, {"1", "end"}, {"2", "1", "end"}} {
		c.timeout = 500 * time.Millisecond
		if o := c.open(protocols["sse"], sseServer(t, ids...), 2); o.OK != 2 {
			t.Fatalf("open: %+v", o)
		}
		if o := c.readEvents(2); o.Failed != 2 {
			t.Errorf("events %v accepted as 1, 2, end: %+v", ids, o)
		}
	}
}

func TestClientCommands(t *testing.T) {
	var out bytes.Buffer
	c := &client{workers: 1, timeout: time.Second, out: &lineWriter{w: &out}}
	for _, bad := range [][]string{{"nope"}, {"open", "x"}, {"open", "ftp", "a", "1"}, {"trickle", "1s", "x"},
		{"load", "http", "a", "0", "1s", "1s"}, {"load", "sse", "a", "1", "1s", "1s"}, {"sse", "-1"}} {
		if err := c.command(bad); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
	if err := c.command([]string{"close"}); err != nil || !strings.HasPrefix(out.String(), "RESULT {") {
		t.Errorf("close: %v %q", err, out.String())
	}
	if _, err := parseSources("10.0.0.1"); err == nil {
		t.Error("non-loopback source accepted")
	}
}
