//go:build linux

package gnet

import (
	"time"

	"golang.org/x/sys/unix"

	"github.com/pollnet/pollnet/internal/uring"
)

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

// retire turns a finished connection into a zombie until its operations
// end: with fin it sends a FIN and lingers, else its operations are
// cancelled.
func (u *uloop) retire(c *conn, fin bool) {
	fd := int(c.fd)
	// A pending cancellation of the receive (a pause) does not count: the
	// zombie cancels everything on its descriptor, the send too.
	z := &zombie{gen: c.gen, recv: c.flags&fRecv != 0, send: c.flags&fSending != 0}
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
		s := u.ring.NextSQE()
		if s == nil {
			return false
		}
		s.PrepRecvMultishot(fd, u.bufs.Group(), ud(opRecv, fd, z.gen))
		z.recv = true
	case !z.linger && (z.recv || z.send) && !z.cancel:
		s := u.ring.NextSQE()
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
	if s := u.ring.NextSQE(); s != nil {
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
