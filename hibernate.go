//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"io"
	"net"
	"net/http"
	"os"
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

	mu      sync.Mutex
	head    [8]byte // first bytes seen, until proto is decided
	headLen uint8
	// fresh: the Conn was just woken from a park that lasted longer than
	// the grace period. Its first idle read parks at once if no byte is
	// there: it is not busy, and waiting out a grace would cost a timer.
	fresh bool
	// wake wakes a Read waiting on the hub's poller (graceDetached,
	// Conn.waitDetached): data came, a deadline passed, or another call
	// interrupted it. Set only during such a wait (beginWait).
	wake atomic.Pointer[wakeSignal]
}

// wakeSignal is a one-slot channel, pooled: an idle Conn holds none.
type wakeSignal struct{ c chan struct{} }

var wakeSignals = sync.Pool{New: func() any { return &wakeSignal{c: make(chan struct{}, 1)} }}

// setPhase moves the rule; called with mu held. Leaving the grace phase for
// any other reason than the Read's own wakes that Read.
func (s *idleState) setPhase(p int32) {
	if s.phase.Load() == phaseGrace && p != phaseGrace && p != phaseParkPending {
		s.signal()
	}
	s.phase.Store(p)
}

// signal wakes a Read waiting on the hub's poller, if any. It takes no
// lock: any goroutine, holding any lock, may call it. A signal that comes
// as a wait ends may reach the next user of the pooled channel: waits
// treat a wake-up as a hint and check what happened.
func (s *idleState) signal() {
	if w := s.wake.Load(); w != nil {
		select {
		case w.c <- struct{}{}:
		default:
		}
	}
}

// beginWait gives the Conn a wake channel for one wait; endWait returns it.
func (s *idleState) beginWait() *wakeSignal {
	w := wakeSignals.Get().(*wakeSignal)
	s.wake.Store(w)
	return w
}

// endWait ends the wait that beginWait returned w for. It clears the Conn's
// channel only if it is still w: by the time a finished wait's deferred
// endWait runs, another Read may have begun a wait of its own, whose
// channel must stay (or that Read would never wake).
func (s *idleState) endWait(w *wakeSignal) {
	s.wake.CompareAndSwap(w, nil)
	select {
	case <-w.c:
	default:
	}
	wakeSignals.Put(w)
}

// interrupt cancels any hibernation in progress: the caller made a call that
// the rule does not allow at idle.
func (s *idleState) interrupt() {
	if s.phase.Load() != phaseOff {
		s.mu.Lock()
		s.setPhase(phaseOff)
		s.mu.Unlock()
	}
}

// woke resets the rule of a kept Conn handed out again. fresh: its park
// lasted longer than the grace period.
func (s *idleState) woke(fresh bool) {
	s.mu.Lock()
	s.setPhase(phaseOff)
	s.fresh = fresh
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

// noteReadDeadline records a SetReadDeadline made while phase != off (the
// deadline itself is kept in the socket). Called with mu held.
func (s *idleState) noteReadDeadline() {
	if s.phase.Load() == phaseWaitDeadline {
		s.setPhase(phaseWaitRead)
	} else {
		s.setPhase(phaseOff)
	}
}

// takeParkPending reports whether the Conn is closing right after the
// parking EOF, and ends the rule either way.
func (s *idleState) takeParkPending() bool {
	if s.phase.Load() == phaseOff {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	park := s.phase.Load() == phaseParkPending
	s.setPhase(phaseOff)
	return park
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
	s.headLen += uint8(n)
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
	h := c.hub
	s.mu.Lock()
	grace := h.grace
	if s.fresh && c.sock.file.Load() == nil { // an attached Conn has been busy since
		grace = 0
	}
	s.fresh = false
	graceEnd, ok := s.beginGrace(h, p, grace, c.sock.rdl.Load())
	s.mu.Unlock()
	if !ok {
		return 0, false, nil
	}
	if w := c.wait.Load(); w != nil {
		w.clearParkPending() // from an earlier parking EOF that no Close followed
	}
	if !c.sock.get() {
		s.off()
		return 0, false, nil // closed: the plain read reports it
	}
	defer c.put()
	if f := c.sock.file.Load(); f != nil {
		return c.graceAttached(f, p, graceEnd)
	}
	return c.graceDetached(p, grace, graceEnd)
}

// off ends the rule's phase, whatever it was.
func (s *idleState) off() {
	s.mu.Lock()
	s.setPhase(phaseOff)
	s.mu.Unlock()
}

// graceAttached waits out the grace in the runtime poller, with a read
// deadline at its end: the way of a busy connection, which the runtime
// already watches.
func (c *Conn) graceAttached(f *os.File, p []byte, graceEnd time.Time) (int, bool, error) {
	s := &c.idle
	f.SetReadDeadline(graceEnd)
	n, err := f.Read(p)
	s.mu.Lock()
	defer s.mu.Unlock()
	// Whatever happened, the file's deadline goes back to the caller's: a
	// call that interrupted the grace period recorded its own in the socket.
	rd := c.sock.rdl.Load()
	f.SetReadDeadline(unixTime(rd))
	switch park, again := s.endGrace(c.hub, n, err, rd); {
	case park:
		return 0, true, io.EOF
	case again:
		return 0, false, nil
	}
	return n, true, c.opError("read", err)
}

// beginGrace applies guards 2, 3 and 5 of the rule (DESIGN.md section 2) to
// an idle Read of p, the caller's read deadline being rd (unix ns; 0: none):
// it starts the grace period and returns its end, or turns the rule off.
// Called with mu held.
func (s *idleState) beginGrace(h *hub, p []byte, grace time.Duration, rd int64) (graceEnd time.Time, ok bool) {
	graceEnd = time.Now().Add(grace)
	if s.phase.Load() != phaseWaitRead || !isIdleRead(p) || h.closed.Load() || h.overloaded() ||
		rd != 0 && rd <= graceEnd.UnixNano() {
		s.setPhase(phaseOff)
		return graceEnd, false
	}
	s.setPhase(phaseGrace)
	return graceEnd, true
}

// endGrace judges a read that the grace period's deadline bounded and that
// returned n, err, the caller's own read deadline being rd: park (the Read
// returns the parking io.EOF), again (the grace's deadline passed, not the
// caller's: the Read goes on as a plain read), or neither (the read's own
// result stands). Called with mu held.
func (s *idleState) endGrace(h *hub, n int, err error, rd int64) (park, again bool) {
	timedOut := n == 0 && isTimeout(err)
	if s.phase.Load() == phaseGrace {
		if timedOut && !h.closed.Load() {
			s.setPhase(phaseParkPending)
			return true, false
		}
		s.setPhase(phaseOff)
	}
	return false, timedOut && !passed(rd)
}

// graceDetached waits out the grace of a detached Conn (new, or woken from a
// park) on the hub's poller, so that a connection whose next request comes
// no sooner than the grace period never enters the runtime poller. A Conn
// whose request comes within the grace is busy: it attaches, and from then
// on waits like graceAttached.
func (c *Conn) graceDetached(p []byte, grace time.Duration, graceEnd time.Time) (int, bool, error) {
	s := &c.idle
	n, err, done := c.readDetached(p)
	if done || grace == 0 {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.phase.Load() != phaseGrace {
			return n, done, c.opError("read", err)
		}
		if !done && !c.hub.closed.Load() { // nothing there: park at once
			s.setPhase(phaseParkPending)
			return 0, true, io.EOF
		}
		s.setPhase(phaseOff)
		return n, done, c.opError("read", err)
	}
	w := c.waitState()
	w.mu.Lock()
	if w.closed || c.sock.closed() || w.mode == modeReadWait || w.mode == modeGrace {
		// Closed (see Conn.close), or another Read waits on the hub's
		// poller and owns the wake channel: this one reads as usual.
		w.mu.Unlock()
		s.off()
		return 0, false, nil
	}
	ws := s.beginWait()
	defer s.endWait(ws)
	if w.set != c.hub.set { // a Conn that waited in OnReadable before (unhijacked)
		w.leaveSet()
		w.set = c.hub.set
	}
	w.fired = false
	w.setMode(modeGrace)
	if err := w.armLocked(); err != nil {
		w.setMode(modeNone)
		w.mu.Unlock()
		s.off()
		return 0, false, nil
	}
	w.mu.Unlock()

	// No call is held while waiting: a transition (another caller
	// attaching to write) must not wait for this Read.
	c.sock.release()
	t := graceTimers.get(time.Until(graceEnd))
	var fired, interrupted bool
	for {
		timedOut := false
		select {
		case <-ws.c:
		case <-t.C:
			timedOut = true
		}
		s.mu.Lock()
		w.mu.Lock()
		fired, interrupted = w.fired, s.phase.Load() != phaseGrace || c.hub.closed.Load() || c.sock.closed()
		if fired || interrupted || timedOut {
			break
		}
		w.mu.Unlock() // a stale signal: wait on
		s.mu.Unlock()
	}
	graceTimers.put(t)
	if fired || interrupted {
		if !fired {
			w.disarmLocked()
		}
		w.fired = false
		w.setMode(modeNone)
		if s.phase.Load() == phaseGrace {
			s.setPhase(phaseOff)
		}
	} else { // the grace passed: the registration stays armed, and the park takes it
		w.setMode(modeParkPending)
		s.setPhase(phaseParkPending)
	}
	w.mu.Unlock()
	s.mu.Unlock()
	if !c.sock.get() {
		c.sock.state.Add(1) // idleRead's put balances it
	}
	switch {
	case fired: // data, end of stream or an error: a busy connection
		c.sock.attach()
		return 0, false, nil
	case interrupted:
		return 0, false, nil
	}
	return 0, true, io.EOF
}

// graceTimers pools the timers of detached grace waits: one Read waits at a
// time per Conn, and a pooled timer saves an allocation per idle period.
var graceTimers timerPool

type timerPool struct{ p sync.Pool }

func (tp *timerPool) get(d time.Duration) *time.Timer {
	if t, ok := tp.p.Get().(*time.Timer); ok {
		t.Reset(d)
		return t
	}
	return time.NewTimer(d)
}

// put stops t and pools it; since Go 1.23 a stopped timer's channel holds
// no stale value, so Reset is safe after it.
func (tp *timerPool) put(t *time.Timer) {
	t.Stop()
	tp.p.Put(t)
}

// park hands the socket of a Conn that net/http closed at idle to the
// listener's hub: its own fd leaves the runtime poller (socket.go), a
// duplicate waits on the hub's poller until the next request, the idle
// deadline or the peer's close.
func (c *Conn) park(deadline int64) error {
	if w := c.wait.Load(); w != nil && w.hooks() != nil {
		return c.hub.parkKept(c, deadline)
	}
	return c.hub.park(c, deadline)
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
// connection it belongs to (a *Conn, or ServeServerTLS's view).
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
