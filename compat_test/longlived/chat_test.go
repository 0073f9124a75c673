package longlivedcompat

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/pollnet/pollnet"
	"github.com/pollnet/pollnet/compat_test/internal/compat"
	"github.com/pollnet/pollnet/examples/longlived/chat"
	"github.com/pollnet/pollnet/examples/longlived/gobwasws"
)

// Every member of the chat receives every message exactly once, all in the
// same order, each sender's in the order it sent them.
func TestChatBroadcast(t *testing.T) {
	const members, each = 20, 10
	room := chat.New(gobwasws.Config{WriteTimeout: 20 * time.Second})
	s := serve(t, room)
	clients := make([]*wsClient, members)
	for i := range clients {
		clients[i] = dialWS(t, wsURL(s, "/chat"))
	}
	compat.WaitStats(t, s.Ln, "every member waiting", func(st pollnet.Stats) bool { return st.Waiting == members })
	if n := room.Members(); n != members {
		t.Fatalf("room has %d members, want %d", n, members)
	}

	received := make([][]string, members)
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Go(func() { // reader
			for len(received[i]) < members*each {
				op, p, _, err := c.message()
				if err != nil || op != ws.OpText {
					t.Errorf("member %d after %d messages: %v %v", i, len(received[i]), op, err)
					return
				}
				received[i] = append(received[i], string(p))
			}
		})
		wg.Go(func() { // writer
			for j := range each {
				if err := c.write(ws.OpText, true, fmt.Appendf(nil, "m%d-%d", i, j)); err != nil {
					t.Errorf("member %d: send: %v", i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for i, got := range received {
		if !slices.Equal(got, received[0]) {
			t.Fatalf("member %d saw another order than member 0:\n%v\n%v", i, got, received[0])
		}
	}
	// Exactly once each, each sender's in order.
	next := make([]int, members)
	for _, m := range received[0] {
		var from, j int
		if _, err := fmt.Sscanf(strings.Replace(m, "-", " ", 1), "m%d %d", &from, &j); err != nil || j != next[from] {
			t.Fatalf("message %q out of order or repeated (expected m%d-%d)", m, from, next[from])
		}
		next[from]++
	}
	for _, c := range clients {
		if err := c.closeHandshake(); err != nil {
			t.Fatal(err)
		}
	}
	waitCond(t, "the room empty", func() bool { return room.Members() == 0 })
}
