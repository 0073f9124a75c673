//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// FuzzParkRule drives a real accepted *Conn (pollnet listener, std client)
// through a random sequence of calls decoded from script, and checks the
// hibernation rule against a model written from its specification:
//
//   - the socket parks (Stats().Parks becomes 1) exactly when Close follows
//     the allowed sequence: hook StateIdle on a connection whose first bytes
//     were an HTTP/1 request line, then one SetReadDeadline (zero or far
//     enough), then a Read with len(p) == 4096 that found nothing for the
//     grace period and returned io.EOF, then Close;
//   - a Read returns io.EOF only at the end of that sequence or when the
//     client really closed its side and every byte was read;
//   - no byte the client sent is lost or reordered: what the Conn read, plus
//     what is still readable (through the same Conn, or through the woken
//     Conn that Accept hands out after a park), is exactly what was sent.
//
// payload is what the client sends, in pieces, when the script says so.
func FuzzParkRule(f *testing.F) {
	req := []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	for _, s := range parkRuleSeeds {
		f.Add(s, req)
	}
	f.Add([]byte{opClientSend, 255, opRead, 2, opHookIdle, opSRDZero, opRead4096, opClose}, []byte("\x16\x03\x01 TLS-ish"))
	f.Add([]byte{opClientSend, 255, opRead, 2, opHookIdle, opSRDZero, opRead4096, opClose}, []byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"))
	f.Fuzz(func(t *testing.T, script, payload []byte) {
		if len(script) > 64 {
			script = script[:64]
		}
		if len(payload) > 64<<10 {
			payload = payload[:64<<10]
		}
		runParkScript(t, script, payload)
	})
}

// Opcodes of a park-rule script. Some take an argument byte.
const (
	opRead           = iota // arg: index into parkReadSizes
	opWrite                 // arg: byte count
	opSetReadDL             // arg: deadline kind
	opSetDL                 // arg: deadline kind
	opSetWriteDL            // arg: deadline kind
	opHook                  // arg: http.ConnState
	opCloseWrite            //
	opClose                 //
	opClientSend            // arg: byte count taken from payload
	opClientCloseWrt        //
	opStats                 //
	opSyscallConn           //
	opHookIdle              // the three calls of the allowed sequence, as single bytes
	opRead4096              // so that the fuzzer finds them often
	opSRDZero               //
	opCount
)

var parkReadSizes = []int{1, 3, 4, 100, 4095, 4096, 4097, 8192}

// Deadline kinds: only values whose effect does not depend on timing.
const (
	dlZero = iota // no deadline
	dlPast        // already passed: the next Read or Write times out at once
	dlFar         // an hour away
	dlKinds
)

func deadlineOf(kind int) time.Time {
	switch kind {
	case dlPast:
		return time.Unix(1, 0)
	case dlFar:
		return time.Now().Add(time.Hour)
	}
	return time.Time{}
}

// parkRuleSeeds are the committed scripts' shapes (the corpus files under
// testdata/fuzz/FuzzParkRule hold more).
var parkRuleSeeds = [][]byte{
	// The allowed sequence: parks, then wakes on the next request.
	{opClientSend, 255, opRead4096, opHookIdle, opSRDZero, opRead4096, opClose},
	// Same with a far idle deadline (IdleTimeout set).
	{opClientSend, 255, opRead4096, opHookIdle, opSetReadDL, dlFar, opRead4096, opClose},
	// A Write between the EOF and Close cancels the park.
	{opClientSend, 255, opRead4096, opHookIdle, opSRDZero, opRead4096, opWrite, 10, opClose},
	// Two SetReadDeadline calls: Peek served from net/http's buffer: no park.
	{opClientSend, 255, opRead4096, opHookIdle, opSRDZero, opSRDZero, opRead4096, opClose},
	// A smaller read (bytes buffered above us): no park, and the read blocks.
	{opClientSend, 255, opRead4096, opHookIdle, opSRDZero, opRead, 4, opClose},
	// Pipelined data already there: the idle read returns it.
	{opClientSend, 10, opRead4096, opClientSend, 20, opHookIdle, opSRDZero, opRead4096, opClose},
	// Past deadline at idle: no grace read.
	{opClientSend, 255, opRead4096, opHookIdle, opSetReadDL, dlPast, opRead4096, opClose},
	// Hijacked: never again.
	{opClientSend, 255, opRead4096, opHook, byte(http.StateHijacked), opHookIdle, opSRDZero, opRead4096, opClose},
	// The client half-closes: real EOF, no park.
	{opClientSend, 255, opRead4096, opClientCloseWrt, opHookIdle, opSRDZero, opRead4096, opClose},
	// The client half-closes after the parking EOF: parks, then peer gone.
	{opClientSend, 255, opRead4096, opHookIdle, opSRDZero, opRead4096, opClientCloseWrt, opClose},
	// Data arrives between the parking EOF and Close: parks and wakes at once.
	{opClientSend, 255, opRead4096, opHookIdle, opSRDZero, opRead4096, opClientSend, 5, opClose},
	// The parking EOF not followed by Close: the conn goes on normally.
	{opClientSend, 255, opRead4096, opHookIdle, opSRDZero, opRead4096, opClientSend, 5, opRead, 2, opHookIdle, opSRDZero, opRead4096, opClose},
	// Hook Active, SetDeadline, SetWriteDeadline, CloseWrite, SyscallConn in between.
	{opClientSend, 255, opRead4096, opHookIdle, opHook, byte(http.StateActive), opSRDZero, opRead4096, opClose},
	{opClientSend, 255, opRead4096, opHookIdle, opSetDL, dlZero, opRead4096, opClose},
	{opClientSend, 255, opRead4096, opHookIdle, opSRDZero, opSetWriteDL, dlFar, opRead4096, opClose},
	{opClientSend, 255, opRead4096, opHookIdle, opSRDZero, opRead4096, opCloseWrite, opClose},
	{opClientSend, 255, opRead4096, opHookIdle, opSRDZero, opSyscallConn, opRead4096, opClose},
	{opClientSend, 255, opRead4096, opHookIdle, opSRDZero, opRead4096, opStats, opClose},
	// Idle before any byte was read: the protocol is unknown: no park.
	{opHookIdle, opSRDZero, opRead4096, opClose},
	// Calls after Close return errors and do not block.
	{opClose, opRead4096, opWrite, 3, opSRDZero, opHookIdle, opCloseWrite, opSyscallConn, opClose},
}

// parkModel is the specification's state for one Conn.
type parkModel struct {
	phase        int // 0 off, 1 idle hook seen, 2 one SetReadDeadline seen, 3 parking EOF given
	readDL       int // deadline kind of the read side
	writeDL      int
	disabled     bool // hijacked or raw access: never parks again
	closed       bool
	wroteClosed  bool // server CloseWrite
	clientClosed bool // client CloseWrite
	sent, got    []byte
	parked       bool
}

const (
	mOff = iota
	mIdle
	mArmed
	mEOF
)

// http1 is guard 4 by the reference classifier on the bytes read so far.
func (m *parkModel) http1() bool {
	return !m.disabled && refClassify(m.got[:min(len(m.got), 8)]) == protoHTTP1
}

func runParkScript(t *testing.T, script, payload []byte) {
	const grace = 2 * time.Millisecond
	ln := listenTest(t, ListenConfig{IdleGrace: grace})
	c, client := acceptPair(t, ln)
	defer client.Close()
	defer c.Close()

	// The client drains whatever the server writes.
	drained := make(chan struct{})
	go func() { io.Copy(io.Discard, client); close(drained) }()

	m := &parkModel{}
	send := func(b []byte) {
		if m.clientClosed || len(b) == 0 {
			return
		}
		if _, err := client.Write(b); err != nil {
			if m.closed && !m.parked {
				m.clientClosed = true // the server closed: a reset is expected
				return
			}
			t.Fatalf("client write: %v", err)
		}
		m.sent = append(m.sent, b...)
	}
	arg := func(i *int) int {
		if *i+1 < len(script) {
			*i++
			return int(script[*i])
		}
		return 0
	}

	for i := 0; i < len(script); i++ {
		op := int(script[i]) % opCount
		switch op {
		case opRead, opRead4096:
			size := 4096
			if op == opRead {
				size = parkReadSizes[arg(&i)%len(parkReadSizes)]
			}
			parkRead(t, c, m, size, grace, send)
		case opWrite:
			n := arg(&i)
			_, err := c.Write(bytes.Repeat([]byte{'w'}, n))
			if err == nil && (m.closed || (n > 0 && (m.wroteClosed || m.writeDL == dlPast))) {
				t.Fatalf("op %d: Write succeeded on a closed side or past its deadline", i)
			}
			if m.closed && !errors.Is(err, net.ErrClosed) {
				t.Fatalf("op %d: Write after Close: %v, want net.ErrClosed", i, err)
			}
			m.phase = mOff
		case opSetReadDL, opSRDZero, opSetDL:
			kind := dlZero
			if op != opSRDZero {
				kind = arg(&i) % dlKinds
			}
			var err error
			if op == opSetDL {
				err = c.SetDeadline(deadlineOf(kind))
				m.writeDL = kind
				m.phase = mOff
			} else {
				err = c.SetReadDeadline(deadlineOf(kind))
				if m.phase == mIdle {
					m.phase = mArmed
				} else {
					m.phase = mOff
				}
			}
			m.readDL = kind
			if (err == nil) == m.closed {
				t.Fatalf("op %d: deadline call on closed=%v returned %v", i, m.closed, err)
			}
		case opSetWriteDL:
			kind := arg(&i) % dlKinds
			c.SetWriteDeadline(deadlineOf(kind))
			m.writeDL = kind
			m.phase = mOff
		case opHook, opHookIdle:
			state := http.StateIdle
			if op == opHook {
				state = http.ConnState(arg(&i) % 5)
			}
			connStateHook(c, state)
			switch state {
			case http.StateIdle:
				if m.http1() {
					m.phase = mIdle
				}
			case http.StateHijacked:
				m.disabled = true
				m.phase = mOff
			case http.StateActive, http.StateClosed:
				m.phase = mOff
			}
		case opCloseWrite:
			// On an open Conn shutdown(2) itself may fail (ENOTCONN once
			// both sides have shut down), as with std; after Close it must.
			if err := c.CloseWrite(); m.closed && !errors.Is(err, net.ErrClosed) {
				t.Fatalf("op %d: CloseWrite after Close returned %v", i, err)
			}
			m.wroteClosed = true
			m.phase = mOff
		case opClose:
			wantPark := !m.closed && m.phase == mEOF
			err := c.Close()
			if (err == nil) == m.closed {
				t.Fatalf("op %d: Close on closed=%v returned %v", i, m.closed, err)
			}
			m.closed = true
			m.parked = m.parked || wantPark
			m.phase = mOff
		case opClientSend:
			n := min(arg(&i), len(payload))
			send(payload[:n])
			payload = payload[n:]
		case opClientCloseWrt:
			if !m.clientClosed {
				client.(*net.TCPConn).CloseWrite()
				m.clientClosed = true
			}
		case opStats:
			ln.Stats()
		case opSyscallConn:
			_, err := c.SyscallConn()
			if (err == nil) == m.closed {
				t.Fatalf("op %d: SyscallConn on closed=%v returned %v", i, m.closed, err)
			}
			if !m.closed {
				m.disabled = true
				m.phase = mOff
			}
		}
		if got, want := ln.Stats().Parks, boolCount(m.parked); got != want {
			t.Fatalf("after op %d (%d) of %v: Parks = %d, the rule says %d", i, op, script, got, want)
		}
	}

	checkParkOutcome(t, ln, c, client, m, drained)
}

// parkRead runs one Read of size bytes and checks it against the model. A
// Read that the model says may block is unblocked by the client sending one
// byte after a while (a liveness aid, not an assertion on time).
func parkRead(t *testing.T, c *Conn, m *parkModel, size int, grace time.Duration, send func([]byte)) {
	t.Helper()
	unread := len(m.sent) - len(m.got)
	graceRead := m.phase == mArmed && size == idleReadSize && m.readDL != dlPast && m.http1() && !m.closed
	type result struct {
		n   int
		err error
	}
	p := make([]byte, size)
	done := make(chan result, 1)
	go func() {
		n, err := c.Read(p)
		done <- result{n, err}
	}()
	canBlock := !m.closed && m.readDL != dlPast && unread == 0 && !m.clientClosed && !graceRead
	var r result
	if canBlock {
		select {
		case r = <-done:
		case <-time.After(30 * time.Millisecond):
			send([]byte{'#'}) // wake the blocked Read
			r = waitRead(t, done)
		}
	} else {
		r = waitRead(t, done)
	}

	// The bytes must be the next ones the client sent.
	if r.n > 0 {
		next := m.sent[len(m.got):]
		if r.n > len(next) || !bytes.Equal(p[:r.n], next[:r.n]) {
			t.Fatalf("Read returned %q, the client's next bytes are %q", p[:r.n], next)
		}
		m.got = append(m.got, p[:r.n]...)
	}
	switch {
	case m.closed:
		if !errors.Is(r.err, net.ErrClosed) {
			t.Fatalf("Read after Close: %v, want net.ErrClosed", r.err)
		}
	case r.err == io.EOF && r.n == 0:
		realEOF := m.clientClosed && len(m.got) == len(m.sent)
		if !realEOF && !graceRead {
			t.Fatalf("Read(len %d) returned io.EOF outside the allowed sequence (phase %d, unread %d)", size, m.phase, unread)
		}
		if graceRead && !realEOF {
			m.phase = mEOF
			return
		}
	case isTimeout(r.err):
		if m.readDL != dlPast {
			t.Fatalf("Read timed out with deadline kind %d", m.readDL)
		}
	case r.err != nil:
		t.Fatalf("Read: unexpected error %v", r.err)
	default:
		if graceRead && unread == 0 && !m.clientClosed {
			t.Fatalf("the allowed idle Read returned %d bytes with nothing sent", r.n)
		}
	}
	if graceRead && unread == 0 && !m.clientClosed {
		t.Fatalf("the allowed idle Read with nothing to read returned (%d, %v), want io.EOF", r.n, r.err)
	}
	m.phase = mOff
}

func waitRead[R any](t *testing.T, done chan R) R {
	t.Helper()
	select {
	case r := <-done:
		return r
	case <-time.After(20 * time.Second):
		t.Fatal("Read did not return in 20 s")
		panic("unreachable")
	}
}

// checkParkOutcome checks that every byte the client sent is accounted for,
// and that nothing stays open.
func checkParkOutcome(t *testing.T, ln *Listener, c *Conn, client net.Conn, m *parkModel, drained chan struct{}) {
	t.Helper()
	switch {
	case m.parked && !m.clientClosed:
		// The next request wakes the socket: Accept hands out a new Conn
		// whose first bytes are the ones the old Conn never read.
		client.Write([]byte("Z"))
		m.sent = append(m.sent, 'Z')
		w := acceptWithin(t, ln)
		rest := readExactly(t, w, len(m.sent)-len(m.got))
		w.Close()
		if got := append(m.got, rest...); !bytes.Equal(got, m.sent) {
			t.Fatalf("after a park: read %q, sent %q", got, m.sent)
		}
		if st := ln.Stats(); st.Wakes != 1 {
			t.Fatalf("stats %+v: want 1 wake", st)
		}
	case m.parked:
		// The client had half-closed: the parked socket is closed as gone.
		waitStats(t, ln, "parked socket closed as peer gone", func(s Stats) bool { return s.PeerGone == 1 && s.Open == 0 })
	case !m.closed:
		// Read the rest through the same Conn: nothing may be missing.
		if !m.clientClosed {
			client.(*net.TCPConn).CloseWrite()
		}
		c.SetDeadline(time.Now().Add(20 * time.Second))
		rest, err := io.ReadAll(c)
		if err != nil {
			t.Fatalf("reading the rest: %v", err)
		}
		if got := append(m.got, rest...); !bytes.Equal(got, m.sent) {
			t.Fatalf("read %q, sent %q", got, m.sent)
		}
		c.Close()
		if st := ln.Stats(); st.Parks != 0 {
			t.Fatalf("stats %+v: parked although the rule forbids it", st)
		}
	default:
		// Closed without parking: the client sees the connection end.
		select {
		case <-drained:
		case <-time.After(20 * time.Second):
			t.Fatal("Close did not close the socket: the client still waits")
		}
	}
	client.Close()
	ln.Close()
	if st := ln.Stats(); st.Open != 0 || st.Parked != 0 {
		t.Fatalf("stats after closing everything %+v: want nothing open", st)
	}
}

func acceptWithin(t *testing.T, ln *Listener) net.Conn {
	t.Helper()
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := ln.Accept()
		ch <- res{c, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("Accept: %v", r.err)
		}
		return r.c
	case <-time.After(20 * time.Second):
		ln.Close()
		t.Fatalf("no woken connection in 20 s: stats %+v", ln.Stats())
		return nil
	}
}

func readExactly(t *testing.T, c net.Conn, n int) []byte {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	b := make([]byte, n)
	if _, err := io.ReadFull(c, b); err != nil {
		t.Fatalf("reading %d bytes: %v", n, err)
	}
	return b
}

func boolCount(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}
