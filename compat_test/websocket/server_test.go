package websocketcompat

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	coder "github.com/coder/websocket"
	gorilla "github.com/gorilla/websocket"
	"github.com/pollnet/pollnet/compat_test/internal/compat"
)

// maxMessage bounds a message both ends accept: above the 4 MiB the suites send.
const maxMessage = 8 << 20

// closeAfterParam: /ws?close_after=N makes the server echo N messages, then
// close the session itself with code serverCloseCode.
const (
	closeAfterParam = "close_after"
	serverCloseCode = 4000
	serverCloseText = "server says bye"
)

// echoServer serves /hello (plain HTTP), /gorilla and /coder (echo
// endpoints). Each session's final close code goes to closes.
type echoServer struct {
	*compat.HTTPServer
	closes chan int
}

func startEchoServer(t *testing.T, m compat.Mode) *echoServer {
	es := &echoServer{closes: make(chan int, 64)}
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") })
	mux.HandleFunc("/gorilla", es.gorillaEcho)
	mux.HandleFunc("/coder", es.coderEcho)
	es.HTTPServer = compat.ServeHTTP(t, m, mux, nil, nil)
	return es
}

func closeAfter(r *http.Request) int {
	n, err := strconv.Atoi(r.URL.Query().Get(closeAfterParam))
	if err != nil {
		return -1
	}
	return n
}

// gorillaEcho echoes each message as a stream (NextReader to NextWriter), so
// a fragmented message is relayed while it arrives.
func (es *echoServer) gorillaEcho(w http.ResponseWriter, r *http.Request) {
	up := gorilla.Upgrader{}
	c, err := up.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade already answered with an error status
	}
	defer c.Close()
	c.SetReadLimit(maxMessage)
	limit := closeAfter(r)
	for n := 0; ; n++ {
		if n == limit {
			msg := gorilla.FormatCloseMessage(serverCloseCode, serverCloseText)
			c.WriteControl(gorilla.CloseMessage, msg, time.Now().Add(10*time.Second))
			// Wait for the client's close frame: the handshake completes.
			_, _, err := c.NextReader()
			es.closes <- closeCode(err)
			return
		}
		typ, rd, err := c.NextReader()
		if err != nil {
			es.closes <- closeCode(err)
			return
		}
		wr, err := c.NextWriter(typ)
		if err == nil {
			err = copyMessage(wr, rd)
		}
		if err != nil {
			es.closes <- -1
			return
		}
	}
}

// copyMessage writes the message rd reads into wr, the writer of the echo,
// and closes wr to end the message.
func copyMessage(wr io.WriteCloser, rd io.Reader) error {
	if _, err := io.Copy(wr, rd); err != nil {
		return err
	}
	return wr.Close()
}

func closeCode(err error) int {
	var ce *gorilla.CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return -1
}

// coderEcho echoes each message with coder/websocket's streaming Reader and
// Writer.
func (es *echoServer) coderEcho(w http.ResponseWriter, r *http.Request) {
	c, err := coder.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
	c.SetReadLimit(maxMessage)
	ctx := context.Background()
	limit := closeAfter(r)
	for n := 0; ; n++ {
		if n == limit {
			// Close sends the close frame and waits for the client's.
			err := c.Close(serverCloseCode, serverCloseText)
			if err != nil {
				es.closes <- -1
			} else {
				es.closes <- serverCloseCode
			}
			return
		}
		typ, rd, err := c.Reader(ctx)
		if err != nil {
			es.closes <- int(coder.CloseStatus(err))
			return
		}
		wr, err := c.Writer(ctx, typ)
		if err == nil {
			err = copyMessage(wr, rd)
		}
		if err != nil {
			es.closes <- -1
			return
		}
	}
}

// wantClose waits for the server's report of a session's close code.
func (es *echoServer) wantClose(t *testing.T, code int) {
	t.Helper()
	select {
	case got := <-es.closes:
		if got != code {
			t.Fatalf("server saw close code %d, want %d", got, code)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the server never saw the session end")
	}
}

// message returns n bytes depending on seed (a misplaced chunk shows).
func message(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*31+i>>12) ^ seed
	}
	return b
}

// testCtx bounds a test's WebSocket calls, so a lost frame fails the test
// instead of hanging it.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}
