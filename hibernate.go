//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// The hibernation rule (DESIGN.md section 2).
//
// A Read may return the parking io.EOF only when all of these hold:
//  1. net/http's ConnState hook reported StateIdle for exactly this *Conn
//     (never a *tls.Conn wrapping it);
//  2. since then the only call was one SetReadDeadline (server.go sets the
//     idle deadline), and this is the first Read;
//  3. isIdleRead(p), len(p) == 4096: net/http's bufio.Reader is empty, so no
//     pipelined byte and no background-read byte is buffered above us;
//  4. the connection's first bytes looked like an HTTP/1 request line
//     (excludes TLS, h2c prior knowledge and other protocols);
//  5. no byte arrived during the grace period, the idle deadline is later than
//     the grace period's end, the listener is open, and its accept loop keeps
//     up with the connections already woken (parkingLot.overloaded).
//
// After that EOF the socket parks only if Close is the very next call. Any
// other call in between cancels the park, and every later call on the Conn
// goes on normally. If a Go release changes net/http's idle call sequence,
// guards 2 and 3 stop matching, and parking stops: no byte is ever lost.
//
// The phases, each written under idleState.mu:
//
//	off          -> waitDeadline   hook: StateIdle (guards 1 and 4)
//	waitDeadline -> waitRead       SetReadDeadline (guard 2)
//	waitRead     -> grace          Read with isIdleRead(p) (guard 3)
//	grace        -> parkPending    grace passed with no data (guard 5)
//	parkPending  -> off            Close: the socket parks
//	any          -> off            any other call, or hook StateActive/Hijacked/Closed
const (
	phaseOff int32 = iota
	phaseWaitDeadline
	phaseWaitRead
	phaseGrace
	phaseParkPending
)

// idleReadSize is the size of net/http's bufio.Reader (server.go: newBufioReader).
const idleReadSize = 4096

// isIdleRead is guard 3: the Read net/http makes at idle, from an empty
// buffer (Go 1.26: bufio.Reader.Peek(4) filling all of its 4096 bytes). A
// partly filled buffer reads less, so pipelined bytes above us never park.
// When net/http's idle read changes (Go 1.28 is expected to stop pinning the
// buffer at idle, golang/go#80735), this predicate and the call-sequence
// test are what to update; until then the new sequence simply never parks.
func isIdleRead(p []byte) bool { return len(p) == idleReadSize }

// What the first bytes of a connection looked like (guard 4).
const (
	protoUnknown int32 = iota // not decided yet
	protoHTTP1                // an HTTP/1 request line: may hibernate
	protoOther                // anything else, or hibernation disabled: never parks
)

// idleState is a Conn's part of the rule. Its zero value is undecided; Conns
// that can never park start with proto = protoOther.
type idleState struct {
	phase atomic.Int32 // read without mu on the hot path; written under mu
	proto atomic.Int32 // written under mu

	mu           sync.Mutex
	readDeadline time.Time // the caller's read deadline, tracked while phase != off
	head         [8]byte   // first bytes seen, until proto is decided
	headLen      int
}

func (s *idleState) setPhase(p int32) { s.phase.Store(p) }

// interrupt cancels any hibernation in progress: the caller made a call that
// the rule does not allow at idle.
func (s *idleState) interrupt() {
	if s.phase.Load() != phaseOff {
		s.mu.Lock()
		s.setPhase(phaseOff)
		s.mu.Unlock()
	}
}

// woke resets the rule of a kept Conn handed out again: it spoke HTTP/1.
func (s *idleState) woke() {
	s.mu.Lock()
	s.setPhase(phaseOff)
	s.mu.Unlock()
}

// rehire makes an unhijacked Conn's next bytes decide again whether it may
// hibernate.
func (s *idleState) rehire(hibernates bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setPhase(phaseOff)
	s.headLen = 0
	if hibernates {
		s.proto.Store(protoUnknown)
	}
}

// disable makes the Conn never park again (hijacked, raw access, dup'ed fd).
func (s *idleState) disable() {
	s.mu.Lock()
	s.setPhase(phaseOff)
	s.proto.Store(protoOther)
	s.mu.Unlock()
}

// enterIdle arms the rule when net/http reports StateIdle (guards 1 and 4).
func (s *idleState) enterIdle() {
	s.mu.Lock()
	if s.proto.Load() == protoHTTP1 {
		s.setPhase(phaseWaitDeadline)
	}
	s.mu.Unlock()
}

// noteReadDeadline records a SetReadDeadline made while phase != off. Called
// with mu held.
func (s *idleState) noteReadDeadline(t time.Time) {
	s.readDeadline = t
	if s.phase.Load() == phaseWaitDeadline {
		s.setPhase(phaseWaitRead)
	} else {
		s.setPhase(phaseOff)
	}
}

// takeParkPending reports whether the Conn is closing right after the
// parking EOF, with the idle deadline to enforce while parked, and ends the
// rule either way.
func (s *idleState) takeParkPending() (park bool, deadline time.Time) {
	if s.phase.Load() == phaseOff {
		return false, time.Time{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	park = s.phase.Load() == phaseParkPending
	s.setPhase(phaseOff)
	return park, s.readDeadline
}

// sniff looks at a connection's first bytes until it can tell whether they
// start an HTTP/1 request line: 1 to 7 upper-case letters and a space, and
// not "PRI " (the HTTP/2 preface).
func (s *idleState) sniff(b []byte) {
	if len(b) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proto.Load() != protoUnknown {
		return
	}
	n := copy(s.head[s.headLen:], b)
	s.headLen += n
	s.proto.Store(classifyRequestLine(s.head[:s.headLen]))
}

// classifyRequestLine returns protoHTTP1, protoOther, or protoUnknown when
// head is a prefix that could still go either way.
func classifyRequestLine(head []byte) int32 {
	for i, c := range head {
		switch {
		case c == ' ' && i > 0:
			if string(head[:i]) == "PRI" {
				return protoOther
			}
			return protoHTTP1
		case c < 'A' || c > 'Z' || i == 7:
			return protoOther
		}
	}
	return protoUnknown
}

// idleRead runs a Read made while the rule is armed. done is false when the
// caller should do a plain read instead.
func (c *Conn) idleRead(p []byte) (n int, done bool, err error) {
	s := &c.idle
	s.mu.Lock()
	graceEnd, ok := s.beginGrace(c.hub, p)
	if !ok {
		s.mu.Unlock()
		return 0, false, nil
	}
	if !c.sock.get() { // closed: read as usual, and fail
		s.setPhase(phaseOff)
		s.mu.Unlock()
		return 0, false, nil
	}
	f := c.sock.file.Load()
	if f == nil { // detached (an unhijacked Conn): the grace is a wait
		f = c.attach()
	}
	if f == nil {
		c.put()
		s.setPhase(phaseOff)
		s.mu.Unlock()
		return 0, false, nil
	}
	f.SetReadDeadline(graceEnd)
	s.mu.Unlock()

	n, err = f.Read(p)

	s.mu.Lock()
	defer s.mu.Unlock()
	// Whatever happened, the file's deadline goes back to the caller's: a
	// call that interrupted the grace period recorded its own in readDeadline.
	f.SetReadDeadline(s.readDeadline)
	c.put()
	park, retry := s.endGrace(c.hub, n, err)
	switch {
	case park:
		return 0, true, io.EOF
	case retry:
		return 0, false, nil
	}
	return n, true, c.opError("read", err)
}

// beginGrace checks guards 3 and 5 for an idle Read of p, except the
// socket's emptiness, which the grace period tests: when they hold, the
// phase becomes grace, which ends at graceEnd. Called with mu held.
func (s *idleState) beginGrace(h *hub, p []byte) (graceEnd time.Time, ok bool) {
	graceEnd = time.Now().Add(h.grace)
	if s.phase.Load() != phaseWaitRead || !isIdleRead(p) || h.closed.Load() || h.overloaded() ||
		(!s.readDeadline.IsZero() && s.readDeadline.Before(graceEnd)) {
		s.setPhase(phaseOff)
		return graceEnd, false
	}
	s.setPhase(phaseGrace)
	return graceEnd, true
}

// endGrace judges the grace period's read, which returned n and err: park
// says to return the parking io.EOF; retry says that the grace's own
// deadline ended the read, not the caller's, so the caller reads again.
// Called with mu held.
func (s *idleState) endGrace(h *hub, n int, err error) (park, retry bool) {
	if s.phase.Load() == phaseGrace {
		if n == 0 && isTimeout(err) && !h.closed.Load() {
			s.setPhase(phaseParkPending)
			return true, false
		}
		s.setPhase(phaseOff)
	}
	retry = n == 0 && isTimeout(err) && (s.readDeadline.IsZero() || time.Now().Before(s.readDeadline))
	return false, retry
}

// park hands the socket of a Conn that net/http closed at idle to the
// listener's hub: its own fd leaves the runtime poller (socket.go), a
// duplicate waits on the hub's poller until the next request, the idle
// deadline or the peer's close.
func (c *Conn) park(deadline time.Time) error {
	d := unixNano(deadline)
	if c.srv != nil && c.srv.keep {
		return c.hub.parkKept(c, d)
	}
	return c.hub.park(c, d)
}

// unixNano is a deadline in unix nanoseconds; 0 for none.
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// connStateHook is pollnet's http.Server.ConnState hook.
func connStateHook(nc net.Conn, state http.ConnState) {
	c, ok := nc.(*Conn)
	if !ok {
		return // TLS or another wrapper: never parks
	}
	c.idle.onState(state)
}

// onState moves the rule on what net/http's ConnState hook reports for the
// connection it belongs to.
func (s *idleState) onState(state http.ConnState) {
	switch state {
	case http.StateIdle:
		s.enterIdle()
	case http.StateHijacked:
		s.disable()
	case http.StateActive, http.StateClosed:
		s.interrupt()
	}
}
