package websocketcompat

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	coder "github.com/coder/websocket"
	"github.com/pollnet/pollnet"
	"github.com/pollnet/pollnet/compat_test/internal/compat"
)

func TestCoder(t *testing.T) {
	runSuite(t, "/coder", sessionTests{
		upgradeAfterHibernation: coderUpgradeOnUsedConn,
		echoWithIdlePauses:      coderIdleEcho,
		largeAndFragmented:      coderLarge,
		serverInitiatedClose:    coderServerClose,
		concurrentSessions:      coderConcurrent,
	})
}

// newHTTPClient returns a client with its own transport holding at most one
// connection, so a later request reuses the idle one.
func newHTTPClient(t *testing.T) *http.Client {
	tr := &http.Transport{MaxConnsPerHost: 1}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

func coderDial(t *testing.T, wsURL string, hc *http.Client) *coder.Conn {
	t.Helper()
	if hc == nil {
		hc = newHTTPClient(t)
	}
	c, resp, err := coder.Dial(testCtx(t), wsURL, &coder.DialOptions{HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake status %d", resp.StatusCode)
	}
	c.SetReadLimit(maxMessage)
	return c
}

func coderEcho(ctx context.Context, c *coder.Conn, typ coder.MessageType, msg []byte) error {
	if err := c.Write(ctx, typ, msg); err != nil {
		return err
	}
	gotTyp, got, err := c.Read(ctx)
	if err != nil {
		return err
	}
	if gotTyp != typ || !bytes.Equal(got, msg) {
		return fmt.Errorf("echo of %d bytes: got type %v, %d bytes, differing", len(msg), gotTyp, len(got))
	}
	return nil
}

// coderClose runs the close handshake from the client (Close waits for the
// server's close frame) and checks the server saw code 1000.
func coderClose(t *testing.T, es *echoServer, c *coder.Conn) {
	t.Helper()
	if err := c.Close(coder.StatusNormalClosure, "bye"); err != nil {
		t.Fatalf("close handshake: %v", err)
	}
	es.wantClose(t, int(coder.StatusNormalClosure))
}

// coderUpgradeOnUsedConn: a plain GET, an idle pause (the connection
// hibernates when hibernation is on), then coder.Dial over that same TCP
// connection (its HTTP client's dialer hands it out: http.Transport does not
// reuse an idle connection for an upgrade itself).
func coderUpgradeOnUsedConn(t *testing.T, es *echoServer, wsURL string) {
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
	handedOut := false
	tr := &http.Transport{DialContext: func(context.Context, string, string) (net.Conn, error) {
		if handedOut {
			return nil, errors.New("the test hands out one connection only")
		}
		handedOut = true
		return nc, nil
	}}
	defer tr.CloseIdleConnections()
	c := coderDial(t, wsURL, &http.Client{Transport: tr})
	for i := range 5 {
		if err := coderEcho(testCtx(t), c, coder.MessageText, fmt.Appendf(nil, "message %d on a reused connection", i)); err != nil {
			t.Fatal(err)
		}
	}
	if got := es.Stats().Accepted - before.Accepted; got != 1 {
		t.Fatalf("%d connections accepted, want 1 (the same TCP connection throughout)", got)
	}
	coderClose(t, es, c)
}

// coderIdleEcho: echoes and a ping across idle pauses; no park.
func coderIdleEcho(t *testing.T, es *echoServer, wsURL string) {
	before := es.Stats()
	c := coderDial(t, wsURL, nil)
	for i := range 4 {
		if err := coderEcho(testCtx(t), c, coder.MessageText, fmt.Appendf(nil, "text %d", i)); err != nil {
			t.Fatal(err)
		}
		if err := coderEcho(testCtx(t), c, coder.MessageBinary, message(1000+i, byte(i))); err != nil {
			t.Fatal(err)
		}
		time.Sleep(compat.IdlePause)
	}
	// coder/websocket handles a pong inside a pending Read: keep one
	// pending while pinging, then let our message complete it.
	type readResult struct {
		msg []byte
		err error
	}
	read := make(chan readResult, 1)
	go func() { _, msg, err := c.Read(testCtx(t)); read <- readResult{msg, err} }()
	if err := c.Ping(testCtx(t)); err != nil {
		t.Fatalf("ping: %v", err)
	}
	if err := c.Write(testCtx(t), coder.MessageText, []byte("after ping")); err != nil {
		t.Fatal(err)
	}
	if r := <-read; r.err != nil || string(r.msg) != "after ping" {
		t.Fatalf("echo after ping: %q %v", r.msg, r.err)
	}
	if s := es.Stats(); s.Parks != before.Parks {
		t.Fatalf("a WebSocket session parked: before %+v, after %+v", before, s)
	}
	coderClose(t, es, c)
}

// coderLarge: a 4 MiB message in one frame, then a 1 MiB one written in 4000-byte
// chunks (coder/websocket writes each Write as a frame).
func coderLarge(t *testing.T, es *echoServer, wsURL string) {
	c := coderDial(t, wsURL, nil)
	big := message(4<<20, 3)
	if err := coderEcho(testCtx(t), c, coder.MessageBinary, big); err != nil {
		t.Fatal(err)
	}
	w, err := c.Writer(testCtx(t), coder.MessageBinary)
	if err != nil {
		t.Fatal(err)
	}
	frag := message(1<<20, 5)
	for off := 0; off < len(frag); off += 4000 {
		if _, err := w.Write(frag[off:min(off+4000, len(frag))]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	_, got, err := c.Read(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, frag) {
		t.Fatalf("fragmented echo: %d bytes back, differing", len(got))
	}
	coderClose(t, es, c)
}

// coderServerClose: the server closes with its own code and reason.
func coderServerClose(t *testing.T, es *echoServer, wsURL string) {
	c := coderDial(t, wsURL+"?"+closeAfterParam+"=1", nil)
	if err := coderEcho(testCtx(t), c, coder.MessageText, []byte("only one")); err != nil {
		t.Fatal(err)
	}
	_, _, err := c.Read(testCtx(t))
	if coder.CloseStatus(err) != serverCloseCode {
		t.Fatalf("got %v, want close %d", err, serverCloseCode)
	}
	es.wantClose(t, serverCloseCode) // the server's Close saw our answer
	c.CloseNow()
}

// coderConcurrent: 20 sessions at once, each with an idle pause.
func coderConcurrent(t *testing.T, es *echoServer, wsURL string) {
	hc := &http.Client{Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	runConcurrently(t, es, 20, int(coder.StatusNormalClosure), func(i int) error {
		ctx := testCtx(t)
		c, _, err := coder.Dial(ctx, wsURL, &coder.DialOptions{HTTPClient: hc})
		if err != nil {
			return err
		}
		defer c.CloseNow()
		if err := pausedEchoes(i, func(msg []byte) error { return coderEcho(ctx, c, coder.MessageBinary, msg) }); err != nil {
			return err
		}
		if err := c.Close(coder.StatusNormalClosure, ""); err != nil {
			return fmt.Errorf("close: %v", err)
		}
		return nil
	})
}
