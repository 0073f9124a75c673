//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package gnet

import (
	"time"

	"golang.org/x/sys/unix"
)

// Closing a TCP socket whose receive queue holds unread bytes makes the
// kernel answer with a reset, which also throws away output still in the
// send queue: the peer loses the end of what we wrote. So input is dropped
// while a closing connection's output drains, and after the FIN the socket
// lingers: the loop keeps dropping what the peer still sends, and closes
// the descriptor once the peer's own end of stream arrives (it has read
// everything) or lingerTimeout passes. Lingering sockets are no longer
// connections: OnClose has fired, CountConnections does not count them, and
// they hold no buffer, only an entry in l.lingering and one in l.lingerQ.

// lingerTimeout bounds how long a closed connection's socket waits for the
// peer's end of stream.
const lingerTimeout = 2 * time.Second

// dropLimit is the most input dropped per event for one socket; a peer
// that keeps sending raises new edges, and lingerTimeout ends it.
const dropLimit = 1 << 20

// lingerEntry is a lingering socket's record; lingerQ holds the same with
// the descriptor, in order of deadline (every linger has the same length).
type lingerEntry struct {
	gen   uint32
	until int64
}

type lingerDue struct {
	fd int
	lingerEntry
}

// dropInput reads and discards fd's input until EAGAIN or dropLimit. ended
// reports the peer's end of stream or an error: nothing more can arrive.
func (l *eventloop) dropInput(fd int) (ended bool) {
	if l.drain == nil {
		l.drain = make([]byte, 64<<10) // not l.buf: an OnTraffic in progress may hold it
	}
	for dropped := 0; dropped < dropLimit; {
		n, err := sockRead(fd, l.drain)
		switch {
		case n > 0:
			dropped += n
		case err == unix.EAGAIN:
			return false
		default: // end of stream or error
			return true
		}
	}
	return false
}

// linger takes over fd, still registered on the poller with gen, after its
// connection closed with a FIN. It closes fd at once if the peer has
// already ended its stream.
func (l *eventloop) linger(fd int, gen uint32) {
	if l.dropInput(fd) {
		l.p.Remove(fd)
		sockClose(fd)
		return
	}
	l.addLinger(fd, gen)
}

// addLinger records fd as lingering under gen until lingerTimeout from now.
func (l *eventloop) addLinger(fd int, gen uint32) {
	if l.lingering == nil {
		l.lingering = make(map[int]lingerEntry)
	}
	e := lingerEntry{gen: gen, until: l.now + int64(lingerTimeout)}
	l.lingering[fd] = e
	l.lingerQ = append(l.lingerQ, lingerDue{fd, e})
}

// lingerEvent handles a poller event for fd, which has no connection: if fd
// lingers under this generation, its input is dropped, and it is closed
// once the peer's stream has ended.
func (l *eventloop) lingerEvent(fd int, gen uint32) {
	if e, ok := l.lingering[fd]; ok && e.gen == gen && l.dropInput(fd) {
		l.endLinger(fd)
	}
}

func (l *eventloop) endLinger(fd int) {
	delete(l.lingering, fd)
	if l.ur != nil {
		l.ur.unlinger(fd)
		return
	}
	l.p.Remove(fd)
	sockClose(fd)
}

// expireLingers closes the sockets whose linger time is up.
func (l *eventloop) expireLingers() {
	for len(l.lingerQ) > 0 && l.lingerQ[0].until <= l.now {
		d := l.lingerQ[0]
		l.lingerQ = l.lingerQ[1:]
		if e, ok := l.lingering[d.fd]; ok && e == d.lingerEntry {
			l.dropInput(d.fd) // whatever came last: close(2) then sends no reset
			l.endLinger(d.fd)
		}
	}
	if len(l.lingerQ) == 0 {
		l.lingerQ = l.lingerQ[:0:0] // let the drained array go
	}
}

// nextLingerExpiry is the earliest linger deadline, 0 if none.
func (l *eventloop) nextLingerExpiry() int64 {
	if len(l.lingerQ) == 0 {
		return 0
	}
	return l.lingerQ[0].until
}

// closeLingering closes every lingering socket; the loop is exiting.
func (l *eventloop) closeLingering() {
	for fd := range l.lingering {
		sockClose(fd)
	}
	l.lingering, l.lingerQ = nil, nil
}
