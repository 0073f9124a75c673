// Package gorillaecho is a WebSocket echo with github.com/gorilla/websocket on
// pollnet: between messages a connection waits in pollnet.OnReadable, with
// no goroutine. gorilla keeps, per connection, its *websocket.Conn and the
// bufio.Reader it reads through (4 KiB); its write buffer comes from a pool
// only while a message is written (Upgrader.WriteBufferPool).
package gorillaecho

import (
	"bufio"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pollnet/pollnet"
	"github.com/pollnet/pollnet/examples/longlived/internal/ownedreader"
)

// Echo returns a handler that upgrades to a WebSocket and sends every
// message back. A connection that sends nothing for idle is closed (1001);
// 0: never.
func Echo(idle time.Duration) http.Handler {
	up := websocket.Upgrader{
		WriteBufferPool: &sync.Pool{},
		CheckOrigin:     func(*http.Request) bool { return true },
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ow := &ownedreader.ResponseWriter{ResponseWriter: w}
		c, err := up.Upgrade(ow, r, nil)
		if err != nil {
			return
		}
		s := &session{c: c, br: ow.Reader, idle: idle}
		s.wait()
	})
}

type session struct {
	c        *websocket.Conn
	br       *bufio.Reader // what the library reads through: ours to ask
	idle     time.Duration
	deadline time.Time
}

func (s *session) wait() {
	if s.idle > 0 {
		s.deadline = time.Now().Add(s.idle)
		s.c.NetConn().SetReadDeadline(s.deadline)
	}
	if err := pollnet.OnReadable(s.c.NetConn(), s.serve); err != nil {
		s.c.Close()
	}
}

// serve echoes messages while bytes are at hand, then waits again. gorilla
// answers pings and close frames inside ReadMessage, which then goes on
// waiting for a data message: a lone control frame keeps this goroutine
// until the next message or the idle deadline.
func (s *session) serve() {
	if s.idle > 0 && !time.Now().Before(s.deadline) && s.br.Buffered() == 0 {
		// Idle: a read deadline that passes is fatal to a gorilla Conn, so
		// the check is ours and the deadline is cleared for the goodbye.
		s.c.NetConn().SetReadDeadline(time.Time{})
		msg := websocket.FormatCloseMessage(websocket.CloseGoingAway, "idle")
		s.c.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
		s.c.Close()
		return
	}
	for {
		op, p, err := s.c.ReadMessage()
		if err != nil {
			s.c.Close()
			return
		}
		if err := s.c.WriteMessage(op, p); err != nil {
			s.c.Close()
			return
		}
		if s.br.Buffered() == 0 {
			break
		}
	}
	s.wait()
}
