package longlivedcompat

import (
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/pollnet/pollnet"
	"github.com/pollnet/pollnet/compat_test/internal/compat"
	"github.com/pollnet/pollnet/examples/longlived/gobwasws"
)

// wsURL is ws://addr/path for a test server.
func wsURL(s *compat.HTTPServer, path string) string {
	return "ws://" + strings.TrimPrefix(s.URL, "http://") + path
}

// Many WebSockets (gobwas/ws client) connect, wait idle with no goroutine
// each, then all exchange messages at once.
func TestGobwasEchoManyIdle(t *testing.T) {
	const n = 200
	s := serve(t, gobwasws.Echo(gobwasws.Config{IdleTimeout: time.Minute, WriteTimeout: 20 * time.Second}))
	base := runtime.NumGoroutine()
	clients := make([]*wsClient, n)
	for i := range clients {
		clients[i] = dialWS(t, wsURL(s, "/echo"))
	}
	compat.WaitStats(t, s.Ln, "every WebSocket waiting", func(st pollnet.Stats) bool { return st.Waiting == n })
	idleGoroutines(t, base, n)
	exchange(t, n, func(i int) error {
		large := 16 << 10
		if i%100 == 0 {
			large = 4 << 20
		}
		return clients[i].echoSession(i, large)
	})
}

// exchange runs session(i) for i < n, all at once, and fails on any error.
func exchange(t *testing.T, n int, session func(i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if err := session(i); err != nil {
				t.Errorf("connection %d: %v", i, err)
			}
		})
	}
	wg.Wait()
}

// Bytes the client sends right behind its upgrade request are buffered
// above the socket by the upgrade: the server handles them before waiting.
func TestGobwasFramesBehindUpgrade(t *testing.T) {
	s := serve(t, gobwasws.Echo(gobwasws.Config{}))
	addr := strings.TrimPrefix(s.URL, "http://")
	c := dialWithEarlyFrame(t, addr, "/echo", "early")
	op, p, _, err := c.message()
	if err != nil || op != ws.OpText || string(p) != "early" {
		t.Fatalf("echo of the early frame: %v %q %v", op, p, err)
	}
	if err := c.closeHandshake(); err != nil {
		t.Fatal(err)
	}
}

// The idle timeout is a read deadline on the waiting connection: a silent
// client is pinged; one that answers stays, one that does not gets the
// server's close frame (1001), answers it, and the server closes.
func TestGobwasIdleTimeout(t *testing.T) {
	const idle = 150 * time.Millisecond
	s := serve(t, gobwasws.Echo(gobwasws.Config{IdleTimeout: idle}))
	silent := dialWS(t, wsURL(s, "/echo"))
	lively := dialWS(t, wsURL(s, "/echo"))

	// The lively client answers three pings: it is still served after.
	for range 3 {
		f, err := lively.frame()
		if err != nil || f.Header.OpCode != ws.OpPing {
			t.Fatalf("lively: want a ping, got %v %v", f.Header.OpCode, err)
		}
		lively.write(ws.OpPong, true, f.Payload)
	}
	if err := lively.roundTrip(ws.OpText, [][]byte{[]byte("still here")}, ""); err != nil {
		t.Fatal(err)
	}

	// The silent one saw one ping, then the close frame.
	f, err := silent.frame()
	if err != nil || f.Header.OpCode != ws.OpPing {
		t.Fatalf("silent: want a ping, got %v %v", f.Header.OpCode, err)
	}
	f, err = silent.frame()
	if err != nil || f.Header.OpCode != ws.OpClose {
		t.Fatalf("silent: want a close frame, got %v %v", f.Header.OpCode, err)
	}
	if code, reason := ws.ParseCloseFrameData(f.Payload); code != ws.StatusGoingAway || reason != "idle" {
		t.Fatalf("close frame %d %q", code, reason)
	}
	silent.write(ws.OpClose, true, f.Payload)
	if err := silent.expectEOF(); err != nil {
		t.Fatal(err)
	}
	if err := lively.closeHandshake(); err != nil {
		t.Fatal(err)
	}
}
