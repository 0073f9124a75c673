// Package coderecho is a WebSocket echo with github.com/coder/websocket on
// pollnet: between messages a connection waits in pollnet.OnReadable, with
// no goroutine. coder keeps, per connection, its *websocket.Conn (with its
// reader and writer state), the bufio.Reader it reads through (4 KiB) and
// the bufio.Writer of the hijack (4 KiB).
package coderecho

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/coder/websocket"
	"github.com/pollnet/pollnet"
	"github.com/pollnet/pollnet/examples/longlived/internal/ownedreader"
)

// Echo returns a handler that upgrades to a WebSocket and sends every
// message back. A connection that sends nothing for idle is closed (1001);
// 0: never.
func Echo(idle time.Duration) http.Handler {
	opts := &websocket.AcceptOptions{InsecureSkipVerify: true}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ow := &ownedreader.ResponseWriter{ResponseWriter: w}
		var nc net.Conn
		ow.OnHijack = func(c net.Conn) { nc = c }
		c, err := websocket.Accept(ow, r, opts)
		if err != nil {
			return
		}
		c.SetReadLimit(16 << 20)
		s := &session{c: c, nc: nc, br: ow.Reader, idle: idle}
		s.wait()
	})
}

type session struct {
	c        *websocket.Conn
	nc       net.Conn
	br       *bufio.Reader // what the library reads through: ours to ask
	idle     time.Duration
	deadline time.Time
}

func (s *session) wait() {
	if s.idle > 0 {
		s.deadline = time.Now().Add(s.idle)
		s.nc.SetReadDeadline(s.deadline)
	}
	if err := pollnet.OnReadable(s.nc, s.serve); err != nil {
		s.c.CloseNow()
	}
}

// serve echoes messages while bytes are at hand, then waits again. coder
// answers pings and close frames inside Reader, which then goes on waiting
// for a data message: a lone control frame keeps this goroutine until the
// next message or the idle deadline.
func (s *session) serve() {
	ctx := context.Background()
	if s.idle > 0 && !time.Now().Before(s.deadline) && s.br.Buffered() == 0 {
		s.nc.SetReadDeadline(time.Time{})
		s.c.Close(websocket.StatusGoingAway, "idle") // waits for the client's close frame
		return
	}
	for {
		typ, r, err := s.c.Reader(ctx)
		if err != nil {
			s.c.CloseNow()
			return
		}
		w, err := s.c.Writer(ctx, typ)
		if err == nil {
			_, err = io.Copy(w, r)
		}
		if err == nil {
			err = w.Close()
		}
		if err != nil {
			s.c.CloseNow()
			return
		}
		if s.br.Buffered() == 0 {
			break
		}
	}
	s.wait()
}
