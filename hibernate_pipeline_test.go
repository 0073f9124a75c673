//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

// Pipelined requests, requests split across pauses, and bytes of the next
// request that arrive while a handler runs: every response is correct and in
// order, and the connection never parks while net/http holds a byte of a
// request (parking would lose or reorder it). Once the connection is really
// idle it parks again.
func TestHibernatePipelining(t *testing.T) {
	t.Run("two requests in one write", func(t *testing.T) {
		ln, _ := serveTest(t, hibConfig(), hibMux(), nil)
		c := dialRaw(t, ln.Addr())
		for round := range 2 {
			body := randomBytes(5000, uint64(round))
			c.write(getRequest("/a") + postRequest("/sum", body) + getRequest("/b"))
			c.expect("GET", 200, "hello /a")
			c.expect("POST", 200, bodySum(body))
			c.expect("GET", 200, "hello /b")
			waitParked(t, ln, 1)
		}
		if st := ln.Stats(); st.Parks != 2 || st.Wakes != 1 || st.Accepted != 1 {
			t.Fatalf("stats %+v: want 2 parks, 1 wake, 1 accepted", st)
		}
	})

	// A full request plus the first k bytes of the next one: net/http's
	// buffer holds them while it waits for the rest. With 1-3 bytes its idle
	// read is shorter than 4096; with 4 or more its idle Peek is served from
	// the buffer and, when the buffered bytes end exactly at a line end (the
	// whole request line, or every header line), its next read of the
	// header is a 4096-byte read from an empty buffer. None may park.
	next := getRequest("/second")
	requestLine := len("GET /second HTTP/1.1\r\n")
	for _, k := range []int{1, 2, 3, 4, 5, requestLine, len(next) - 2, len(next) - 1} {
		t.Run(fmt.Sprintf("request plus %d bytes of the next", k), func(t *testing.T) {
			ln, _ := serveTest(t, hibConfig(), hibMux(), nil)
			c := dialRaw(t, ln.Addr())
			c.write(getRequest("/first") + next[:k])
			c.expect("GET", 200, "hello /first")
			idleNoPark(t, ln, fmt.Sprintf("%d bytes of the next request buffered", k))
			c.write(next[k:])
			c.expect("GET", 200, "hello /second")
			waitParked(t, ln, 1) // really idle now: parks
			c.get("/third")
			waitParked(t, ln, 1)
			if st := ln.Stats(); st.Parks != 2 || st.Wakes != 1 || st.Accepted != 1 {
				t.Fatalf("stats %+v: want 2 parks, 1 wake, 1 accepted", st)
			}
		})
	}

	// A request plus the whole header of a pipelined POST: net/http's idle
	// Peek is served from its buffer, and the body it then reads (with an
	// empty buffer, a 4096-byte read) comes after a pause. Parking there would
	// lose the body.
	t.Run("request plus a POST header, body after a pause", func(t *testing.T) {
		ln, _ := serveTest(t, hibConfig(), hibMux(), nil)
		c := dialRaw(t, ln.Addr())
		body := randomBytes(3000, 9)
		post := postRequest("/sum", body)
		header := post[:len(post)-len(body)]
		c.write(getRequest("/first") + header)
		c.expect("GET", 200, "hello /first")
		idleNoPark(t, ln, "a pipelined POST waits for its body")
		c.write(string(body[:1000]))
		idleNoPark(t, ln, "a pipelined POST waits for the rest of its body")
		c.write(string(body[1000:]))
		c.expect("POST", 200, bodySum(body))
		waitParked(t, ln, 1)
		if st := ln.Stats(); st.Parks != 1 || st.Accepted != 1 {
			t.Fatalf("stats %+v: want 1 park, 1 accepted", st)
		}
	})

	// One request split across a pause longer than the grace period, on a
	// fresh connection and on one woken from a park (its first bytes wake it).
	req := getRequest("/split")
	for _, woken := range []bool{false, true} {
		for _, at := range []int{1, 2, 3, 4, 10, len(req) - 2, len(req) - 1} {
			t.Run(fmt.Sprintf("split at %d woken %v", at, woken), func(t *testing.T) {
				ln, _ := serveTest(t, hibConfig(), hibMux(), nil)
				c := dialRaw(t, ln.Addr())
				var parks uint64
				if woken {
					c.get("/before")
					waitParked(t, ln, 1)
					parks = 1
				}
				c.write(req[:at])
				idleNoPark(t, ln, fmt.Sprintf("request split after %d bytes", at))
				c.write(req[at:])
				c.expect("GET", 200, "hello /split")
				waitParked(t, ln, 1)
				if st := ln.Stats(); st.Parks != parks+1 || st.Accepted != 1 {
					t.Fatalf("stats %+v: want %d parks (none mid-request), 1 accepted", st, parks+1)
				}
			})
		}
	}

	// Bytes of the next request that arrive while the handler still runs
	// are taken by net/http's background 1-byte read (or wait in the
	// kernel): the idle read must not park either way.
	for k := 1; k <= 3; k++ {
		t.Run(fmt.Sprintf("%d bytes during the handler", k), func(t *testing.T) {
			entered, sent := make(chan struct{}), make(chan struct{})
			mux := hibMux()
			mux.HandleFunc("/held", func(w http.ResponseWriter, r *http.Request) {
				close(entered)
				select {
				case <-sent:
				case <-time.After(10 * time.Second):
				}
				time.Sleep(hibGrace) // let the background read take the byte
				fmt.Fprint(w, "held")
			})
			ln, _ := serveTest(t, hibConfig(), mux, nil)
			c := dialRaw(t, ln.Addr())
			next := getRequest("/after")
			c.write(getRequest("/held"))
			<-entered
			c.write(next[:k])
			close(sent)
			c.expect("GET", 200, "held")
			idleNoPark(t, ln, fmt.Sprintf("%d bytes of the next request arrived during the handler", k))
			c.write(next[k:])
			c.expect("GET", 200, "hello /after")
			waitParked(t, ln, 1)
			if st := ln.Stats(); st.Parks != 1 || st.Accepted != 1 {
				t.Fatalf("stats %+v: want 1 park, 1 accepted", st)
			}
		})
	}
}
