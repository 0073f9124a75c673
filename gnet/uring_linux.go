//go:build linux

package gnet

import (
	"cmp"
	"io"
	"os"
	"slices"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pollnet/pollnet/internal/uring"
)

// uloop runs an event loop on io_uring (see completion.go for the split).
//
// One turn of the loop is one io_uring_enter: it submits everything the
// previous turn prepared (receives to arm, sends, cancellations), runs the
// kernel's completion work and waits if there is nothing to do; complete
// then hands the completions to the same code the poller path uses
// (deliver, closeConn, sent, finish). Submissions are prepared in one place,
// prepare, from the state of the connections listed in dirty: a callback
// only changes a connection's state and lists it, so every Write of a turn
// ends up in one send and every connection in one enter.
//
// Per connection (flags, loop-only):
//   - fRecv: a multishot receive is armed. It picks buffers from the loop's
//     buffer ring, so an idle connection holds none. Armed while the
//     connection is open and not paused; a pause (backpressure) cancels it
//     (fCancel) and input that was already on its way is kept in c.in
//     (fStash) until the pause ends.
//   - fSending: one send is in flight; its bytes are the head of c.out and
//     stay referenced by c.out.io until its completion. One send at a time
//     keeps the byte order.
//
// A finished connection (OnClose has fired) whose operations are still in
// flight becomes a zombie: it keeps its descriptor open, so the number
// cannot be reused while a completion for it may still arrive, and its
// output buffer, so no send reads freed memory. Its input is dropped. A
// zombie that lingers (linger.go) keeps receiving until the peer's end of
// stream; any other has its operations cancelled. Its descriptor is closed
// at its last completion. Completions carry fd and generation in user_data
// (ud), so a completion is matched to the connection or zombie it belongs
// to, never to another user of the same descriptor number.
type uloop struct {
	l       *eventloop
	ring    *uring.Ring
	bufs    *uring.BufRing // stream input
	dbufs   *uring.BufRing // datagrams, whole buffers; made with the first UDP socket
	dmsg    unix.Msghdr    // the template of datagram receives: room for the sender's address
	waker   *ringWaker
	cqes    []uring.CQE
	dirty   []*conn         // connections to sync at the next enter (fDirty)
	hungry  []*conn         // the same, synced first (see starved)
	later   []*conn         // the same, synced last (see starved)
	zombies map[int]*zombie // by fd
	zdirty  []int           // zombies to sync at the next enter
	turn    uint32          // counts enters; never 0 (conn.hungryFrom)
	started bool            // the ring is enabled (start ran)
	drained bool
}

const pollerBackend = BackendEpoll

// Ring sizes. A turn that prepares more than ringEntries submissions
// submits early; completions beyond ringCQEntries wait in the kernel
// (IORING_FEAT_NODROP).
const (
	ringEntries   = 512
	ringCQEntries = 4096
	reapBatch     = 256
	drainTimeout  = 5 * time.Second
	maxSendIov    = 64
)

// user_data: fd<<32 | (generation mod 2^24)<<8 | op.
const (
	opRecv    uint64 = 1 + iota // stream receive (bufs)
	opRecvmsg                   // datagram receive (dbufs)
	opSend
	opWake
	opCancel

	genMask = 1<<24 - 1
)

func ud(op uint64, fd int, gen uint32) uint64 {
	return uint64(uint32(fd))<<32 | uint64(gen&genMask)<<8 | op
}

func splitUD(u uint64) (op uint64, fd int, gen uint32) {
	return u & 0xff, int(int32(u >> 32)), uint32(u>>8) & genMask
}

// sendState is what the send in flight reads. The SQE holds only addresses;
// these fields keep the memory referenced (Go's heap does not move it) until
// the send's completion.
type sendState struct {
	one []byte       // OpSend: the bytes
	iov []unix.Iovec // OpSendmsg: the chunks (Base pointers keep them alive)
	msg unix.Msghdr
}

func (s *sendState) clear() {
	s.one = nil
	clear(s.iov)
	s.iov = s.iov[:0]
	s.msg = unix.Msghdr{}
}

// ringFlags: one submitting thread (the loop's, locked), completion work
// only inside io_uring_enter (so it runs once per turn, on that thread),
// created disabled so that the loop's thread, not Run's, becomes the
// submitter when it enables the ring.
const ringFlags = uring.SetupSingleIssuer | uring.SetupDeferTaskrun | uring.SetupRDisabled | uring.SetupSubmitAll

// newRing creates a ring and checks that it has every opcode we use.
func newRing(entries, cqEntries uint32) (*uring.Ring, error) {
	r, err := uring.New(uring.Config{Entries: entries, CQEntries: cqEntries, Flags: ringFlags})
	if err != nil {
		return nil, err
	}
	if err := r.Probe(uring.OpRecv, uring.OpRecvmsg, uring.OpSend, uring.OpSendmsg, uring.OpAccept,
		uring.OpAsyncCancel, uring.OpRead); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// newBufRing registers the loop's buffer ring: 8 x ReadBufferCap bytes,
// the most one turn can read from all connections together. Where buffers
// are consumed incrementally (6.12) they are ReadBufferCap each and small
// messages share them; else they are 4 KiB, one per completion.
func newBufRing(r *uring.Ring, readCap int) (*uring.BufRing, error) {
	br, err := r.NewBufRing(0, 8, readCap, true)
	if err == nil {
		return br, nil
	}
	size := min(readCap, 4096)
	return r.NewBufRing(0, 8*readCap/size, size, false)
}

func newRingLoop(l *eventloop) (ringLoop, error) {
	r, err := newRing(ringEntries, ringCQEntries)
	if err != nil {
		return nil, err
	}
	br, err := newBufRing(r, l.eng.opts.ReadBufferCap)
	if err != nil {
		r.Close()
		return nil, err
	}
	w, err := newRingWaker()
	if err != nil {
		r.Close()
		br.Close()
		return nil, err
	}
	return &uloop{l: l, ring: r, bufs: br, waker: w, cqes: make([]uring.CQE, reapBatch),
		zombies: make(map[int]*zombie), dmsg: unix.Msghdr{Namelen: unix.SizeofSockaddrAny}}, nil
}

func (u *uloop) start() error {
	if err := u.ring.Enable(); err != nil {
		return os.NewSyscallError("io_uring_register", err)
	}
	u.started = true
	return nil
}

func (u *uloop) wakeup() error { return u.waker.wake() }

func (u *uloop) enter(timeout time.Duration) error {
	u.prepare()
	u.bufs.Publish()
	if u.dbufs != nil {
		u.dbufs.Publish()
	}
	if err := u.ring.SubmitAndWait(timeout); err != nil {
		return os.NewSyscallError("io_uring_enter", err)
	}
	return nil
}

// prepare turns the listed state changes into SQEs.
func (u *uloop) prepare() {
	if !u.drained {
		u.waker.arm(u.ring, ud(opWake, 0, 0))
	}
	if u.turn++; u.turn == 0 {
		u.turn = 1
	}
	slices.SortStableFunc(u.hungry, func(a, b *conn) int { // longest waiting first
		return cmp.Compare(int32(a.hungryFrom-u.turn), int32(b.hungryFrom-u.turn))
	})
	u.hungry = u.syncAll(u.hungry)
	if len(u.hungry) == 0 {
		u.dirty = u.syncAll(u.dirty)
	}
	if len(u.dirty) == 0 {
		u.later = u.syncAll(u.later)
	}
	i := 0
	for i < len(u.zdirty) && u.zsync(u.zdirty[i]) {
		i++
	}
	u.zdirty = u.zdirty[:copy(u.zdirty, u.zdirty[i:])]
}

// syncAll syncs the listed connections and returns those left for later
// (the submission queue took nothing more).
func (u *uloop) syncAll(list []*conn) []*conn {
	i := 0
	for i < len(list) && u.sync(list[i]) {
		i++
	}
	n := copy(list, list[i:])
	clear(list[n:])
	return list[:n]
}

// want lists c for prepare.
func (u *uloop) want(c *conn) {
	if c.flags&fDirty == 0 {
		c.flags |= fDirty
		u.dirty = append(u.dirty, c)
	}
}

func (u *uloop) open(c *conn) { u.want(c) }

// sync submits what c's state asks for: a receive armed unless paused (a
// closing connection keeps receiving, to drop its input), the receive
// cancelled while paused, a send while output is pending. It returns false,
// with c still listed, if the submission queue took nothing.
func (u *uloop) sync(c *conn) bool {
	if c.flags&fClosed != 0 { // retired: its zombie took over
		c.flags &^= fDirty
		return true
	}
	fd := int(c.fd)
	if c.isDatagram() {
		return u.syncDatagram(c)
	}
	switch {
	case c.flags&(fPaused|fRecv) == 0:
		s := u.ring.NextSQE()
		if s == nil {
			return false
		}
		s.PrepRecvMultishot(fd, u.bufs.Group(), ud(opRecv, fd, c.gen))
		c.flags = c.flags&^fFed | fRecv
	case c.flags&(fPaused|fRecv|fCancel) == fPaused|fRecv:
		s := u.ring.NextSQE()
		if s == nil {
			return false
		}
		s.PrepCancel(ud(opRecv, fd, c.gen), 0, ud(opCancel, fd, c.gen))
		c.flags |= fCancel
	}
	if c.out != nil && c.out.n > 0 && c.flags&fSending == 0 {
		s := u.ring.NextSQE()
		if s == nil {
			return false
		}
		u.prepSend(s, c)
	}
	c.flags &^= fDirty
	return true
}

// prepSend sends the head of c's output: one chunk with OpSend, several
// with OpSendmsg.
func (u *uloop) prepSend(s *uring.SQE, c *conn) {
	o, fd := c.out, int(c.fd)
	st := &o.io
	if len(o.bufs) == 1 {
		st.one = o.bufs[0].B[o.head:]
		s.PrepSend(fd, st.one, unix.MSG_NOSIGNAL, ud(opSend, fd, c.gen))
	} else {
		for i, b := range o.bufs[:min(len(o.bufs), maxSendIov)] {
			p := b.B
			if i == 0 {
				p = p[o.head:]
			}
			st.iov = append(st.iov, unix.Iovec{Base: &p[0]})
			st.iov[i].SetLen(len(p))
		}
		st.msg = unix.Msghdr{Iov: &st.iov[0]}
		st.msg.SetIovlen(len(st.iov))
		s.PrepSendmsg(fd, &st.msg, unix.MSG_NOSIGNAL, ud(opSend, fd, c.gen))
	}
	c.flags |= fSending
}

// complete hands every completion to its connection or zombie. It returns
// how many brought input: the loop polls again without blocking after
// input (more usually follows under load), while a turn that only saw its
// own sends complete may go to sleep at once.
func (u *uloop) complete() int {
	input := 0
	for {
		n := u.ring.Reap(u.cqes)
		for i := range n {
			if op, _, _ := splitUD(u.cqes[i].UserData); op == opRecv || op == opRecvmsg {
				input++
			}
			u.dispatch(&u.cqes[i])
		}
		if n < len(u.cqes) {
			return input
		}
	}
}

func (u *uloop) dispatch(cqe *uring.CQE) {
	op, fd, gen := splitUD(cqe.UserData)
	switch op {
	case opWake:
		u.waker.fired()
		return
	case opCancel: // its target reports the outcome
		return
	}
	l := u.l
	if fd >= 0 && fd < len(l.conns) {
		if c := l.conns[fd]; c != nil && c.gen&genMask == gen {
			if op == opSend {
				u.sendDone(c, cqe)
			} else {
				u.received(c, cqe, op == opRecvmsg)
			}
			return
		}
	}
	if z := u.zombies[fd]; z != nil && z.gen&genMask == gen {
		u.zombieDone(fd, z, op, cqe)
		return
	}
	// Not reached while descriptors outlive their operations; a buffer
	// still goes back to the ring.
	u.dropInput(op, cqe)
}

// dropInput gives the buffer of a completion whose data nobody reads back.
func (u *uloop) dropInput(op uint64, cqe *uring.CQE) {
	if cqe.Flags&uring.CQEFBuffer == 0 {
		return
	}
	br := u.bufs
	if op == opRecvmsg {
		br = u.dbufs
	}
	if _, bid, out := br.Consume(cqe); out {
		br.Recycle(bid)
	}
}

// received handles a receive completion of an open connection, stream or
// datagram: the input, taken out of the completion's buffer ring (the
// buffer goes back once the input is handed over or copied), then, on the
// receive's last completion, what ended it.
func (u *uloop) received(c *conn, cqe *uring.CQE, datagram bool) {
	if cqe.Flags&uring.CQEFMore == 0 {
		c.flags &^= fRecv | fCancel
	}
	if cqe.Flags&uring.CQEFBuffer != 0 {
		br := u.bufs
		if datagram {
			br = u.dbufs
		}
		data, bid, out := br.Consume(cqe)
		if datagram {
			u.datagramIn(c, data)
		} else if len(data) > 0 {
			u.streamIn(c, data)
		}
		if out {
			br.Recycle(bid)
		}
	}
	if cqe.Flags&uring.CQEFMore != 0 || c.flags&fClosed != 0 {
		return
	}
	switch res := cqe.Res; {
	case res == -int32(unix.ENOBUFS):
		u.starved(c)
	case res > 0, res == -int32(unix.ECANCELED): // ended after data, or paused: sync decides
		u.want(c)
	case datagram:
		u.datagramEnded(c, res)
	case res == 0:
		u.l.closeConn(c, os.NewSyscallError("read", io.EOF), true)
	default:
		u.l.closeConn(c, os.NewSyscallError("read", unix.Errno(-res)), false)
	}
}

// streamIn hands stream input to OnTraffic, or keeps it while reading is
// paused, or drops it while the connection closes.
func (u *uloop) streamIn(c *conn, data []byte) {
	switch {
	case c.flags&fClosing != 0: // dropped (linger.go says why)
	case c.flags&fPaused != 0: // on its way before the pause: kept for later
		c.lastActive = u.l.now
		if c.in == nil {
			c.in, c.inOff = getBuf(), 0
		}
		c.in.B = append(c.in.B, data...)
		c.flags |= fStash
	default:
		fed(c)
		u.l.deliver(c, data) // OnTraffic's leftovers are copied out of the buffer
	}
}

// starved re-arms a receive that ended because the loop's read budget (its
// buffer ring) ran out this turn. Receives armed earlier in a turn take
// buffers first, so those that got nothing since they were armed are
// re-armed first (hungry), ahead of the connections listed for their output,
// and those that got input (fFed) last: each turn serves first who waited,
// in the order they began waiting (hungryFrom), and no socket, flooding or
// busy writing, can starve the others. The order is by the turn a
// connection first went without, not by its latest miss: a receive re-armed
// first while its socket was empty arms a wait, and when its data comes the
// kernel serves it after the turn's submissions, possibly from an empty
// ring; it keeps its place in line. (sync is idempotent: a connection on
// two lists is synced by the first.)
func (u *uloop) starved(c *conn) {
	if h := testHooks; h != nil {
		h.backlogTurn(u.l)
		h.starved(c, c.flags&fFed != 0)
	}
	switch {
	case c.flags&fFed == 0:
		if c.hungryFrom == 0 {
			c.hungryFrom = u.turn
		}
		c.flags |= fDirty
		u.hungry = append(u.hungry, c)
	case c.flags&fDirty == 0:
		c.flags |= fDirty
		u.later = append(u.later, c)
	}
}

// fed records that c's receive got input since it was armed: it is no
// longer waiting in line (starved).
func fed(c *conn) {
	c.flags |= fFed
	c.hungryFrom = 0
}

// sendDone handles the completion of an open connection's send.
func (u *uloop) sendDone(c *conn, cqe *uring.CQE) {
	l := u.l
	c.flags &^= fSending
	o := c.out
	o.io.clear()
	if cqe.Res < 0 {
		l.closeConn(c, os.NewSyscallError("write", unix.Errno(-cqe.Res)), false)
		return
	}
	if n := int(cqe.Res); n > 0 {
		o.consume(n)
		c.lastActive = l.now
	}
	if o.n > 0 {
		u.want(c) // the socket took part of it: the rest next turn
	}
	l.sent(c)
}

// resume serves c from the backlog: after a pause it hands over the input
// kept meanwhile and re-arms the receive.
func (u *uloop) resume(c *conn) {
	if c.flags&(fClosed|fClosing|fPaused) != 0 {
		return
	}
	if c.flags&fStash != 0 {
		c.flags &^= fStash
		u.l.traffic(c, nil)
	}
	if c.flags&fClosed == 0 {
		u.want(c)
	}
}
