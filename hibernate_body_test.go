//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// POST bodies from empty to 8 MiB, with Content-Length and chunked, over one
// keep-alive connection that parks between requests: every body arrives
// whole (sha256 echoed back).
func TestHibernatePostBodies(t *testing.T) {
	ln, _ := serveTest(t, hibConfig(), hibMux(), nil)
	var ct connTracker
	client := &http.Client{Transport: newTestTransport(t)}
	sizes := []int{0, 1, 100, 4095, 4096, 4097, 64 << 10, 1 << 20, 8 << 20}
	parks := uint64(0)
	for i, size := range sizes {
		body := randomBytes(size, uint64(i))
		for _, chunked := range []bool{false, true} {
			req := newRequest(t, "POST", ln, "/sum", body)
			if chunked {
				req.Body = io.NopCloser(bytes.NewReader(body)) // hides the length
				req.ContentLength = -1
				req.TransferEncoding = []string{"chunked"}
			}
			resp, got := ct.do(t, client, req)
			if resp.StatusCode != 200 || got != bodySum(body) {
				t.Fatalf("%d bytes (chunked %v): %d %q, want %q", size, chunked, resp.StatusCode, got, bodySum(body))
			}
			waitParked(t, ln, 1)
			parks++
		}
	}
	ct.oneConn(t, "")
	if st := ln.Stats(); st.Accepted != 1 || st.Parks != parks || st.Wakes != parks-1 {
		t.Fatalf("stats %+v: want 1 accepted, %d parks, %d wakes", st, parks, parks-1)
	}
}

// A body that pauses longer than the grace period mid-way (the handler is
// blocked reading it) never parks and arrives whole.
func TestHibernateSlowBodyNeverParks(t *testing.T) {
	ln, _ := serveTest(t, hibConfig(), hibMux(), nil)
	c := dialRaw(t, ln.Addr())
	for round := range 2 {
		body := randomBytes(3*4096+17, uint64(round))
		head, rest := postRequest("/sum", body)[:200], postRequest("/sum", body)[200:]
		c.write(head)
		idleNoPark(t, ln, "body paused after 200 bytes")
		c.write(rest[:4096])
		idleNoPark(t, ln, "body paused after 4096 more bytes")
		c.write(rest[4096:])
		c.expect("POST", 200, bodySum(body))
		waitParked(t, ln, 1)
	}
	if st := ln.Stats(); st.Parks != 2 || st.Wakes != 1 || st.Accepted != 1 {
		t.Fatalf("stats %+v: want 2 parks (after each response), 1 wake, 1 accepted", st)
	}
}

// expectContinueMux serves /slowsum: it waits past the grace period before
// reading the body (so net/http's "100 Continue" is late), and reports the
// listener's Parks as seen on entry and after reading the body.
func expectContinueMux(ln *Listener) http.Handler {
	mux := hibMux()
	mux.HandleFunc("/slowsum", func(w http.ResponseWriter, r *http.Request) {
		before := ln.Stats().Parks
		time.Sleep(hibPause)
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		after := ln.Stats().Parks
		fmt.Fprintf(w, "%s parks-during-request=%d", bodySum(body), after-before)
	})
	return mux
}

// Go's client with Expect: 100-continue waits for the server's 100 (sent
// only when the handler reads the body, after a pause past the grace
// period): no park mid-request, no lost body, parks between requests.
func TestHibernateExpectContinueGoClient(t *testing.T) {
	ln := listenTest(t, hibConfig())
	serveOn(t, ln, expectContinueMux(ln), nil)
	tr := newTestTransport(t)
	tr.ExpectContinueTimeout = 20 * time.Second // the client really waits for the 100
	client := &http.Client{Transport: tr}
	var ct connTracker
	const rounds = 3
	for i := range rounds {
		body := randomBytes(1<<20+i, uint64(i))
		req := newRequest(t, "POST", ln, "/slowsum", body)
		req.Header.Set("Expect", "100-continue")
		resp, got := ct.do(t, client, req)
		want := bodySum(body) + " parks-during-request=0"
		if resp.StatusCode != 200 || got != want {
			t.Fatalf("round %d: %d %q, want %q", i, resp.StatusCode, got, want)
		}
		waitParked(t, ln, 1)
	}
	ct.oneConn(t, "")
	if ct.got100 != rounds {
		t.Fatalf("client saw %d \"100 Continue\", want %d", ct.got100, rounds)
	}
	if st := ln.Stats(); st.Parks != rounds || st.Wakes != rounds-1 || st.Accepted != 1 {
		t.Fatalf("stats %+v: want %d parks, %d wakes, 1 accepted", st, rounds, rounds-1)
	}
}

// A raw client sends the headers with Expect: 100-continue, waits for the
// "100 Continue", pauses past the grace period, then sends the body in two
// parts with another pause: the server never parks mid-request and reads
// the whole body; the connection parks between requests and keeps working.
func TestHibernateExpectContinueRawClient(t *testing.T) {
	ln, _ := serveTest(t, hibConfig(), hibMux(), nil)
	c := dialRaw(t, ln.Addr())
	const rounds = 3
	for i := range rounds {
		body := randomBytes(100000+i, uint64(i))
		c.write(fmt.Sprintf("POST /sum HTTP/1.1\r\nHost: pollnet.test\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n", len(body)))
		status, err := c.br.ReadString('\n')
		if err != nil || status != "HTTP/1.1 100 Continue\r\n" {
			t.Fatalf("round %d: want \"100 Continue\", got %q, %v", i, status, err)
		}
		if blank, err := c.br.ReadString('\n'); err != nil || blank != "\r\n" {
			t.Fatalf("round %d: want the blank line after 100 Continue, got %q, %v", i, blank, err)
		}
		idleNoPark(t, ln, "waiting for the body after 100 Continue")
		c.write(string(body[:len(body)/2]))
		idleNoPark(t, ln, "half the body sent")
		c.write(string(body[len(body)/2:]))
		c.expect("POST", 200, bodySum(body))
		waitParked(t, ln, 1)
	}
	if st := ln.Stats(); st.Parks != rounds || st.Wakes != rounds-1 || st.Accepted != 1 {
		t.Fatalf("stats %+v: want %d parks, %d wakes, 1 accepted", st, rounds, rounds-1)
	}

	// A server that answers without reading the body: net/http sends no 100
	// and marks the reply "Connection: close". With a large declared body it
	// closes at once; with a small one (<= 256 KiB) it first waits to discard
	// the body the client never sends (as std does), until the client
	// closes. Nothing parks in either case.
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "refused") })
	ln2, _ := serveTest(t, hibConfig(), mux, nil)
	for _, length := range []int{1 << 20, 100000} {
		c2 := dialRaw(t, ln2.Addr())
		c2.write(fmt.Sprintf("POST /upload HTTP/1.1\r\nHost: pollnet.test\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n", length))
		resp := c2.expect("POST", 200, "refused")
		if !resp.Close {
			t.Fatalf("want net/http to close after an unread 100-continue body; headers %v", resp.Header)
		}
		if length > 256<<10 {
			c2.expectClosed()
		} else {
			idleNoPark(t, ln2, "server discarding an unsent 100-continue body")
			c2.conn.Close()
		}
		waitStats(t, ln2, "the refused connection closed", func(s Stats) bool { return s.Open == 0 })
	}
	if st := ln2.Stats(); st.Parks != 0 || st.Accepted != 2 {
		t.Fatalf("refused uploads: stats %+v, want 0 parks, 2 accepted", st)
	}
}

// A handler that ignores a request body: net/http discards the rest of the
// body (it is still arriving, after a pause past the grace period) before it
// sends the response and the connection goes idle. No park mid-body, no body byte read as a
// request, and the connection parks once really idle.
func TestHibernateUnreadBodyDiscarded(t *testing.T) {
	mux := hibMux()
	mux.HandleFunc("/ignore", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ignored") })
	ln, _ := serveTest(t, hibConfig(), mux, nil)
	c := dialRaw(t, ln.Addr())
	body := randomBytes(100000, 3)
	req := fmt.Sprintf("POST /ignore HTTP/1.1\r\nHost: pollnet.test\r\nContent-Length: %d\r\n\r\n", len(body))
	c.write(req + string(body[:5000]))
	// net/http discards the body (<= 256 KiB) before it sends the response.
	idleNoPark(t, ln, "net/http discarding an unread body")
	c.write(string(body[5000:]))
	c.expect("POST", 200, "ignored")
	c.get("/next")
	waitParked(t, ln, 1)
	if st := ln.Stats(); st.Parks != 1 || st.Accepted != 1 {
		t.Fatalf("stats %+v: want 1 park, 1 accepted", st)
	}
}

// A large response to a client that stops reading for longer than the grace
// period (the handler blocks in Write): no park mid-response, every byte
// arrives, and the connection parks afterwards.
func TestHibernateSlowReaderLargeResponse(t *testing.T) {
	big := randomBytes(8<<20, 4)
	var writing atomic.Bool
	mux := hibMux()
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		writing.Store(true)
		w.Write(big)
		writing.Store(false)
	})
	ln, _ := serveTest(t, hibConfig(), mux, nil)
	c := dialRaw(t, ln.Addr())
	// A fixed receive buffer: autotuned, it may grow to tcp_rmem's maximum
	// (32 MiB here) and take the whole response, and the server would not
	// be blocked in Write at all.
	if err := c.conn.(*net.TCPConn).SetReadBuffer(64 << 10); err != nil {
		t.Fatal(err)
	}
	for round := range 2 {
		c.write(getRequest("/big"))
		resp, err := http.ReadResponse(c.br, &http.Request{Method: "GET"})
		if err != nil {
			t.Fatal(err)
		}
		got := make([]byte, len(big))
		if _, err := io.ReadFull(resp.Body, got[:1<<20]); err != nil {
			t.Fatal(err)
		}
		idleNoPark(t, ln, "server blocked writing a response")
		if !writing.Load() {
			t.Fatal("the handler's Write returned while the client did not read: the kernel buffered the whole response, the test proves nothing")
		}
		if _, err := io.ReadFull(resp.Body, got[1<<20:]); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if !bytes.Equal(got, big) {
			t.Fatalf("round %d: response body differs", round)
		}
		waitParked(t, ln, 1)
	}
	if st := ln.Stats(); st.Parks != 2 || st.Wakes != 1 || st.Accepted != 1 {
		t.Fatalf("stats %+v: want 2 parks, 1 wake, 1 accepted", st)
	}
}
