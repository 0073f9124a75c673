//go:build linux

package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/pollnet/pollnet"
)

// pollnet's SSE: the handler hijacks the connection and writes the response
// headers; OnReadable only tells of a disconnect; one broadcaster goroutine
// writes every event to every subscriber, each write bounded by a deadline so
// that a subscriber that stops reading cannot stall the others.
func init() {
	registry["sse-pollnet"] = startSSEPollnet
}

const sseHeader = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n" +
	"Transfer-Encoding: chunked\r\n\r\n"

// sseWriteTimeout bounds one event's write to one subscriber.
const sseWriteTimeout = time.Second

// sseConns is the set of subscribed connections.
type sseConns struct {
	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

func (s *sseConns) add(c net.Conn) {
	s.mu.Lock()
	s.conns[c] = struct{}{}
	s.mu.Unlock()
}

// drop unsubscribes and closes c (once).
func (s *sseConns) drop(c net.Conn) {
	s.mu.Lock()
	_, ok := s.conns[c]
	delete(s.conns, c)
	s.mu.Unlock()
	if ok {
		c.Close()
	}
}

func (s *sseConns) snapshot() []net.Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]net.Conn, 0, len(s.conns))
	for c := range s.conns {
		out = append(out, c)
	}
	return out
}

// watch waits for the subscriber to go away; anything it sends is discarded.
func (s *sseConns) watch(c net.Conn) {
	err := pollnet.OnReadable(c, func() {
		var b [512]byte
		if _, err := c.Read(b[:]); err != nil {
			s.drop(c)
			return
		}
		s.watch(c)
	})
	if err != nil {
		s.drop(c)
	}
}

// broadcast writes the event to every subscriber from this goroutine.
func (s *sseConns) broadcast(line string) string {
	id, err := parseBroadcast(line)
	if err != nil {
		return "ERROR " + err.Error()
	}
	start := time.Now()
	ev := sseEvent(id)
	msg := append(fmt.Appendf(nil, "%x\r\n", len(ev)), append(ev, '\r', '\n')...)
	sent, failed := 0, 0
	for _, c := range s.snapshot() {
		_ = c.SetWriteDeadline(time.Now().Add(sseWriteTimeout))
		if _, err := c.Write(msg); err != nil {
			failed++
			s.drop(c)
			continue
		}
		sent++
	}
	return fmt.Sprintf("sent=%d failed=%d seconds=%.6f", sent, failed, time.Since(start).Seconds())
}

func startSSEPollnet(o options) (*started, error) {
	l, err := listenPollnet(o)
	if err != nil {
		return nil, err
	}
	subs := &sseConns{conns: map[net.Conn]struct{}{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /events", func(w http.ResponseWriter, r *http.Request) {
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		if rw.Reader.Buffered() > 0 { // a subscriber sends nothing after its request
			conn.Close()
			return
		}
		if _, err := io.WriteString(conn, sseHeader); err != nil {
			conn.Close()
			return
		}
		subs.add(conn)
		subs.watch(conn)
	})
	stats := func() map[string]int64 {
		m := pollnetStats(l)()
		subs.mu.Lock()
		m["subscribers"] = int64(len(subs.conns))
		subs.mu.Unlock()
		return m
	}
	return &started{addr: l.Addr(), stats: stats, commands: subs.broadcast,
		serve: func() error { return pollnet.Serve(l, mux) }}, nil
}
