//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// An SSE-style response flushed in parts with pauses longer than the grace
// period: the client gets every event in order, the connection never parks
// mid-response, and it parks (and wakes) between responses.
func TestHibernateSSEStreaming(t *testing.T) {
	const events = 4
	ln := listenTest(t, hibConfig())
	mux := hibMux()
	mux.HandleFunc("/events", func(w http.ResponseWriter, r *http.Request) {
		before := ln.Stats().Parks
		w.Header().Set("Content-Type", "text/event-stream")
		for i := range events {
			fmt.Fprintf(w, "data: %s %d\n\n", r.URL.RawQuery, i)
			http.NewResponseController(w).Flush()
			time.Sleep(hibPause)
		}
		fmt.Fprintf(w, "data: parks-during-stream=%d\n\n", ln.Stats().Parks-before)
	})
	serveOn(t, ln, mux, nil)
	var ct connTracker
	client := &http.Client{Transport: newTestTransport(t)}
	for round := range 2 {
		req := newRequest(t, "GET", ln, fmt.Sprintf("/events?round%d", round), nil)
		resp, body := ct.do(t, client, req)
		var want strings.Builder
		for i := range events {
			fmt.Fprintf(&want, "data: round%d %d\n\n", round, i)
		}
		want.WriteString("data: parks-during-stream=0\n\n")
		if resp.StatusCode != 200 || body != want.String() {
			t.Fatalf("round %d: %d %q, want %q", round, resp.StatusCode, body, want.String())
		}
		waitParked(t, ln, 1)
	}
	ct.oneConn(t, "")
	if st := ln.Stats(); st.Parks != 2 || st.Wakes != 1 || st.Accepted != 1 {
		t.Fatalf("stats %+v: want 2 parks, 1 wake, 1 accepted", st)
	}

	// Read event by event: each arrives while the handler still runs.
	c := dialRaw(t, ln.Addr())
	c.write(getRequest("/events?live"))
	resp, err := http.ReadResponse(c.br, &http.Request{Method: "GET"})
	if err != nil {
		t.Fatal(err)
	}
	events2 := bufio.NewReader(resp.Body)
	for i := range events {
		line, err := events2.ReadString('\n')
		if want := fmt.Sprintf("data: live %d\n", i); line != want || err != nil {
			t.Fatalf("event %d: %q %v, want %q", i, line, err, want)
		}
		events2.ReadString('\n')
	}
	rest, _ := io.ReadAll(events2)
	resp.Body.Close()
	if string(rest) != "data: parks-during-stream=0\n\n" {
		t.Fatalf("end of stream %q", rest)
	}
}

// A client that disconnects while its request runs cancels the request's
// context, on a fresh connection and on one woken from a park.
func TestHibernateClientDisconnectCancelsContext(t *testing.T) {
	entered := make(chan struct{}, 1)
	result := make(chan string, 1)
	mux := hibMux()
	mux.HandleFunc("/wait", func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		select {
		case <-r.Context().Done():
			result <- "canceled: " + r.Context().Err().Error()
		case <-time.After(15 * time.Second):
			result <- "not canceled"
		}
	})
	ln, _ := serveTest(t, hibConfig(), mux, nil)
	for _, woken := range []bool{false, true} {
		c := dialRaw(t, ln.Addr())
		if woken {
			c.get("/first")
			waitParked(t, ln, 1)
		}
		c.write(getRequest("/wait"))
		<-entered
		c.conn.Close()
		select {
		case got := <-result:
			if !strings.HasPrefix(got, "canceled") {
				t.Fatalf("woken %v: handler %s after the client disconnected", woken, got)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("woken %v: handler did not return", woken)
		}
		waitStats(t, ln, "the connection closed", func(s Stats) bool { return s.Open == 0 })
	}
	if st := ln.Stats(); st.Parks != 1 || st.Wakes != 1 || st.Accepted != 2 {
		t.Fatalf("stats %+v: want 1 park, 1 wake, 2 accepted", st)
	}
}

// A websocket-style upgrade over Hijack: after the 101 the handler echoes
// lines with net/http's own reader, setting a read deadline before each read
// (the same calls net/http makes at idle). Pauses longer than the grace
// period never park the hijacked connection, and every byte comes back.
func TestHibernateHijackEcho(t *testing.T) {
	handlerDone := make(chan error, 1)
	mux := hibMux()
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "echo" {
			http.Error(w, "want Upgrade: echo", http.StatusBadRequest)
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			handlerDone <- err
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
		if err := brw.Flush(); err != nil {
			handlerDone <- err
			return
		}
		for {
			conn.SetReadDeadline(time.Now().Add(20 * time.Second))
			line, err := brw.ReadString('\n')
			if err != nil {
				if err == io.EOF {
					err = nil
				}
				handlerDone <- err
				return
			}
			if _, err := conn.Write([]byte(line)); err != nil {
				handlerDone <- err
				return
			}
		}
	})
	ln, _ := serveTest(t, hibConfig(), mux, nil)
	c := dialRaw(t, ln.Addr())
	c.get("/before") // the upgrade arrives on a woken connection
	waitParked(t, ln, 1)

	// The upgrade request and the first line in one write: the line waits in
	// net/http's buffer, handed over by Hijack.
	c.write("GET /ws HTTP/1.1\r\nHost: pollnet.test\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\nfirst line\n")
	resp, err := http.ReadResponse(c.br, &http.Request{Method: "GET"})
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	echo := func(line string) {
		t.Helper()
		got, err := c.br.ReadString('\n')
		if err != nil || got != line {
			t.Fatalf("echo %q (%v), want %q", abbrev(got), err, abbrev(line))
		}
	}
	echo("first line\n")
	big := strings.Repeat("0123456789abcdef", 64<<10/16) + "\n" // 64 KiB line
	for i := range 4 {
		idleNoPark(t, ln, "hijacked connection idle")
		line := fmt.Sprintf("line %d\n", i)
		if i == 2 {
			line = big
		}
		c.write(line[:len(line)/2])
		idleNoPark(t, ln, "hijacked connection, half a line sent")
		c.write(line[len(line)/2:])
		echo(line)
	}
	c.conn.(*net.TCPConn).CloseWrite()
	select {
	case err := <-handlerDone:
		if err != nil {
			t.Fatalf("hijacked handler: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("hijacked handler did not end after the client closed")
	}
	c.expectClosed()
	waitStats(t, ln, "the hijacked connection closed", func(s Stats) bool { return s.Open == 0 })
	if st := ln.Stats(); st.Parks != 1 || st.Wakes != 1 || st.Accepted != 1 {
		t.Fatalf("stats %+v: want 1 park (before the upgrade), 1 wake, 1 accepted", st)
	}
}

func abbrev(s string) string {
	if len(s) > 40 {
		return fmt.Sprintf("%s...(%d bytes)", s[:40], len(s))
	}
	return s
}

// A full-duplex handler reads a chunked request body line by line and
// answers each line at once, with pauses longer than the grace period
// between lines: no park mid-request, every line answered in order.
func TestHibernateFullDuplexEcho(t *testing.T) {
	mux := hibMux()
	mux.HandleFunc("/duplex", func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if err := rc.EnableFullDuplex(); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.WriteHeader(200)
		rc.Flush()
		br := bufio.NewReader(r.Body)
		for {
			line, err := br.ReadString('\n')
			if line != "" {
				fmt.Fprintf(w, "echo %s", line)
				rc.Flush()
			}
			if err != nil {
				return
			}
		}
	})
	ln, _ := serveTest(t, hibConfig(), mux, nil)
	c := dialRaw(t, ln.Addr())
	c.get("/before")
	waitParked(t, ln, 1)
	c.write("POST /duplex HTTP/1.1\r\nHost: pollnet.test\r\nTransfer-Encoding: chunked\r\n\r\n")
	resp, err := http.ReadResponse(c.br, &http.Request{Method: "POST"})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("duplex response: %v %v", resp, err)
	}
	body := bufio.NewReader(resp.Body)
	for i := range 4 {
		idleNoPark(t, ln, "full-duplex request between lines")
		line := fmt.Sprintf("line %d\n", i)
		c.write(fmt.Sprintf("%x\r\n%s\r\n", len(line), line))
		got, err := body.ReadString('\n')
		if err != nil || got != "echo "+line {
			t.Fatalf("got %q %v, want %q", got, err, "echo "+line)
		}
	}
	c.write("0\r\n\r\n")
	if rest, err := io.ReadAll(body); err != nil || len(rest) != 0 {
		t.Fatalf("end of response: %q %v", rest, err)
	}
	resp.Body.Close()
	waitParked(t, ln, 1) // idle again after the response: parks
	c.get("/after")
	waitParked(t, ln, 1)
	if st := ln.Stats(); st.Parks != 3 || st.Wakes != 2 || st.Accepted != 1 {
		t.Fatalf("stats %+v: want 3 parks, 2 wakes, 1 accepted", st)
	}
}

// A connection whose first bytes are not an HTTP/1 request line never
// parks, even when net/http reports it idle with the rule's hook installed
// (guard 4). HTTP/2 with prior knowledge (h2c, std's own support) is the
// case a real server meets: net/http serves it and reports StateIdle for
// our *Conn between requests.
func TestHibernateNonHTTPNeverParks(t *testing.T) {
	var idles atomic.Int32
	ln, _ := serveTest(t, hibConfig(), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "HTTP/%d", r.ProtoMajor)
	}), func(srv *http.Server) {
		srv.Protocols = new(http.Protocols)
		srv.Protocols.SetHTTP1(true)
		srv.Protocols.SetUnencryptedHTTP2(true)
		srv.ConnState = func(c net.Conn, s http.ConnState) {
			if _, ok := c.(*Conn); ok && s == http.StateIdle {
				idles.Add(1)
			}
		}
	})
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	for range 3 {
		resp, err := client.Get("http://" + ln.Addr().String() + "/")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "HTTP/2" {
			t.Fatalf("body %q: the test needs an h2c connection", b)
		}
		idleNoPark(t, ln, "h2c connection")
	}
	if idles.Load() == 0 {
		t.Fatal("net/http never reported the h2c connection idle: the test proves nothing")
	}
	if st := ln.Stats(); st.Parks != 0 || st.Accepted != 1 {
		t.Fatalf("stats %+v: want 0 parks on one connection", st)
	}
}
