//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

func TestKeepAliveSurvivesParks(t *testing.T) {
	ln, _ := serveTest(t, ListenConfig{IdleGrace: 20 * time.Millisecond}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s", r.URL.Path)
	}), nil)
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	for i := range 5 {
		fmt.Fprintf(c, "GET /%d HTTP/1.1\r\nHost: x\r\n\r\n", i)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want := fmt.Sprintf("hello /%d", i); string(body) != want {
			t.Fatalf("body %q, want %q", body, want)
		}
		waitFor(t, "park", func() bool { return ln.Stats().Parked == 1 })
	}
	st := ln.Stats()
	if st.Parks != 5 || st.Wakes != 4 || st.Accepted != 1 {
		t.Fatalf("stats %+v: want 5 parks, 4 wakes, 1 accepted", st)
	}
}
