// Package longpoll is a long-poll endpoint on pollnet: a request waits,
// with no goroutine, until an event is published or its timeout passes;
// then it is answered and its connection goes back to the server with
// pollnet.Unhijack, so the client's next request is served on the same TCP
// connection, as on any keep-alive connection.
//
// A waiting request's connection is hijacked and waits in
// pollnet.OnReadable with its read deadline at the poll's timeout: the
// callback runs at the timeout, or when the client closes, resets, or sends
// its next request early (pipelining). Those early bytes are kept and given
// back with the connection.
package longpoll

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/pollnet/pollnet"
)

// maxEarly bounds what a client may send while its poll waits.
const maxEarly = 64 << 10

// Server answers polls. Its zero value is not usable: see New.
type Server struct {
	timeout time.Duration

	mu      sync.Mutex
	waiting map[*poll]struct{}
}

// New returns a server whose polls wait at most timeout.
func New(timeout time.Duration) *Server {
	return &Server{timeout: timeout, waiting: map[*poll]struct{}{}}
}

// poll is one waiting request. mu serialises its end: the event, the
// timeout or the client going away, whichever comes first.
type poll struct {
	mu    sync.Mutex
	conn  net.Conn
	early []byte // read past the request: the client's next request(s)
	done  bool
}

// ServeHTTP makes the request wait for the next event.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	p := &poll{conn: c}
	if n := rw.Reader.Buffered(); n > 0 {
		b, _ := rw.Reader.Peek(n)
		p.early = bytes.Clone(b)
	}
	c.SetReadDeadline(time.Now().Add(s.timeout))
	s.mu.Lock()
	s.waiting[p] = struct{}{}
	s.mu.Unlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := pollnet.OnReadable(c, func() { s.readable(p) }); err != nil {
		s.endLocked(p, 0, "")
	}
}

// Publish answers every waiting poll with msg (status 200).
func (s *Server) Publish(msg string) {
	s.mu.Lock()
	polls := s.waiting
	s.waiting = map[*poll]struct{}{}
	s.mu.Unlock()
	for p := range polls {
		p.mu.Lock()
		s.endLocked(p, http.StatusOK, msg)
		p.mu.Unlock()
	}
}

// Waiting returns how many polls wait.
func (s *Server) Waiting() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.waiting)
}

// readable runs at the poll's timeout, or when the client sent something or
// went away. Every Read here returns at once: the socket is readable or its
// deadline has passed.
func (s *Server) readable(p *poll) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return
	}
	var buf [4096]byte
	n, err := p.conn.Read(buf[:])
	p.early = append(p.early, buf[:n]...)
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		s.endLocked(p, http.StatusNoContent, "")
	case err != nil || len(p.early) > maxEarly:
		s.endLocked(p, 0, "") // the client went away, or floods us
	default:
		if pollnet.OnReadable(p.conn, func() { s.readable(p) }) != nil {
			s.endLocked(p, 0, "")
		}
	}
}

// endLocked answers p with status and body and gives its connection back to
// the server, or closes it (status 0, or when it cannot be given back).
func (s *Server) endLocked(p *poll, status int, body string) {
	if p.done {
		return
	}
	p.done = true
	s.mu.Lock()
	delete(s.waiting, p)
	s.mu.Unlock()
	if status == 0 {
		p.conn.Close()
		return
	}
	p.conn.SetReadDeadline(time.Time{})
	p.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	resp := fmt.Sprintf("HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"+
		"Cache-Control: no-store\r\nContent-Length: %d\r\n\r\n%s",
		status, http.StatusText(status), len(body), body)
	if _, err := p.conn.Write([]byte(resp)); err != nil {
		p.conn.Close()
		return
	}
	p.conn.SetWriteDeadline(time.Time{})
	if err := pollnet.Unhijack(p.conn, p.early); err != nil {
		p.conn.Close() // not a pollnet connection, or its listener closed
	}
}
