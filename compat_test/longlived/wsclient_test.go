package longlivedcompat

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// wsClient is a gobwas/ws client that reads frame by frame, so that the
// tests see every control frame the server sends.
type wsClient struct {
	conn net.Conn
	r    io.Reader // the dial's leftover bytes, then conn
}

func dialWS(t *testing.T, url string) *wsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, br, _, err := ws.Dial(ctx, url)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	c := &wsClient{conn: conn, r: conn}
	if br != nil {
		c.r = io.MultiReader(br, conn)
		ws.PutReader(br)
	}
	return c
}

// write sends one masked frame.
func (c *wsClient) write(op ws.OpCode, fin bool, p []byte) error {
	return ws.WriteFrame(c.conn, ws.MaskFrameInPlace(ws.NewFrame(op, fin, bytes.Clone(p))))
}

// frame reads the next frame whole (a control frame: the tests use it for
// those), with a bounded wait.
func (c *wsClient) frame() (ws.Frame, error) {
	c.conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	h, err := ws.ReadHeader(c.r)
	if err != nil {
		return ws.Frame{}, err
	}
	if h.Length > 125 {
		return ws.Frame{}, fmt.Errorf("a %v frame of %d bytes where a control frame was expected", h.OpCode, h.Length)
	}
	p := make([]byte, h.Length)
	_, err = io.ReadFull(c.r, p)
	return ws.Frame{Header: h, Payload: p}, err
}

// message reads the next data message (fragments joined), and returns the
// payloads of the pongs that came before or between its frames.
func (c *wsClient) message() (op ws.OpCode, p []byte, pongs []string, err error) {
	c.conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	rd := wsutil.Reader{Source: c.r, State: ws.StateClientSide}
	rd.OnIntermediate = func(h ws.Header, r io.Reader) error {
		b, err := io.ReadAll(r)
		if h.OpCode == ws.OpPong {
			pongs = append(pongs, string(b))
		}
		return err
	}
	for {
		h, err := rd.NextFrame()
		if err != nil {
			return 0, nil, pongs, err
		}
		if h.OpCode.IsControl() {
			if err := rd.OnIntermediate(h, &rd); err != nil {
				return 0, nil, pongs, err
			}
			if h.OpCode == ws.OpClose {
				return ws.OpClose, nil, pongs, nil
			}
			continue
		}
		p, err := io.ReadAll(&rd)
		return h.OpCode, p, pongs, err
	}
}

// echoSession runs the exchange every echo test makes on one idle
// connection, checking every echo byte for byte: text, a large binary
// message, a fragmented one with a ping between fragments, a lone ping, and
// the client's close handshake.
func (c *wsClient) echoSession(id, large int) error {
	rng := rand.New(rand.NewPCG(uint64(id), 7))
	text := []byte(fmt.Sprintf("hello from %d: %s", id, strings.Repeat("é", id%50)))
	if err := c.roundTrip(ws.OpText, [][]byte{text}, ""); err != nil {
		return fmt.Errorf("text: %w", err)
	}
	big := make([]byte, large)
	for i := 0; i < large; i += 8 {
		binary.LittleEndian.PutUint64(big[i:], rng.Uint64())
	}
	if err := c.roundTrip(ws.OpBinary, [][]byte{big}, ""); err != nil {
		return fmt.Errorf("binary %d B: %w", large, err)
	}
	parts := [][]byte{big[:large/3], big[large/3 : large/2], big[large/2:]}
	if err := c.roundTrip(ws.OpBinary, parts, fmt.Sprint("mid-", id)); err != nil {
		return fmt.Errorf("fragmented: %w", err)
	}
	ping := fmt.Sprint("ping-", id)
	if err := c.write(ws.OpPing, true, []byte(ping)); err != nil {
		return err
	}
	f, err := c.frame()
	if err != nil || f.Header.OpCode != ws.OpPong || string(f.Payload) != ping {
		return fmt.Errorf("ping: got %v %q, %v", f.Header.OpCode, f.Payload, err)
	}
	return c.closeHandshake()
}

// roundTrip sends a message in the given fragments, with a ping between
// the first two when ping is set, and checks the echo (and the pong).
func (c *wsClient) roundTrip(op ws.OpCode, parts [][]byte, ping string) error {
	var want []byte
	for i, p := range parts {
		fop := op
		if i > 0 {
			fop = ws.OpContinuation
		}
		if err := c.write(fop, i == len(parts)-1, p); err != nil {
			return err
		}
		if i == 0 && ping != "" {
			if err := c.write(ws.OpPing, true, []byte(ping)); err != nil {
				return err
			}
		}
		want = append(want, p...)
	}
	gotOp, got, pongs, err := c.message()
	if err != nil {
		return err
	}
	if gotOp != op || !bytes.Equal(got, want) {
		return fmt.Errorf("echo: op %v, %d bytes (equal: %v); sent op %v, %d bytes", gotOp, len(got), bytes.Equal(got, want), op, len(want))
	}
	if ping != "" && (len(pongs) != 1 || pongs[0] != ping) {
		return fmt.Errorf("pongs %q, want [%q]", pongs, ping)
	}
	return nil
}

// closeHandshake closes from the client's side: the server must answer
// with the same code and then close the TCP connection.
func (c *wsClient) closeHandshake() error {
	if err := c.write(ws.OpClose, true, ws.NewCloseFrameBody(ws.StatusNormalClosure, "bye")); err != nil {
		return err
	}
	f, err := c.frame()
	if err != nil || f.Header.OpCode != ws.OpClose {
		return fmt.Errorf("close answer: %v %v", f.Header.OpCode, err)
	}
	if code, _ := ws.ParseCloseFrameData(f.Payload); code != ws.StatusNormalClosure {
		return fmt.Errorf("close answer code %d", code)
	}
	return c.expectEOF()
}

// expectEOF checks that the server closed the TCP connection.
func (c *wsClient) expectEOF() error {
	c.conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	if n, err := c.r.Read(make([]byte, 1)); err != io.EOF {
		return fmt.Errorf("after close: read %d, %v; want EOF", n, err)
	}
	c.conn.Close()
	return nil
}

// dialWithEarlyFrame sends the upgrade request and a text frame in one
// write, before the server has answered, and reads the 101.
func dialWithEarlyFrame(t *testing.T, addr, path, text string) *wsClient {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	frame := ws.MustCompileFrame(ws.MaskFrameInPlace(ws.NewTextFrame([]byte(text))))
	req := "GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := conn.Write(append([]byte(req), frame...)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	return &wsClient{conn: conn, r: br}
}
