//go:build linux

package gnet

import (
	"encoding/binary"
	"io"
	"os"
	"sync/atomic"
	"syscall"
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
	started bool            // the ring is enabled (start ran)
	drained bool
}

// zombie is a finished connection whose operations are still in flight.
type zombie struct {
	gen      uint32
	out      *outbound // output a send in flight reads
	recv     bool      // a receive is armed
	send     bool      // a send is in flight
	cancel   bool      // its operations are being cancelled
	linger   bool      // lingering: receive (and drop) until the peer's end of stream
	lingered bool      // it lingered: drop the last input before close(2)
	keep     bool      // the descriptor is someone else's (a UDP listener's): not closed here
	dirty    bool
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
	if err := r.Probe(uring.OpRecv, uring.OpSend, uring.OpSendmsg, uring.OpAccept,
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

// sqe returns a free SQE, submitting what is prepared when the queue is
// full; nil if the kernel takes nothing now (the caller retries next turn).
func (u *uloop) sqe() *uring.SQE {
	if s := u.ring.GetSQE(); s != nil {
		return s
	}
	if u.ring.Submit() != nil {
		return nil
	}
	return u.ring.GetSQE()
}

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
		u.waker.arm(u, ud(opWake, 0, 0))
	}
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
		s := u.sqe()
		if s == nil {
			return false
		}
		s.PrepRecvMultishot(fd, u.bufs.Group(), ud(opRecv, fd, c.gen))
		c.flags = c.flags&^fFed | fRecv
	case c.flags&(fPaused|fRecv|fCancel) == fPaused|fRecv:
		s := u.sqe()
		if s == nil {
			return false
		}
		s.PrepCancel(ud(opRecv, fd, c.gen), 0, ud(opCancel, fd, c.gen))
		c.flags |= fCancel
	}
	if c.out != nil && c.out.n > 0 && c.flags&fSending == 0 {
		s := u.sqe()
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

// complete hands every completion to its connection or zombie.
func (u *uloop) complete() int {
	total := 0
	for {
		n := u.ring.Reap(u.cqes)
		for i := range n {
			u.dispatch(&u.cqes[i])
		}
		total += n
		if n < len(u.cqes) {
			return total
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
			switch op {
			case opRecv:
				u.received(c, cqe)
			case opRecvmsg:
				u.receivedDatagram(c, cqe)
			default:
				u.sendDone(c, cqe)
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

// received handles a receive completion of an open connection.
func (u *uloop) received(c *conn, cqe *uring.CQE) {
	l := u.l
	more := cqe.Flags&uring.CQEFMore != 0
	if !more {
		c.flags &^= fRecv | fCancel
	}
	if cqe.Flags&uring.CQEFBuffer != 0 {
		data, bid, out := u.bufs.Consume(cqe)
		if len(data) > 0 {
			switch {
			case c.flags&fClosing != 0: // dropped (linger.go says why)
			case c.flags&fPaused != 0: // on its way before the pause: kept for later
				c.lastActive = l.now
				if c.in == nil {
					c.in, c.inOff = getBuf(), 0
				}
				c.in.B = append(c.in.B, data...)
				c.flags |= fStash
			default:
				c.flags |= fFed
				l.deliver(c, data) // OnTraffic's leftovers are copied out of the buffer
			}
		}
		if out {
			u.bufs.Recycle(bid)
		}
	}
	if more || c.flags&fClosed != 0 {
		return
	}
	switch res := cqe.Res; {
	case res > 0, res == -int32(unix.ECANCELED): // ended after data, or paused: sync decides
		u.want(c)
	case res == -int32(unix.ENOBUFS):
		u.starved(c)
	case res == 0:
		l.closeConn(c, os.NewSyscallError("read", io.EOF), true)
	default:
		l.closeConn(c, os.NewSyscallError("read", unix.Errno(-res)), false)
	}
}

// starved re-arms a receive that ended because the loop's read budget (its
// buffer ring) ran out this turn. Receives armed earlier in a turn take
// buffers first, so those that got nothing since they were armed are
// re-armed first (hungry), ahead of the connections listed for their output,
// and those that got input (fFed) last: each turn serves first who waited,
// in the order they waited, and no socket, flooding or busy writing, can
// starve the others. (sync is idempotent: a connection on two lists is
// synced by the first.)
func (u *uloop) starved(c *conn) {
	if h := testHooks; h != nil {
		h.backlogTurn(u.l)
		h.starved(c, c.flags&fFed != 0)
	}
	switch {
	case c.flags&fFed == 0:
		c.flags |= fDirty
		u.hungry = append(u.hungry, c)
	case c.flags&fDirty == 0:
		c.flags |= fDirty
		u.later = append(u.later, c)
	}
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

// retire turns a finished connection into a zombie until its operations
// end: with fin it sends a FIN and lingers, else its operations are
// cancelled.
func (u *uloop) retire(c *conn, fin bool) {
	fd := int(c.fd)
	z := &zombie{gen: c.gen, recv: c.flags&fRecv != 0, send: c.flags&fSending != 0,
		cancel: c.flags&fCancel != 0 && !fin}
	if z.send {
		z.out, c.out = c.out, nil
	}
	c.flags &^= fRecv | fSending | fCancel | fStash
	if fin {
		sockShutdownWrite(fd)
		z.linger = true
		u.l.addLinger(fd, c.gen)
	}
	u.zombies[fd] = z
	u.zwant(fd, z)
}

func (u *uloop) zwant(fd int, z *zombie) {
	if !z.dirty {
		z.dirty = true
		u.zdirty = append(u.zdirty, fd)
	}
}

// zsync submits what a zombie needs: a receive while it lingers, the
// cancellation of everything once it does not. An idle zombie is closed.
func (u *uloop) zsync(fd int) bool {
	z := u.zombies[fd]
	if z == nil {
		return true
	}
	switch {
	case z.linger && !z.recv:
		s := u.sqe()
		if s == nil {
			return false
		}
		s.PrepRecvMultishot(fd, u.bufs.Group(), ud(opRecv, fd, z.gen))
		z.recv = true
	case !z.linger && (z.recv || z.send) && !z.cancel:
		s := u.sqe()
		if s == nil {
			return false
		}
		s.PrepCancelFd(fd, ud(opCancel, fd, z.gen))
		z.cancel = true
	}
	z.dirty = false
	u.zclose(fd, z)
	return true
}

// zombieDone handles a completion of a zombie: input is dropped, a send's
// output is freed, a lingering receive that ends with the peer's end of
// stream (or an error) ends the linger.
func (u *uloop) zombieDone(fd int, z *zombie, op uint64, cqe *uring.CQE) {
	if h := testHooks; h != nil && cqe.Res > 0 && op != opSend {
		h.zombieInput.Add(1)
	}
	u.dropInput(op, cqe)
	if op == opSend {
		z.send = false
		z.out.io.clear()
		z.out.free()
		z.out = nil
	} else if cqe.Flags&uring.CQEFMore == 0 {
		z.recv = false
		if z.linger {
			switch res := cqe.Res; {
			case res > 0, res == -int32(unix.ENOBUFS), res == -int32(unix.ECANCELED):
				u.zwant(fd, z) // still lingering: receive again
			default: // end of stream or an error: nothing more will come
				u.l.endLinger(fd) // calls unlinger
				return
			}
		}
	}
	u.zclose(fd, z)
}

// forget cancels the receive of a UDP listener's socket, which the
// listener closes (after the loop has drained).
func (u *uloop) forget(s *conn) {
	fd := int(s.fd)
	z := &zombie{gen: s.gen, recv: s.flags&fRecv != 0, keep: true}
	s.flags = s.flags&^(fRecv|fCancel) | fClosed
	u.zombies[fd] = z
	u.zwant(fd, z)
}

// unlinger ends fd's linger (the peer ended its stream, lingerTimeout
// passed, or the loop exits).
func (u *uloop) unlinger(fd int) {
	if z := u.zombies[fd]; z != nil {
		z.linger, z.lingered = false, true
		u.zwant(fd, z)
	}
}

// zclose closes an idle zombie's descriptor.
func (u *uloop) zclose(fd int, z *zombie) {
	if z.recv || z.send || z.linger || z.dirty {
		return
	}
	delete(u.zombies, fd)
	if z.keep {
		return
	}
	if z.lingered {
		u.l.dropInput(fd) // what came last: close(2) then sends no reset
	}
	sockClose(fd)
}

// drain runs when the loop exits, after every connection finished: it ends
// the lingers, cancels every operation and waits (bounded) for their last
// completions, so that no descriptor closes and no buffer is unmapped
// under a pending operation.
func (u *uloop) drain() {
	if !u.started || u.drained {
		return
	}
	u.drained = true
	for fd := range u.l.lingering {
		u.l.endLinger(fd)
	}
	if s := u.sqe(); s != nil {
		s.PrepCancel(0, uring.CancelAny|uring.CancelAll, ud(opCancel, 0, 0))
	}
	deadline := time.Now().Add(drainTimeout)
	for (len(u.zombies) > 0 || u.waker.armed) && time.Now().Before(deadline) {
		if u.enter(100*time.Millisecond) != nil {
			break
		}
		u.complete()
	}
	for fd, z := range u.zombies { // a kernel that never answered
		u.l.eng.logf("warn", "gnet: io_uring: descriptor %d still busy at exit", fd)
		z.out = nil // never reused: a late send may still read it
		delete(u.zombies, fd)
		if !z.keep {
			sockClose(fd)
		}
	}
}

func (u *uloop) close() {
	if u.ring == nil {
		return
	}
	u.ring.Close()
	u.bufs.Close()
	if u.dbufs != nil {
		u.dbufs.Close()
	}
	u.waker.close()
	u.ring, u.bufs, u.dbufs = nil, nil, nil
}

// ringWaker is an eventfd that other goroutines write to make a ring's
// blocked io_uring_enter return: the ring keeps a read of it in flight.
// As the poller's Wake does, it writes once until that read completes.
type ringWaker struct {
	fd      int
	buf     []byte // the read's target: on the heap, referenced here
	claimed atomic.Bool
	armed   bool // a read is in flight (owner's goroutine only)
}

func newRingWaker() (*ringWaker, error) {
	fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return nil, os.NewSyscallError("eventfd", err)
	}
	return &ringWaker{fd: fd, buf: make([]byte, 8)}, nil
}

func (w *ringWaker) wake() error {
	if !w.claimed.CompareAndSwap(false, true) {
		return nil
	}
	_, err := unix.Write(w.fd, []byte{1, 0, 0, 0, 0, 0, 0, 0})
	if err == unix.EAGAIN { // counter full: a wake-up is pending anyway
		err = nil
	}
	return err
}

// arm puts the read in flight if it is not.
func (w *ringWaker) arm(s interface{ sqe() *uring.SQE }, userData uint64) {
	if w.armed {
		return
	}
	if q := s.sqe(); q != nil {
		q.PrepRead(w.fd, w.buf, userData)
		w.armed = true
	}
}

// fired handles the read's completion: wake-ups are allowed again.
func (w *ringWaker) fired() {
	w.armed = false
	w.claimed.Store(false)
}

func (w *ringWaker) close() {
	if w.fd >= 0 {
		unix.Close(w.fd)
		w.fd = -1
	}
}

// datagramBuffers is the number of buffers of the datagram ring: the most
// datagrams the loop takes in one turn. Each holds a header, the sender's
// address and ReadBufferCap bytes of payload (larger datagrams are dropped,
// as on the poller); a small datagram touches only the first page of its
// buffer.
const datagramBuffers = 16

// syncDatagram arms a UDP socket's receive: each datagram arrives whole in
// a buffer of its own, with its sender.
func (u *uloop) syncDatagram(c *conn) bool {
	if c.flags&fRecv == 0 {
		if u.dbufs == nil {
			size := (16 + int(u.dmsg.Namelen) + u.l.eng.opts.ReadBufferCap + 7) &^ 7
			br, err := u.ring.NewBufRing(1, datagramBuffers, size, false)
			if err != nil {
				u.l.eng.fail(err)
				c.flags &^= fDirty
				return true
			}
			u.dbufs = br
		}
		s := u.sqe()
		if s == nil {
			return false
		}
		fd := int(c.fd)
		s.PrepRecvmsgMultishot(fd, &u.dmsg, u.dbufs.Group(), ud(opRecvmsg, fd, c.gen))
		c.flags = c.flags&^fFed | fRecv
	}
	c.flags &^= fDirty
	return true
}

// receivedDatagram handles a datagram receive's completion: a UDP
// listener's socket or a connected UDP connection.
func (u *uloop) receivedDatagram(c *conn, cqe *uring.CQE) {
	l := u.l
	more := cqe.Flags&uring.CQEFMore != 0
	if !more {
		c.flags &^= fRecv | fCancel
	}
	if cqe.Flags&uring.CQEFBuffer != 0 {
		data, bid, out := u.dbufs.Consume(cqe)
		if o, name, payload, ok := uring.ParseRecvmsg(data, &u.dmsg); ok && c.flags&fClosing == 0 {
			if o.Flags&unix.MSG_TRUNC != 0 {
				l.dropOversized(c, int(o.Payloadlen))
			} else {
				c.flags |= fFed
				l.deliverDatagram(c, payload, rawSockaddr(name))
			}
		}
		if out {
			u.dbufs.Recycle(bid)
		}
	}
	if more || c.flags&fClosed != 0 {
		return
	}
	switch res := cqe.Res; {
	case res >= 0, res == -int32(unix.ECANCELED):
		u.want(c)
	case res == -int32(unix.ENOBUFS):
		u.starved(c)
	case c.flags&fListening != 0:
		// An error queued on an unconnected socket concerns one send, not
		// the socket: receiving it cleared it.
		l.eng.logf("debug", "gnet: udp recv on %v: %v", c.ad.laddr, unix.Errno(-res))
		u.want(c)
	default: // a connected socket's peer is unreachable
		l.closeConn(c, os.NewSyscallError("read", unix.Errno(-res)), false)
	}
}

// rawSockaddr decodes the sender address a datagram receive wrote.
func rawSockaddr(b []byte) syscall.Sockaddr {
	if len(b) < 2 {
		return nil
	}
	switch binary.NativeEndian.Uint16(b) {
	case unix.AF_INET:
		if len(b) >= 8 {
			sa := &syscall.SockaddrInet4{Port: int(b[2])<<8 | int(b[3])}
			copy(sa.Addr[:], b[4:8])
			return sa
		}
	case unix.AF_INET6:
		if len(b) >= 28 {
			sa := &syscall.SockaddrInet6{Port: int(b[2])<<8 | int(b[3]), ZoneId: binary.NativeEndian.Uint32(b[24:28])}
			copy(sa.Addr[:], b[8:24])
			return sa
		}
	}
	return nil
}
