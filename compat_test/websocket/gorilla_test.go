package websocketcompat

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"

	"github.com/pollnet/pollnet"
	"github.com/pollnet/pollnet/compat_test/internal/compat"
)

func TestGorilla(t *testing.T) {
	runSuite(t, "/gorilla", sessionTests{
		upgradeAfterHibernation: gorillaUpgradeOnUsedConn,
		echoWithIdlePauses:      gorillaIdleEcho,
		largeAndFragmented:      gorillaLarge,
		serverInitiatedClose:    gorillaServerClose,
		concurrentSessions:      gorillaConcurrent,
	})
}

// sessionTests are the scenarios run against each WebSocket library, each
// given the server and the library's echo endpoint as a ws:// URL.
type sessionTests struct {
	upgradeAfterHibernation, echoWithIdlePauses, largeAndFragmented,
	serverInitiatedClose, concurrentSessions func(t *testing.T, es *echoServer, wsURL string)
}

// runSuite runs the scenarios in every pollnet mode, then checks that no
// fd, goroutine or parked socket is left and how often the server parked.
func runSuite(t *testing.T, path string, s sessionTests) {
	for _, m := range compat.PollnetModes {
		t.Run(m.String(), func(t *testing.T) {
			compat.CheckLeaks(t)
			es := startEchoServer(t, m)
			wsURL := "ws" + es.URL[len("http"):] + path
			for _, tc := range []struct {
				name string
				run  func(*testing.T, *echoServer, string)
			}{
				{"upgrade-after-hibernation", s.upgradeAfterHibernation},
				{"echo-with-idle-pauses", s.echoWithIdlePauses},
				{"large-and-fragmented", s.largeAndFragmented},
				{"server-initiated-close", s.serverInitiatedClose},
				{"concurrent-sessions", s.concurrentSessions},
			} {
				t.Run(tc.name, func(t *testing.T) { tc.run(t, es, wsURL) })
			}
			compat.WaitDrained(t, es.Ln)
			checkParks(t, es)
		})
	}
}

// checkParks: only the plain-HTTP part of upgrade-after-hibernation may park
// (once, under hibernation); WebSocket sessions never do.
func checkParks(t *testing.T, es *echoServer) {
	t.Helper()
	s := es.Stats()
	want := uint64(0)
	if es.Mode == compat.Hibernating {
		want = 1
	}
	if s.Parks != want || s.Wakes != want {
		t.Errorf("parks %d, wakes %d, want %d each (stats %+v)", s.Parks, s.Wakes, want, s)
	}
}

// runConcurrently runs session(i) for sessions i at once and reports each
// error, then checks that the server saw every session close with code.
func runConcurrently(t *testing.T, es *echoServer, sessions, code int, session func(i int) error) {
	for _, err := range compat.Concurrently(sessions, session) {
		t.Error(err)
	}
	for range sessions {
		es.wantClose(t, code)
	}
}

// pausedEchoes sends session i's six binary messages through echo, with an
// idle pause after the fourth.
func pausedEchoes(i int, echo func(msg []byte) error) error {
	for j := range 6 {
		if err := echo(message(100*j+i, byte(i))); err != nil {
			return err
		}
		if j == 3 {
			time.Sleep(compat.IdlePause)
		}
	}
	return nil
}

func gorillaDial(t *testing.T, wsURL string) *gorilla.Conn {
	t.Helper()
	c, resp, err := gorilla.DefaultDialer.Dial(wsURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake status %d", resp.StatusCode)
	}
	c.SetReadLimit(maxMessage)
	return c
}

// gorillaEcho sends one message and checks the echo.
func gorillaEcho(c *gorilla.Conn, typ int, msg []byte) error {
	if err := c.WriteMessage(typ, msg); err != nil {
		return err
	}
	gotTyp, got, err := c.ReadMessage()
	if err != nil {
		return err
	}
	if gotTyp != typ || !bytes.Equal(got, msg) {
		return fmt.Errorf("echo of %d bytes: got type %d, %d bytes, differing", len(msg), gotTyp, len(got))
	}
	return nil
}

// gorillaClose runs the close handshake from the client: the server must see
// code 1000 and answer with its own close frame.
func gorillaClose(t *testing.T, es *echoServer, c *gorilla.Conn) {
	t.Helper()
	msg := gorilla.FormatCloseMessage(gorilla.CloseNormalClosure, "bye")
	if err := c.WriteControl(gorilla.CloseMessage, msg, time.Now().Add(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	_, _, err := c.ReadMessage()
	if !gorilla.IsCloseError(err, gorilla.CloseNormalClosure) {
		t.Fatalf("after our close frame: %v, want the server's close 1000", err)
	}
	c.Close()
	es.wantClose(t, gorilla.CloseNormalClosure)
}

// gorillaUpgradeOnUsedConn: a plain GET, an idle pause (the connection
// hibernates when hibernation is on), then the upgrade on the same TCP
// connection.
func gorillaUpgradeOnUsedConn(t *testing.T, es *echoServer, wsURL string) {
	before := es.Stats()
	nc, err := pollnet.Dial("tcp", es.Ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	plainGet(t, nc)
	if es.Mode == compat.Hibernating {
		compat.WaitStats(t, es.Ln, "the connection to park", func(s pollnet.Stats) bool { return s.Parks > before.Parks })
	}
	time.Sleep(compat.IdlePause)
	u, _ := url.Parse(wsURL)
	//lint:ignore SA1019 NewClient is gorilla's way to run the handshake on a connection we already used
	c, resp, err := gorilla.NewClient(nc, u, nil, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake status %d", resp.StatusCode)
	}
	for i := range 5 {
		if err := gorillaEcho(c, gorilla.TextMessage, fmt.Appendf(nil, "message %d on a reused connection", i)); err != nil {
			t.Fatal(err)
		}
	}
	if got := es.Stats().Accepted - before.Accepted; got != 1 {
		t.Fatalf("%d connections accepted, want 1 (the same TCP connection throughout)", got)
	}
	gorillaClose(t, es, c)
}

// plainGet sends GET /hello on nc and checks the response, leaving the
// connection idle and reusable.
func plainGet(t *testing.T, nc net.Conn) {
	t.Helper()
	if _, err := io.WriteString(nc, "GET /hello HTTP/1.1\r\nHost: compat\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	// A bufio.Reader reads at most what the server sent: the response, no more.
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 || string(body) != "hello" {
		t.Fatalf("GET /hello: %d %q %v", resp.StatusCode, body, err)
	}
}

// gorillaIdleEcho: text and binary echoes with idle pauses between them;
// the hijacked connection must neither park nor break.
func gorillaIdleEcho(t *testing.T, es *echoServer, wsURL string) {
	before := es.Stats()
	c := gorillaDial(t, wsURL)
	for i := range 4 {
		if err := gorillaEcho(c, gorilla.TextMessage, fmt.Appendf(nil, "text %d", i)); err != nil {
			t.Fatal(err)
		}
		if err := gorillaEcho(c, gorilla.BinaryMessage, message(1000+i, byte(i))); err != nil {
			t.Fatal(err)
		}
		time.Sleep(compat.IdlePause)
	}
	// A ping answered across an idle pause.
	pong := make(chan string, 1)
	c.SetPongHandler(func(data string) error { pong <- data; return nil })
	if err := c.WriteControl(gorilla.PingMessage, []byte("are you there"), time.Now().Add(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := gorillaEcho(c, gorilla.TextMessage, []byte("after ping")); err != nil {
		t.Fatal(err)
	}
	if got := <-pong; got != "are you there" {
		t.Fatalf("pong %q", got)
	}
	if s := es.Stats(); s.Parks != before.Parks {
		t.Fatalf("a WebSocket session parked: before %+v, after %+v", before, s)
	}
	gorillaClose(t, es, c)
}

// gorillaLarge: a 4 MiB message in one frame, then a 1 MiB message written in
// 1000-byte chunks (many continuation frames) with a ping in the middle.
func gorillaLarge(t *testing.T, es *echoServer, wsURL string) {
	c := gorillaDial(t, wsURL)
	big := message(4<<20, 7)
	if err := gorillaEcho(c, gorilla.BinaryMessage, big); err != nil {
		t.Fatal(err)
	}

	pong := make(chan struct{}, 1)
	c.SetPongHandler(func(string) error { pong <- struct{}{}; return nil })
	w, err := c.NextWriter(gorilla.BinaryMessage)
	if err != nil {
		t.Fatal(err)
	}
	frag := message(1<<20, 9)
	for off := 0; off < len(frag); off += 1000 {
		if _, err := w.Write(frag[off:min(off+1000, len(frag))]); err != nil {
			t.Fatal(err)
		}
		if off == 500_000 {
			// A control frame between fragments of a message (RFC 6455 5.4).
			if err := c.WriteControl(gorilla.PingMessage, nil, time.Now().Add(10*time.Second)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	_, got, err := c.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, frag) {
		t.Fatalf("fragmented echo: %d bytes back, differing", len(got))
	}
	<-pong
	gorillaClose(t, es, c)
}

// gorillaServerClose: the server closes with its own code; the client sees
// it, answers, and the server sees the handshake complete.
func gorillaServerClose(t *testing.T, es *echoServer, wsURL string) {
	c := gorillaDial(t, wsURL+"?"+closeAfterParam+"=1")
	if err := gorillaEcho(c, gorilla.TextMessage, []byte("only one")); err != nil {
		t.Fatal(err)
	}
	_, _, err := c.ReadMessage() // the default close handler answers the close frame
	var ce *gorilla.CloseError
	if !errors.As(err, &ce) || ce.Code != serverCloseCode || ce.Text != serverCloseText {
		t.Fatalf("got %v, want close %d %q", err, serverCloseCode, serverCloseText)
	}
	es.wantClose(t, serverCloseCode) // gorilla's close handler echoes the code
	c.Close()
}

// gorillaConcurrent: 20 sessions at once, each with an idle pause.
func gorillaConcurrent(t *testing.T, es *echoServer, wsURL string) {
	runConcurrently(t, es, 20, gorilla.CloseNormalClosure, func(i int) error {
		c, _, err := gorilla.DefaultDialer.Dial(wsURL, nil)
		if err != nil {
			return err
		}
		defer c.Close()
		if err := pausedEchoes(i, func(msg []byte) error { return gorillaEcho(c, gorilla.BinaryMessage, msg) }); err != nil {
			return err
		}
		msg := gorilla.FormatCloseMessage(gorilla.CloseNormalClosure, "")
		c.WriteControl(gorilla.CloseMessage, msg, time.Now().Add(10*time.Second))
		if _, _, err := c.ReadMessage(); !gorilla.IsCloseError(err, gorilla.CloseNormalClosure) {
			return fmt.Errorf("close: %v", err)
		}
		return nil
	})
}
