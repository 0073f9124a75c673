//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// clientConn is one idle connection held by the measuring process.
type clientConn struct {
	conn net.Conn
	r    io.Reader // bytes the handshake read past its end, then conn
}

type clientConns []clientConn

const dialers = 64

// perSource is how many connections one source address makes.
const perSource = 5000

// connect opens n connections to addr: WebSockets, or SSE subscriptions.
func connect(srv server, addr string, n int) (clientConns, error) {
	conns := make(clientConns, n)
	var firstErr atomic.Value
	parallel(n, func(i int) bool {
		if firstErr.Load() != nil {
			return false
		}
		c, err := dialOne(srv, addr, i)
		if err != nil {
			firstErr.Store(fmt.Errorf("connection %d: %w", i, err))
			return false
		}
		conns[i] = c
		return true
	})
	if err, _ := firstErr.Load().(error); err != nil {
		conns.close()
		return nil, err
	}
	return conns, nil
}

// parallel runs f(i) for i < n, dialers at a time, and counts the trues.
func parallel(n int, f func(i int) bool) int {
	var ok, next atomic.Int64
	var wg sync.WaitGroup
	for range dialers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if f(i) {
					ok.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return int(ok.Load())
}

func dialOne(srv server, addr string, i int) (clientConn, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i/perSource))}, Timeout: 20 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if !srv.sse {
		wd := ws.Dialer{NetDial: d.DialContext}
		conn, br, _, err := wd.Dial(ctx, "ws://"+addr+"/ws")
		if err != nil {
			return clientConn{}, err
		}
		c := clientConn{conn: conn, r: conn}
		if br != nil {
			c.r = io.MultiReader(bytes.NewReader(drain(br)), conn)
		}
		return c, nil
	}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return clientConn{}, err
	}
	fmt.Fprintf(conn, "GET /events HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n\r\n", addr)
	// Read up to the subscription comment; keep nothing buffered.
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	var seen []byte
	b := make([]byte, 1)
	for !bytes.HasSuffix(seen, []byte(": subscribed\n")) {
		if _, err := conn.Read(b); err != nil {
			conn.Close()
			return clientConn{}, fmt.Errorf("subscribing: %w (read %q)", err, seen)
		}
		seen = append(seen, b[0])
	}
	conn.SetReadDeadline(time.Time{})
	return clientConn{conn: conn, r: conn}, nil
}

func drain(br *bufio.Reader) []byte {
	b, _ := br.Peek(br.Buffered())
	b = bytes.Clone(b)
	ws.PutReader(br)
	return b
}

// each runs f on every connection, dialers at a time, and counts successes.
func (cs clientConns) each(f func(i int, c clientConn) bool) int {
	return parallel(len(cs), func(i int) bool { return f(i, cs[i]) })
}

// checkEcho sends one message on every WebSocket and checks its echo.
func (cs clientConns) checkEcho() int {
	return cs.each(func(i int, c clientConn) bool {
		msg := fmt.Appendf(nil, "message %d", i)
		c.conn.SetDeadline(time.Now().Add(30 * time.Second))
		if wsutil.WriteClientText(c.conn, msg) != nil {
			return false
		}
		got, err := wsutil.ReadServerText(struct {
			io.Reader
			io.Writer
		}{c.r, c.conn})
		return err == nil && bytes.Equal(got, msg)
	})
}

// checkEvent reads one event on every subscription: exactly one "tick".
func (cs clientConns) checkEvent() int {
	return cs.each(func(i int, c clientConn) bool {
		c.conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		var got []byte
		b := make([]byte, 1)
		for !bytes.Contains(got, []byte("data: tick\n\n")) {
			if _, err := c.r.Read(b); err != nil {
				return false
			}
			got = append(got, b[0])
		}
		// Nothing more: one event only.
		c.conn.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		n, _ := c.r.Read(b)
		return n == 0 || b[0] == '\r' || b[0] == '\n'
	})
}

func (cs clientConns) close() {
	for _, c := range cs {
		if c.conn != nil {
			c.conn.Close()
		}
	}
}
