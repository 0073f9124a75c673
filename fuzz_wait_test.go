//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"
)

// FuzzOnReadable drives a real accepted *Conn (pollnet listener, std client)
// through a random sequence of calls decoded from script: OnReadable, its
// function running (and re-arming or not), small and blocking writes,
// Close, read deadlines (past, future, cleared), Read, Unhijack, and the
// peer's data, FIN and reset. It checks them against a model written from
// OnReadable's documentation:
//
//   - fn runs at most once per OnReadable, never once Close or Read or
//     Unhijack has ended the wait, and exactly when there is something to
//     read: data (on the socket or given back by Unhijack), end of stream,
//     an error, or a read deadline that has passed;
//   - no byte is lost or reordered in either direction, across waits,
//     detaches and Unhijack;
//   - once the Conn and the listener are closed, no socket, waiting Conn,
//     fd or goroutine is left, and the shared pollset has stopped.
//
// The model is kept deterministic: after each step that makes a waiting
// Conn readable, the test waits (bounded) for fn before the next step.
// Steps that must not run fn are followed by a short settle; a wrong run is
// then caught by a later check, never assumed from timing.
func FuzzOnReadable(f *testing.F) {
	for _, s := range waitSeeds {
		f.Add(s, []byte("hello, waiting world: 0123456789abcdefghijklmnopqrstuvwxyz"))
	}
	f.Fuzz(func(t *testing.T, script, payload []byte) {
		if len(script) > 48 {
			script = script[:48]
		}
		if len(payload) > 4<<10 {
			payload = payload[:4<<10]
		}
		runWaitScript(t, script, payload)
	})
}

// Opcodes of a wait script. Some take an argument byte.
const (
	wOnReadable    = iota // fn only reports
	wOnReadableRe         // fn re-arms OnReadable from inside, once
	wWrite                // arg: byte count
	wWriteBlocking        // a write larger than the socket buffers, while the client pauses
	wClose                //
	wReadDL               // arg: deadline kind (dlZero, dlPast, dlFar)
	wRead                 // arg: buffer size
	wUnhijack             // arg: how many of the last bytes read are given back
	wPeerSend             // arg: byte count taken from payload
	wPeerFIN              //
	wPeerReset            //
	wCount
)

var waitSeeds = [][]byte{
	// Data wakes fn; re-arm; FIN wakes it again.
	{wOnReadable, wPeerSend, 5, wRead, 5, wOnReadable, wPeerFIN, wRead, 8},
	// fn re-arms from inside; two sends, two runs.
	{wOnReadableRe, wPeerSend, 3, wRead, 3, wPeerSend, 4, wRead, 16},
	// Writes while waiting do not end the wait; the peer gets every byte.
	{wOnReadable, wWrite, 10, wWrite, 200, wPeerSend, 2, wRead, 2},
	// A blocking write while waiting; the wait goes on, then data wakes it.
	{wOnReadable, wWriteBlocking, wPeerSend, 7, wRead, 64},
	// A past read deadline runs fn; Read then times out.
	{wOnReadable, wReadDL, dlPast, wRead, 4, wReadDL, dlZero, wPeerSend, 3, wRead, 3},
	// A far deadline, then cleared: no run; Close ends the wait.
	{wOnReadable, wReadDL, dlFar, wReadDL, dlZero, wClose, wPeerSend, 2},
	// Deadline set before the wait, already passed.
	{wReadDL, dlPast, wOnReadable, wRead, 1},
	// Read ends the wait: fn does not run, Read gets the bytes.
	{wOnReadable, wRead, 9, wOnReadable, wClose},
	// Peer reset while waiting.
	{wOnReadable, wPeerSend, 4, wRead, 2, wOnReadable, wPeerReset, wRead, 8, wClose},
	// Unhijack while waiting: no run; given-back bytes come first.
	{wPeerSend, 6, wRead, 6, wOnReadable, wUnhijack, 3, wRead, 2, wOnReadable, wPeerSend, 2, wRead, 10},
	// Unhijack with bytes given back, then OnReadable: fn runs at once.
	{wPeerSend, 4, wRead, 4, wUnhijack, 4, wOnReadable, wPeerSend, 1, wRead, 8},
	// OnReadable twice fails; calls after Close fail.
	{wOnReadable, wOnReadable, wClose, wOnReadable, wWrite, 3, wRead, 3, wUnhijack, 0},
	// Close with data pending and a deadline armed.
	{wReadDL, dlFar, wOnReadable, wPeerFIN, wClose},
	// Writes, a FIN from the peer, writes again (half-close keeps our side).
	{wWrite, 50, wPeerFIN, wOnReadable, wRead, 4, wWrite, 5},
}

// waitModel is the documentation's state for one Conn.
type waitModel struct {
	waiting   bool // OnReadable armed, fn not run, wait not ended
	reArm     bool // the armed fn re-arms once from inside
	closed    bool
	readDL    int
	peerFIN   bool
	peerReset bool
	sent      []byte // what the client sent
	got       []byte // what the server's Reads returned
	prefix    int    // bytes given back by Unhijack, not yet read again
	wrote     []byte // what the server's Writes took
}

// readable reports whether a wait would end now (bytes given back by
// Unhijack count: they are the Conn's to read).
func (m *waitModel) readable() bool {
	return len(m.sent) > len(m.got) || m.peerFIN || m.peerReset || m.readDL == dlPast
}

// waitRig is one script's connection pair and the traces of fn.
type waitRig struct {
	t      *testing.T
	ln     *Listener
	c      *Conn
	client *net.TCPConn
	runs   chan int // the id of each OnReadable whose fn ran
	nextID int
	// The client drains what the server writes, unless paused.
	mu       sync.Mutex
	received []byte
	gate     sync.RWMutex // held by a blocking write: the client stops reading
	drained  chan struct{}
}

func runWaitScript(t *testing.T, script, payload []byte) {
	baseFDs, baseG := countFDs(), runtime.NumGoroutine()
	r := newWaitRig(t)
	m := &waitModel{}
	arg := func(i *int) int {
		if *i+1 < len(script) {
			*i++
			return int(script[*i])
		}
		return 0
	}
	for i := 0; i < len(script); i++ {
		op := int(script[i]) % wCount
		switch op {
		case wOnReadable, wOnReadableRe:
			r.onReadable(m, op == wOnReadableRe)
		case wWrite:
			r.write(m, bytes.Repeat([]byte{byte('a' + i%26)}, arg(&i)))
		case wWriteBlocking:
			r.writeBlocking(m, i)
		case wClose:
			err := r.c.Close()
			if (err == nil) == m.closed {
				t.Fatalf("op %d: Close on closed=%v returned %v", i, m.closed, err)
			}
			m.closed, m.waiting = true, false
		case wReadDL:
			kind := arg(&i) % dlKinds
			err := r.c.SetReadDeadline(deadlineOf(kind))
			if (err == nil) == m.closed {
				t.Fatalf("op %d: SetReadDeadline on closed=%v returned %v", i, m.closed, err)
			}
			if !m.closed {
				m.readDL = kind
			}
		case wRead:
			r.read(m, 1+arg(&i)%64)
		case wUnhijack:
			r.unhijack(m, arg(&i))
		case wPeerSend:
			n := min(arg(&i), len(payload))
			if n > 0 && !m.peerFIN && !m.peerReset {
				if _, err := r.client.Write(payload[:n]); err != nil && !m.closed {
					t.Fatalf("op %d: client write: %v", i, err)
				}
				m.sent = append(m.sent, payload[:n]...)
				payload = payload[n:]
			}
		case wPeerFIN:
			if !m.peerFIN && !m.peerReset {
				r.client.CloseWrite()
				m.peerFIN = true
			}
		case wPeerReset:
			if !m.peerReset {
				r.client.SetLinger(0)
				r.client.Close()
				m.peerReset = true
			}
		}
		r.settle(m, i, op)
	}
	r.finish(m)
	r.checkNothingLeft(baseFDs, baseG)
}

func newWaitRig(t *testing.T) *waitRig {
	ln := listenTest(t, ListenConfig{})
	c, client := acceptPair(t, ln)
	r := &waitRig{t: t, ln: ln, c: c, client: client.(*net.TCPConn), runs: make(chan int, 64), drained: make(chan struct{})}
	t.Cleanup(func() { r.c.Close(); r.client.Close() })
	// Small buffers, so that a blocking write is cheap to make.
	r.client.SetReadBuffer(16 << 10)
	r.c.SetWriteBuffer(16 << 10)
	go r.drain()
	return r
}

// drain reads what the server writes, while it can take gate.
func (r *waitRig) drain() {
	defer close(r.drained)
	buf := make([]byte, 64<<10)
	for {
		r.gate.RLock()
		n, err := r.client.Read(buf)
		r.mu.Lock()
		r.received = append(r.received, buf[:n]...)
		r.mu.Unlock()
		r.gate.RUnlock()
		if err != nil {
			return
		}
	}
}

func (r *waitRig) onReadable(m *waitModel, reArm bool) {
	r.nextID++
	id := r.nextID
	fn := func() {
		if reArm {
			// From inside fn, before it reports: the model sees both at once.
			if err := OnReadable(r.c, func() { r.runs <- id + 1000 }); err != nil && !errors.Is(err, net.ErrClosed) {
				r.t.Errorf("re-arm from fn: %v", err)
			}
		}
		r.runs <- id
	}
	err := OnReadable(r.c, fn)
	switch {
	case m.closed:
		if !errors.Is(err, net.ErrClosed) {
			r.t.Fatalf("OnReadable after Close: %v, want net.ErrClosed", err)
		}
	case m.waiting:
		if !errors.Is(err, errAlreadyWaiting) {
			r.t.Fatalf("OnReadable while waiting: %v", err)
		}
	case err != nil:
		r.t.Fatalf("OnReadable: %v", err)
	default:
		m.waiting, m.reArm = true, reArm
	}
}

// settle brings the model and the Conn to the same point after op: a wait
// that must end has ended (fn ran), and no fn ran that should not have.
func (r *waitRig) settle(m *waitModel, i, op int) {
	r.t.Helper()
	if m.waiting && m.readable() {
		id := r.await(i, op)
		if m.reArm {
			m.reArm = false
			if m.closed || !m.readable() {
				return // still waiting, on the re-armed OnReadable
			}
			r.await(i, op) // the re-armed one is readable at once too
			_ = id
		}
		m.waiting = false
		return
	}
	select {
	case id := <-r.runs:
		r.t.Fatalf("after op %d (%d): fn of OnReadable %d ran with nothing to read (model %+v)", i, op, id, m.summary())
	case <-time.After(2 * time.Millisecond):
	}
}

func (r *waitRig) await(i, op int) int {
	select {
	case id := <-r.runs:
		return id
	case <-time.After(10 * time.Second):
		r.t.Fatalf("after op %d (%d): fn did not run in 10 s though the Conn is readable", i, op)
		return 0
	}
}

func (m *waitModel) summary() map[string]any {
	return map[string]any{"waiting": m.waiting, "closed": m.closed, "readDL": m.readDL, "unread": len(m.sent) - len(m.got),
		"fin": m.peerFIN, "reset": m.peerReset}
}

func (r *waitRig) write(m *waitModel, p []byte) {
	n, err := r.c.Write(p)
	switch {
	case m.closed:
		if !errors.Is(err, net.ErrClosed) {
			r.t.Fatalf("Write after Close: %v", err)
		}
	case m.peerReset:
		// The kernel may take a write or refuse it (EPIPE, ECONNRESET).
		m.wrote = append(m.wrote, p[:n]...)
	case err != nil || n != len(p):
		r.t.Fatalf("Write(%d) = %d, %v", len(p), n, err)
	default:
		m.wrote = append(m.wrote, p...)
	}
}

// writeBlocking writes more than the socket buffers hold while the client
// does not read, then lets the client read: the write blocks, then ends.
func (r *waitRig) writeBlocking(m *waitModel, i int) {
	if m.closed || m.peerReset {
		return
	}
	p := bytes.Repeat([]byte{byte('A' + i%26)}, 1<<20)
	done := make(chan error, 1)
	go func() {
		_, err := r.c.Write(p)
		done <- err
	}()
	// The client stops reading (its Read in progress ends with the write's
	// first bytes); the write fills the buffers and waits (attached).
	r.gate.Lock()
	time.Sleep(5 * time.Millisecond)
	r.gate.Unlock()
	select {
	case err := <-done:
		if err != nil {
			r.t.Fatalf("blocking write: %v", err)
		}
	case <-time.After(20 * time.Second):
		r.t.Fatal("a blocking write did not end once the client read")
	}
	m.wrote = append(m.wrote, p...)
	// The write did not end the wait.
	if st := r.ln.Stats(); m.waiting != (st.Waiting == 1) {
		r.t.Fatalf("after a blocking write: Waiting %d, the model says waiting=%v", st.Waiting, m.waiting)
	}
}

func (r *waitRig) read(m *waitModel, size int) {
	if !m.closed && !m.readable() {
		// Nothing to read: the Read would block. It ends the wait (fn must
		// not run); once it has, one byte from the client unblocks it.
		done := make(chan struct{})
		var n int
		var err error
		p := make([]byte, size)
		go func() { n, err = r.c.Read(p); close(done) }()
		waitFor(r.t, "Read to end the wait", func() bool { return r.ln.Stats().Waiting == 0 })
		m.waiting = false
		r.client.Write([]byte{'#'})
		m.sent = append(m.sent, '#')
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			r.t.Fatal("a blocked Read did not return after the client sent a byte")
		}
		r.checkRead(m, p, n, err)
		return
	}
	p := make([]byte, size)
	n, err := r.c.Read(p)
	m.waiting = false
	r.checkRead(m, p, n, err)
}

func (r *waitRig) checkRead(m *waitModel, p []byte, n int, err error) {
	r.t.Helper()
	if n > 0 {
		next := m.sent[len(m.got):]
		if n > len(next) || !bytes.Equal(p[:n], next[:n]) {
			r.t.Fatalf("Read returned %q, the client's next bytes are %q", p[:n], next)
		}
		m.got = append(m.got, p[:n]...)
		m.prefix = max(0, m.prefix-n)
	}
	switch {
	case m.closed:
		if !errors.Is(err, net.ErrClosed) {
			r.t.Fatalf("Read after Close: %v", err)
		}
	case err == nil:
		if n == 0 {
			r.t.Fatal("Read returned 0 bytes and no error")
		}
		if m.readDL == dlPast && m.prefix+n == 0 {
			r.t.Fatal("Read past the deadline returned bytes from the socket")
		}
	case m.readDL == dlPast:
		if !isTimeout(err) || !errors.Is(err, os.ErrDeadlineExceeded) || n > 0 {
			r.t.Fatalf("Read past the deadline: %d, %v; want a timeout wrapping os.ErrDeadlineExceeded", n, err)
		}
	case errors.Is(err, io.EOF) && m.peerReset:
		m.sent = m.sent[:len(m.got)] // after the reset's error, or instead of it
	case errors.Is(err, io.EOF):
		if !m.peerFIN || len(m.got) != len(m.sent) {
			r.t.Fatalf("Read returned EOF with %d bytes unread, FIN %v", len(m.sent)-len(m.got), m.peerFIN)
		}
	case m.peerReset:
		// ECONNRESET: what the kernel had not handed out yet is gone.
		m.sent = m.sent[:len(m.got)]
	default:
		r.t.Fatalf("Read: unexpected error %v", err)
	}
}

func (r *waitRig) unhijack(m *waitModel, k int) {
	k = min(k, len(m.got)) // the last bytes read, given back
	back := m.got[len(m.got)-k:]
	err := Unhijack(r.c, back)
	if m.closed {
		if err == nil {
			r.t.Fatal("Unhijack after Close succeeded")
		}
		return
	}
	if err != nil {
		r.t.Fatalf("Unhijack: %v", err)
	}
	m.waiting = false
	m.got = m.got[:len(m.got)-k]
	m.prefix += k
	// The listener hands the same Conn out again.
	nc, err := r.ln.Accept()
	if err != nil {
		r.t.Fatal(err)
	}
	if nc != net.Conn(r.c) {
		r.t.Fatal("Accept after Unhijack returned another Conn")
	}
}

// finish reads what is left in both directions and compares it with the
// model, then closes everything.
func (r *waitRig) finish(m *waitModel) {
	t := r.t
	if !m.closed && !m.peerReset {
		if !m.peerFIN {
			r.client.CloseWrite()
			m.peerFIN = true
			r.settle(m, -1, wPeerFIN) // a waiting Conn sees the FIN
		}
		r.c.SetReadDeadline(time.Now().Add(20 * time.Second))
		rest, err := io.ReadAll(r.c)
		if err != nil {
			t.Fatalf("reading the rest: %v", err)
		}
		if got := append(m.got, rest...); !bytes.Equal(got, m.sent) {
			t.Fatalf("the server read %q, the client sent %q", got, m.sent)
		}
	}
	closedBefore := m.closed
	r.c.Close()
	select {
	case <-r.drained:
	case <-time.After(20 * time.Second):
		t.Fatal("the client did not see the connection end")
	}
	if !m.peerReset {
		r.mu.Lock()
		ok := bytes.Equal(r.received, m.wrote)
		r.mu.Unlock()
		if !ok && !closedBefore || !ok && !bytes.HasPrefix(m.wrote, r.received) {
			t.Fatalf("the client received %d bytes, the server wrote %d (not the same bytes)", len(r.received), len(m.wrote))
		}
	}
	r.client.Close()
	select {
	case id := <-r.runs:
		t.Fatalf("fn of OnReadable %d ran after the end", id)
	default:
	}
}

// checkNothingLeft closes the listener and waits (bounded) for every
// socket, waiting Conn, fd and goroutine of the run to be gone.
func (r *waitRig) checkNothingLeft(baseFDs, baseG int) {
	r.ln.Close()
	if st := r.ln.Stats(); st.Open != 0 || st.Waiting != 0 {
		r.t.Fatalf("stats after closing everything %+v", st)
	}
	waitFor(r.t, "the shared pollset stopped", func() bool {
		shared.mu.Lock()
		defer shared.mu.Unlock()
		return shared.set == nil
	})
	waitFor(r.t, "fds and goroutines back to before", func() bool {
		return (baseFDs < 0 || countFDs() <= baseFDs) && runtime.NumGoroutine() <= baseG
	})
}
