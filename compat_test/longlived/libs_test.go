package longlivedcompat

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	coder "github.com/coder/websocket"
	gorilla "github.com/gorilla/websocket"
	"github.com/pollnet/pollnet"
	"github.com/pollnet/pollnet/compat_test/internal/compat"
	"github.com/pollnet/pollnet/examples/longlived/coderecho"
	"github.com/pollnet/pollnet/examples/longlived/gorillaecho"
)

const libClients = 50

// The gorilla echo example with gorilla's own client: idle connections
// hold no goroutine; every echo is checked, large and fragmented messages,
// ping/pong, close handshake.
func TestGorillaEchoManyIdle(t *testing.T) {
	s := serve(t, gorillaecho.Echo(time.Minute))
	base := runtime.NumGoroutine()
	clients := make([]*gorilla.Conn, libClients)
	for i := range clients {
		c, _, err := gorilla.DefaultDialer.Dial(wsURL(s, "/echo"), nil)
		if err != nil {
			t.Fatal(err)
		}
		clients[i] = c
	}
	compat.WaitStats(t, s.Ln, "every WebSocket waiting", func(st pollnet.Stats) bool { return st.Waiting == libClients })
	idleGoroutines(t, base, libClients)
	exchange(t, libClients, func(i int) error { return gorillaSession(clients[i], i) })
}

func gorillaSession(c *gorilla.Conn, id int) error {
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	pongs := make(chan string, 4)
	c.SetPongHandler(func(s string) error { pongs <- s; return nil })
	echo := func(typ int, parts ...[]byte) error {
		w, err := c.NextWriter(typ)
		if err != nil {
			return err
		}
		var want []byte
		for _, p := range parts {
			w.Write(p)
			want = append(want, p...)
		}
		if err := w.Close(); err != nil {
			return err
		}
		gotTyp, got, err := c.ReadMessage()
		if err != nil || gotTyp != typ || !bytes.Equal(got, want) {
			return fmt.Errorf("echo: type %d, %d bytes, %v; sent type %d, %d bytes", gotTyp, len(got), err, typ, len(want))
		}
		return nil
	}
	if err := echo(gorilla.TextMessage, []byte(fmt.Sprint("hello ", id))); err != nil {
		return err
	}
	big := randomBytes(id, largeFor(id))
	// gorilla sends a message larger than its write buffer in several frames.
	if err := echo(gorilla.BinaryMessage, big[:len(big)/2], big[len(big)/2:]); err != nil {
		return err
	}
	ping := fmt.Sprint("ping ", id)
	if err := c.WriteControl(gorilla.PingMessage, []byte(ping), time.Now().Add(10*time.Second)); err != nil {
		return err
	}
	// The pong comes in while the next echo is read.
	if err := echo(gorilla.TextMessage, []byte("after ping")); err != nil {
		return err
	}
	if got := <-pongs; got != ping {
		return fmt.Errorf("pong %q, want %q", got, ping)
	}
	msg := gorilla.FormatCloseMessage(gorilla.CloseNormalClosure, "bye")
	if err := c.WriteControl(gorilla.CloseMessage, msg, time.Now().Add(10*time.Second)); err != nil {
		return err
	}
	_, _, err := c.ReadMessage()
	if !gorilla.IsCloseError(err, gorilla.CloseNormalClosure) {
		return fmt.Errorf("after close: %v, want the server's close frame 1000", err)
	}
	return nil
}

// The coder echo example with coder's own client.
func TestCoderEchoManyIdle(t *testing.T) {
	s := serve(t, coderecho.Echo(time.Minute))
	base := runtime.NumGoroutine()
	clients := make([]*coder.Conn, libClients)
	for i := range clients {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		c, _, err := coder.Dial(ctx, wsURL(s, "/echo"), nil)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		c.SetReadLimit(16 << 20)
		clients[i] = c
	}
	compat.WaitStats(t, s.Ln, "every WebSocket waiting", func(st pollnet.Stats) bool { return st.Waiting == libClients })
	idleGoroutines(t, base, libClients)
	exchange(t, libClients, func(i int) error { return coderSession(clients[i], i) })
}

func coderSession(c *coder.Conn, id int) error {
	defer c.CloseNow()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	echo := func(typ coder.MessageType, parts ...[]byte) error {
		w, err := c.Writer(ctx, typ)
		if err != nil {
			return err
		}
		var want []byte
		for _, p := range parts {
			w.Write(p) // one frame per Write
			want = append(want, p...)
		}
		if err := w.Close(); err != nil {
			return err
		}
		gotTyp, got, err := c.Read(ctx)
		if err != nil || gotTyp != typ || !bytes.Equal(got, want) {
			return fmt.Errorf("echo: type %v, %d bytes, %v; sent type %v, %d bytes", gotTyp, len(got), err, typ, len(want))
		}
		return nil
	}
	if err := echo(coder.MessageText, []byte(fmt.Sprint("hello ", id))); err != nil {
		return err
	}
	big := randomBytes(id, largeFor(id))
	if err := echo(coder.MessageBinary, big[:len(big)/3], big[len(big)/3:len(big)/2], big[len(big)/2:]); err != nil {
		return err
	}
	// Ping needs a reader for the pong: the echoes' Reads are it, until
	// the pong has come.
	pinged := make(chan error, 1)
	go func() { pinged <- c.Ping(ctx) }()
	for {
		if err := echo(coder.MessageText, []byte("while pinging")); err != nil {
			return err
		}
		select {
		case err := <-pinged:
			if err != nil {
				return fmt.Errorf("ping: %w", err)
			}
		default:
			continue
		}
		break
	}
	// Close waits for the server's close frame.
	if err := c.Close(coder.StatusNormalClosure, "bye"); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("close handshake: %w", err)
	}
	return nil
}

func largeFor(id int) int {
	if id%25 == 0 {
		return 4 << 20
	}
	return 16 << 10
}

func randomBytes(seed, n int) []byte {
	rng := rand.New(rand.NewPCG(uint64(seed), 11))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}
