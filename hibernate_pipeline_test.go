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
	// buffer holds them while it waits for the rest, so the idle read is
	// shorter than 4096 and must not park.
	for k := 1; k <= 5; k++ {
		t.Run(fmt.Sprintf("request plus %d bytes of the next", k), func(t *testing.T) {
			ln, _ := serveTest(t, hibConfig(), hibMux(), nil)
			c := dialRaw(t, ln.Addr())
			next := getRequest("/second")
			c.write(getRequest("/first") + next[:k])
			c.expect("GET", 200, "hello /first")
			idleNoPark(t, ln, fmt.Sprintf("%d bytes of the next request buffered", k))
			c.write(next[k:])
			c.expect("GET", 200, "hello /second")
			waitParked(t, ln, 1) // really idle now: parks
			c.get("/third")
			if st := ln.Stats(); st.Parks != 1 || st.Wakes != 1 || st.Accepted != 1 {
				t.Fatalf("stats %+v: want 1 park, 1 wake, 1 accepted", st)
			}
		})
	}

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
				if st := ln.Stats(); st.Parks != parks || st.Accepted != 1 {
					t.Fatalf("stats %+v: want %d parks, 1 accepted", st, parks)
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
