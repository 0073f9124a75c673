//go:build linux

package main

import (
	"bytes"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestClientAgainstHTTPTest drives the client role's commands in-process
// against a std server: counts and errors only, no timing thresholds.
func TestClientAgainstHTTPTest(t *testing.T) {
	srv := httptest.NewServer(helloHandler())
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	srcs, err := parseSources("127.0.0.2,127.0.0.3")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	c := &client{srcs: srcs, workers: 4, timeout: 5 * time.Second, out: &lineWriter{w: &out}}
	defer c.closeAll()

	if o := c.open(addr, 10); o.OK != 10 || o.Failed != 0 || o.Held != 10 {
		t.Fatalf("open 10: %+v", o)
	}
	if o := c.open(addr, 25); o.OK != 15 || o.Held != 25 {
		t.Fatalf("grow to 25: %+v", o)
	}
	if o := c.check(); o.OK != 25 || o.Failed != 0 {
		t.Fatalf("check: %+v", o)
	}
	tr := c.trickle(100*time.Millisecond, 200*time.Millisecond)
	if tr.Conns != 25 || tr.Requests+tr.Skipped != 50 || tr.Errors != 0 || tr.Latency.Count != tr.Requests {
		t.Fatalf("trickle: %+v", tr)
	}
	ld := c.load(addr, 5, 10*time.Millisecond, 100*time.Millisecond)
	if ld.Errors != 0 || ld.Conns != 5 || ld.Requests == 0 || ld.Latency.Count != ld.Requests {
		t.Fatalf("load: %+v", ld)
	}
	if !strings.Contains(out.String(), "PROGRESS 25 25") {
		t.Errorf("no progress lines: %q", out.String())
	}
	c.closeAll()
	if c.held() != 0 {
		t.Error("closeAll left connections")
	}
}

func TestClientCommands(t *testing.T) {
	var out bytes.Buffer
	c := &client{workers: 1, timeout: time.Second, out: &lineWriter{w: &out}}
	for _, bad := range [][]string{{"nope"}, {"open", "x"}, {"trickle", "1s", "x"}, {"load", "a", "0", "1s", "1s"}} {
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

func TestResponseOfHelloHandler(t *testing.T) {
	rec := httptest.NewRecorder()
	helloHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Body.String() != "Hello, World!" || rec.Header().Get("Content-Length") != "13" {
		t.Errorf("%q %v", rec.Body.String(), rec.Header())
	}
}
