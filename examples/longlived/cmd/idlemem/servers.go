//go:build linux

package main

import (
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"github.com/gorilla/websocket"
	"github.com/pollnet/pollnet"
	"github.com/pollnet/pollnet/examples/longlived/coderecho"
	"github.com/pollnet/pollnet/examples/longlived/gobwasws"
	"github.com/pollnet/pollnet/examples/longlived/gorillaecho"
	"github.com/pollnet/pollnet/examples/longlived/sse"
)

// A server is one way to serve the idle connections under measurement:
// a WebSocket echo at /ws, or an SSE stream at /events.
type server struct {
	name    string
	sse     bool
	pollnet bool // on a pollnet listener with pollnet.Serve; else std net.Listen + http.Serve
	handler func() (h http.Handler, publish func(string))
}

var servers = []server{
	{"gobwas+OnReadable/pollnet", false, true, func() (http.Handler, func(string)) {
		return gobwasws.Echo(gobwasws.Config{}), nil
	}},
	{"gobwas+goroutine/std", false, false, func() (http.Handler, func(string)) {
		return http.HandlerFunc(gobwasGoroutineEcho), nil
	}},
	{"gobwas-raw+goroutine/std", false, false, nil}, // no net/http: see serveRawGobwas
	{"gorilla/std", false, false, func() (http.Handler, func(string)) {
		return http.HandlerFunc(gorillaGoroutineEcho), nil
	}},
	{"gorilla+OnReadable/pollnet", false, true, func() (http.Handler, func(string)) {
		return gorillaecho.Echo(0), nil
	}},
	{"coder+OnReadable/pollnet", false, true, func() (http.Handler, func(string)) {
		return coderecho.Echo(0), nil
	}},
	{"sse-flusher/std", true, false, func() (http.Handler, func(string)) {
		b := newFlusherBroker()
		return b, b.publish
	}},
	{"sse+OnReadable/pollnet", true, true, func() (http.Handler, func(string)) {
		b := sse.NewBroker(10 * time.Second)
		return b, func(s string) { b.Publish(s) }
	}},
}

func serverNamed(name string) (server, error) {
	for _, s := range servers {
		if s.name == name {
			return s, nil
		}
	}
	return server{}, fmt.Errorf("no server %q", name)
}

// serveRawGobwas is gobwas/ws's own zero-copy way, with no net/http: the
// upgrade reads the request from the connection itself, then a goroutine
// per connection reads it for its whole life.
func serveRawGobwas(ln net.Listener) error {
	for {
		conn, err := ln.Accept()
		if err != nil {
			return err
		}
		go func() {
			defer conn.Close()
			if _, err := ws.Upgrade(conn); err != nil {
				return
			}
			echoLoop(conn)
		}()
	}
}

func (s server) listen(addr string) (net.Listener, func(net.Listener, http.Handler) error, error) {
	if s.pollnet {
		ln, err := pollnet.Listen("tcp", addr)
		return ln, pollnet.Serve, err
	}
	ln, err := net.Listen("tcp", addr)
	return ln, http.Serve, err
}

// gobwasGoroutineEcho is the usual gobwas/ws server: the handler's goroutine
// reads the connection for its whole life.
func gobwasGoroutineEcho(w http.ResponseWriter, r *http.Request) {
	conn, _, _, err := ws.UpgradeHTTP(r, w)
	if err != nil {
		return
	}
	defer conn.Close()
	echoLoop(conn)
}

// echoLoop echoes messages until the connection fails.
func echoLoop(conn net.Conn) {
	for {
		msg, op, err := wsutil.ReadClientData(conn)
		if err != nil {
			return
		}
		if wsutil.WriteServerMessage(conn, op, msg) != nil {
			return
		}
	}
}

var gorillaUpgrader = websocket.Upgrader{}

// gorillaGoroutineEcho is the usual gorilla/websocket server.
func gorillaGoroutineEcho(w http.ResponseWriter, r *http.Request) {
	c, err := gorillaUpgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer c.Close()
	for {
		op, p, err := c.ReadMessage()
		if err != nil || c.WriteMessage(op, p) != nil {
			return
		}
	}
}

// flusherBroker is the usual net/http SSE server: each subscriber's handler
// waits on its own channel and flushes each event.
type flusherBroker struct {
	mu   sync.Mutex
	subs map[chan string]struct{}
}

func newFlusherBroker() *flusherBroker { return &flusherBroker{subs: map[chan string]struct{}{}} }

func (b *flusherBroker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	ch := make(chan string, 16)
	b.mu.Lock()
	b.subs[ch] = struct{}{}
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		delete(b.subs, ch)
		b.mu.Unlock()
	}()
	fmt.Fprint(w, ": subscribed\n\n")
	w.(http.Flusher).Flush()
	for {
		select {
		case ev := <-ch:
			fmt.Fprintf(w, "data: %s\n\n", ev)
			w.(http.Flusher).Flush()
		case <-r.Context().Done():
			return
		}
	}
}

func (b *flusherBroker) publish(ev string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		select {
		case ch <- ev:
		default: // a full subscriber misses it
		}
	}
}
