//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package gnet

import (
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pollnet/pollnet/internal/poller"
)

// eventloop owns a poller, the sockets registered on it (connections, and
// the sockets of UDP listeners), a read buffer, a timer heap and a task
// queue. Everything except the task queue, count, load and stopReq is
// touched only by the loop's goroutine.
//
// A connection's life on its loop:
//
//	open: registered on the poller, in conns, counted; OnOpen fires (fOpen).
//	closeConn: graceful with output pending, it stops reading and drains
//	  (fClosing); otherwise, or once drained, endConn.
//	endConn: out of conns and the timer heap, uncounted, OnClose fires,
//	  then FIN and linger (linger.go) or close(2) (fClosed).
type eventloop struct {
	idx    int
	eng    *engine
	h      EventHandler
	p      *poller.Poller
	buf    []byte       // the read buffer shared by all connections of the loop
	conns  []*conn      // by fd; nil where the loop has no socket
	count  atomic.Int32 // open connections (CountConnections)
	load   atomic.Int32 // connections assigned, opened or on their way (LeastConnections)
	gen    uint32       // last generation handed out; a key is MakeKey(fd, gen)
	events []poller.Event
	now    int64 // wall clock in ns, refreshed after every Wait
	budget int   // bytes one connection may read per turn

	// ur is the io_uring backend (completion.go); then p, buf and events
	// are nil.
	ur ringLoop

	// cur is the data of the read being delivered to curConn's OnTraffic when
	// that connection has no saved input; it aliases buf (io_uring: a provided buffer).
	cur     []byte
	curConn *conn

	// backlog holds sockets that may still have unread input but got no
	// new edge: cut off by the budget, or resumed after a backpressure pause.
	backlog, backlog2 []*conn
	timers            timerHeap
	iov               [][]byte // scratch for writev
	drain             []byte   // scratch for input dropped at close (linger.go)
	oversized         int      // datagrams dropped for not fitting buf

	// lingering: sockets of closed connections waiting for the peer's end
	// of stream (linger.go), by fd; lingerQ: the same in deadline order.
	lingering map[int]lingerEntry
	lingerQ   []lingerDue

	stopReq atomic.Bool
	qmu     sync.Mutex
	q, q2   []func()
	qClosed bool        // no more tasks accepted; guarded by qmu
	queued  atomic.Bool // q may be non-empty; set under qmu by post
}

func newEventLoop(eng *engine, idx int) (*eventloop, error) {
	budget := eng.opts.ReadBufferCap
	if eng.opts.EdgeTriggeredIO {
		budget = max(eng.opts.EdgeTriggeredIOChunk, budget)
	}
	l := &eventloop{
		idx:    idx,
		eng:    eng,
		h:      eng.handler,
		budget: budget,
		now:    time.Now().UnixNano(),
		timers: newTimerHeap(),
	}
	var err error
	if eng.backend == BackendIOUring {
		l.ur, err = newRingLoop(l)
		return l, err
	}
	if l.p, err = poller.New(); err != nil {
		return nil, err
	}
	l.buf = make([]byte, eng.opts.ReadBufferCap)
	l.events = make([]poller.Event, 256)
	return l, nil
}

// post queues fn to run on the loop. It fails once the loop has exited, so a
// caller never waits for a task that will not run.
func (l *eventloop) post(fn func()) error {
	l.qmu.Lock()
	if l.qClosed {
		l.qmu.Unlock()
		return ErrEngineInShutdown
	}
	l.q = append(l.q, fn)
	l.queued.Store(true)
	// Wake under the lock: exit sets qClosed under it before the poller is
	// closed, so a Wake can never hit a closed (possibly reused) descriptor.
	err := l.wakeup()
	l.qmu.Unlock()
	return err
}

func (l *eventloop) runTasks() {
	if !l.queued.Load() { // the common case: no lock
		return
	}
	l.qmu.Lock()
	l.queued.Store(false)
	q := l.q
	l.q, l.q2 = l.q2[:0], nil
	l.qmu.Unlock()
	for i, fn := range q {
		fn()
		q[i] = nil
	}
	l.qmu.Lock()
	if l.q2 == nil {
		l.q2 = q[:0]
	}
	l.qmu.Unlock()
}

func (l *eventloop) requestStop() {
	l.stopReq.Store(true)
	l.wakeup()
}

func (l *eventloop) run() {
	if l.eng.opts.LockOSThread || l.ur != nil { // io_uring: one issuer thread
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if l.eng.opts.CPUAffinity && l.eng.opts.LockOSThread {
			setAffinity(l.idx % runtime.NumCPU())
		}
	}
	if l.ur != nil {
		if err := l.ur.start(); err != nil {
			l.eng.fail(err)
			l.exit()
			return
		}
	}
	// busy: the last Wait returned events. Then the next Wait does not block
	// (under load more events are usually ready, and a non-blocking poll
	// avoids parking the thread in the kernel); when it finds nothing, the
	// loop yields once to other goroutines and then blocks. gnet v2's
	// loops do the same.
	busy := false
	for !l.stopReq.Load() {
		timeout := time.Duration(-1)
		if busy || len(l.backlog) > 0 {
			timeout = 0
		} else if next := l.nextExpiry(); next != 0 {
			timeout = max(0, time.Duration(next-time.Now().UnixNano()))
		}
		var n int
		var err error
		if l.ur != nil {
			err = l.ur.enter(timeout)
		} else {
			n, err = l.p.Wait(l.events, timeout)
		}
		if err != nil {
			l.eng.fail(err)
			break
		}
		l.now = time.Now().UnixNano()
		if l.ur != nil {
			n = l.ur.complete()
		} else {
			for i := range n {
				l.dispatch(l.events[i])
			}
		}
		l.runTasks()
		l.serveBacklog()
		l.fireTimers()
		l.expireLingers()
		if n > 0 {
			busy = true
		} else if busy {
			busy = false
			if l.ur == nil { // a locked thread (io_uring) would hand its P over and back
				runtime.Gosched()
			}
		}
	}
	l.exit()
}

// exit closes every connection (OnClose fires for each, with a nil error as
// in gnet v2), then runs the tasks still queued so that their callbacks see
// net.ErrClosed instead of never running. UDP listener sockets are
// unregistered (their listener closes them).
func (l *eventloop) exit() {
	l.endAll()
	for {
		l.qmu.Lock()
		q := l.q
		l.q = nil
		if len(q) == 0 {
			l.qClosed = true
		}
		l.qmu.Unlock()
		if len(q) == 0 {
			break
		}
		for _, fn := range q {
			fn()
		}
		l.endAll()
	}
	for _, c := range l.conns {
		if c != nil && c.flags&fListening != 0 {
			l.dropDatagramSocket(c)
		}
	}
	if l.ur != nil {
		l.ur.drain() // ends the lingers too
	}
	l.closeLingering()
	l.backlog, l.backlog2, l.conns = nil, nil, nil
	l.timers.Clear()
}

// endAll ends every open connection.
func (l *eventloop) endAll() {
	for _, c := range l.conns {
		if c != nil && c.flags&fListening == 0 {
			l.endConn(c, nil)
		}
	}
}

// nextExpiry is the loop's next deadline (a timer or a linger), 0 if none.
func (l *eventloop) nextExpiry() int64 {
	next := l.nextLingerExpiry()
	if when, _, ok := l.timers.Min(); ok && (next == 0 || when < next) {
		next = when
	}
	return next
}

func (l *eventloop) dispatch(ev poller.Event) {
	fd, gen := poller.SplitKey(ev.Key)
	if fd < 0 || fd >= len(l.conns) {
		return
	}
	c := l.conns[fd]
	if c == nil {
		l.lingerEvent(fd, gen) // or a stale event for a closed fd
		return
	}
	if c.gen != gen { // stale event for a closed fd whose number is reused
		return
	}
	if c.isDatagram() {
		if ev.Ready&poller.Readable != 0 {
			l.readDatagrams(c)
		}
		return
	}
	if ev.Hangup {
		c.flags |= fHup
	}
	if ev.Ready&poller.Writable != 0 && c.out != nil {
		l.flush(c)
		if c.flags&fClosed != 0 {
			return
		}
	}
	if ev.Ready&poller.Readable != 0 {
		l.read(c)
		// A closing connection's hangup is noticed by the next write.
		if c.flags&(fClosing|fClosed|fHup) == fClosing|fHup && c.out != nil {
			l.flush(c)
		}
	}
}

// read reads from stream c until EAGAIN, a short read (the receive queue
// was empty at that moment, so new data will raise a new edge), or the
// budget runs out. A connection cut off by the budget goes to the backlog,
// because the edge it had is consumed and no new one may come. A closing
// connection's input is dropped instead (linger.go says why).
func (l *eventloop) read(c *conn) {
	if l.ur != nil {
		l.ur.resume(c)
		return
	}
	budget := l.budget
	for {
		if c.flags&fClosed != 0 {
			return
		}
		if c.flags&fClosing != 0 {
			if l.dropInput(int(c.fd)) {
				c.flags |= fHup // the peer is gone or done: the next write tells
			}
			return
		}
		if c.flags&fPaused != 0 {
			return // resumed through the backlog once output drains
		}
		n, err := sockRead(int(c.fd), l.buf)
		if n > 0 {
			l.deliver(c, l.buf[:n])
			if n < len(l.buf) && c.flags&fHup == 0 {
				return
			}
			if budget -= n; budget <= 0 {
				l.toBacklog(c)
				return
			}
			continue
		}
		switch {
		case err == nil: // n == 0: end of stream. Deliver pending output first.
			l.closeConn(c, os.NewSyscallError("read", io.EOF), true)
		case err == unix.EAGAIN:
		default:
			l.closeConn(c, os.NewSyscallError("read", err), false)
		}
		return
	}
}

func (l *eventloop) toBacklog(c *conn) {
	if c.flags&fInBacklog == 0 {
		c.flags |= fInBacklog
		l.backlog = append(l.backlog, c)
	}
}

// serveBacklog gives each remembered socket one more turn.
func (l *eventloop) serveBacklog() {
	if len(l.backlog) == 0 {
		return
	}
	bl := l.backlog
	l.backlog = l.backlog2[:0]
	for i, c := range bl {
		bl[i] = nil
		c.flags &^= fInBacklog
		if c.flags&fClosed != 0 {
			continue
		}
		if testHooks != nil {
			testHooks.backlogTurn(l)
		}
		if c.isDatagram() {
			l.readDatagrams(c)
		} else {
			l.read(c)
		}
	}
	l.backlog2 = bl[:0]
}

// deliver hands data to OnTraffic. If c holds unread input from earlier,
// data is appended to it so that Peek and Next always see one contiguous
// slice; otherwise OnTraffic reads straight from the loop's buffer and only
// what it leaves unread is copied into a pooled buffer.
func (l *eventloop) deliver(c *conn, data []byte) {
	c.lastActive = l.now
	if c.in != nil {
		c.in.B = append(c.in.B, data...)
		data = nil
	}
	l.traffic(c, data)
}

// traffic calls OnTraffic with cur as the connection's fresh input. What a
// stream's OnTraffic leaves unread is kept for the next event; what is left
// of a datagram is dropped.
func (l *eventloop) traffic(c *conn, cur []byte) {
	l.cur, l.curConn = cur, c
	action := l.h.OnTraffic(c)
	if l.curConn == c && len(l.cur) > 0 && c.flags&fClosed == 0 && !c.isDatagram() {
		c.in = getBuf()
		c.in.B = append(c.in.B, l.cur...)
		c.inOff = 0
	}
	l.cur, l.curConn = nil, nil
	c.tidyInbound()
	l.handleAction(c, action)
}

func (l *eventloop) handleAction(c *conn, a Action) {
	switch a {
	case Close:
		l.closeConn(c, nil, true)
	case Shutdown:
		l.eng.requestShutdown()
	}
}

// setConn puts c in the fd table, growing it as needed.
func (l *eventloop) setConn(fd int, c *conn) {
	if fd >= len(l.conns) {
		l.conns = append(l.conns, make([]*conn, max(fd+1, 2*len(l.conns), 64)-len(l.conns))...)
	}
	l.conns[fd] = c
}

// open registers a new connection and fires OnOpen. It runs on the loop.
func (l *eventloop) open(c *conn) error {
	fd := int(c.fd)
	if l.stopReq.Load() {
		l.load.Add(-1)
		sockClose(fd)
		return ErrEngineInShutdown
	}
	l.gen++
	if l.gen == 0 {
		l.gen = 1
	}
	c.gen = l.gen
	if l.ur != nil {
		l.ur.open(c)
	} else if err := l.p.Add(fd, poller.MakeKey(fd, c.gen), poller.Readable); err != nil {
		l.load.Add(-1)
		sockClose(fd)
		return err
	}
	l.setConn(fd, c)
	l.count.Add(1)
	c.flags |= fOpen
	c.lastActive = l.now
	l.schedule(c)
	out, action := l.h.OnOpen(c)
	if len(out) > 0 && c.flags&fClosed == 0 {
		c.Write(out)
	}
	if c.flags&fClosed == 0 {
		l.handleAction(c, action)
	}
	return nil
}

// closeConn closes c. With graceful set and no error, pending output is
// delivered first (the connection stops reading and waits for its output to
// drain); the error, if any, is kept for OnClose. Only open connections
// close: a UDP listener's socket and the datagrams it yields are not
// connections.
func (l *eventloop) closeConn(c *conn, err error, graceful bool) {
	if c.flags&fOpen == 0 {
		return
	}
	if c.flags&(fClosed|fClosing) != 0 {
		if c.flags&fClosing != 0 && !graceful { // a write failed while flushing
			l.endConn(c, err)
		}
		return
	}
	if graceful && c.out != nil && c.out.n > 0 {
		l.flush(c)
		if c.flags&fClosed != 0 {
			return
		}
		if c.out != nil {
			c.flags |= fClosing
			c.ext().closeErr = err
			l.toBacklog(c) // drop input already queued: no new edge may come
			return
		}
	}
	l.endConn(c, err)
}

// endConn really closes c: OnClose, then FIN after the output and linger
// (TCP), or close(2).
func (l *eventloop) endConn(c *conn, err error) {
	if c.flags&fClosed != 0 {
		return
	}
	if c.flags&fClosing != 0 && err == nil {
		err = c.x.closeErr
	}
	// Best effort (shutdown, deadlines): no blocking, and never behind a
	// send in flight (io_uring), whose bytes come first.
	if c.out != nil && err == nil && c.flags&fSending == 0 {
		if c.writeOut(l) == nil && c.out.n == 0 {
			c.releaseOutbound()
		}
	}
	c.flags |= fClosed
	fd := int(c.fd)
	l.conns[fd] = nil
	l.count.Add(-1)
	l.load.Add(-1)
	l.unschedule(c)
	action := l.h.OnClose(c, err)
	c.retireFd()
	fin := err == nil && c.out == nil && c.ad.kind == kindTCP
	if l.ur != nil {
		l.ur.retire(c, fin) // takes c.out if a send still reads it
	} else if fin {
		// Output is complete: FIN, then linger until the peer has read it.
		sockShutdownWrite(fd)
		l.linger(fd, c.gen)
	} else {
		l.p.Remove(fd)
		sockClose(fd)
	}
	if l.curConn != c { // OnTraffic of c may still hold slices of c.in
		c.releaseInbound()
	}
	c.releaseOutbound()
	c.ctx = nil
	var cbs []AsyncCallback
	if c.x != nil {
		cbs = c.x.closeCbs
		c.x = nil
	}
	// As in gnet v2, CloseWithCallback's callback learns that OnClose asked
	// for a shutdown.
	var cbErr error
	if action == Shutdown {
		cbErr = ErrEngineShutdown
	}
	for _, cb := range cbs {
		cb(c, cbErr)
	}
	l.handleAction(c, action)
}
