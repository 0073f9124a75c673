//go:build linux

package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"

	"github.com/gobwas/ws"
	"github.com/gorilla/websocket"
)

// The WebSocket echo servers on std: gobwas/ws with a goroutine per
// connection, and gorilla/websocket. Every server answers each data message
// with the same message.
func init() {
	registry["ws-gobwas"] = startGobwas
	registry["ws-gorilla"] = startGorilla
}

// maxMessage bounds what an echo server accepts: connbench sends a few bytes.
const maxMessage = 64 << 10

var (
	errClosed   = errors.New("websocket closed by the peer")
	errTooLarge = errors.New("websocket message larger than maxMessage")
)

// echoFrame reads one frame from a client (masked) on conn and answers it: a
// data frame with the same payload, a ping with a pong, a close with a close
// (then it returns errClosed).
func echoFrame(conn io.ReadWriter) error {
	h, err := ws.ReadHeader(conn)
	if err != nil {
		return err
	}
	if h.Length > maxMessage {
		return errTooLarge
	}
	payload := make([]byte, h.Length)
	if _, err := io.ReadFull(conn, payload); err != nil {
		return err
	}
	if h.Masked {
		ws.Cipher(payload, h.Mask, 0)
	}
	switch h.OpCode {
	case ws.OpClose:
		_ = ws.WriteFrame(conn, ws.NewCloseFrame(nil))
		return errClosed
	case ws.OpPing:
		return ws.WriteFrame(conn, ws.NewPongFrame(payload))
	case ws.OpPong:
		return nil
	}
	return ws.WriteFrame(conn, ws.NewFrame(h.OpCode, h.Fin, payload))
}

// upgrade upgrades the request's connection with gobwas/ws. Bytes a client
// sent after its request would be in the hijacked reader, ours to consume
// first: connbench's client sends only after the 101, so a connection with
// any is refused.
func upgrade(w http.ResponseWriter, r *http.Request) (net.Conn, error) {
	conn, rw, _, err := ws.UpgradeHTTP(r, w)
	if err != nil {
		return nil, err
	}
	if n := rw.Reader.Buffered(); n > 0 {
		conn.Close()
		return nil, fmt.Errorf("%d bytes sent before the upgrade's answer", n)
	}
	return conn, nil
}

// connCount counts a server's open WebSocket (or SSE) connections.
type connCount struct{ n atomic.Int64 }

func (c *connCount) stats() map[string]int64 { return map[string]int64{"open": c.n.Load()} }

// startGobwas: http.Serve with gobwas/ws's upgrade; each connection is then
// read by a goroutine of its own (the handler returns).
func startGobwas(o options) (*started, error) {
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return nil, err
	}
	var open connCount
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := upgrade(w, r)
		if err != nil {
			return
		}
		open.n.Add(1)
		go func() {
			defer open.n.Add(-1)
			defer conn.Close()
			for echoFrame(conn) == nil {
			}
		}()
	})
	return &started{addr: ln.Addr(), stats: open.stats, serve: func() error { return http.Serve(ln, h) }}, nil
}

// startGorilla: http.Serve with gorilla/websocket, the read loop in the
// handler, as gorilla's own echo example does.
func startGorilla(o options) (*started, error) {
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return nil, err
	}
	var open connCount
	up := websocket.Upgrader{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		open.n.Add(1)
		defer open.n.Add(-1)
		defer c.Close()
		c.SetReadLimit(maxMessage)
		for {
			mt, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			if err := c.WriteMessage(mt, msg); err != nil {
				return
			}
		}
	})
	return &started{addr: ln.Addr(), stats: open.stats, serve: func() error { return http.Serve(ln, h) }}, nil
}
