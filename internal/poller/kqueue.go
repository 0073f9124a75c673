//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package poller

import (
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Poller is a kqueue with EV_CLEAR (edge-triggered) filters and a pipe for Wake.
//
// kqueue's udata field is a pointer on most BSDs, where an integer key would
// confuse the garbage collector, so keys live in a table indexed by fd. An
// event fetched just before a Remove and a re-Add of the same fd therefore
// carries the new key: owners treat an event as a hint and check readiness
// with a non-blocking call (they must do so anyway under edge triggering).
type Poller struct {
	kq     int
	wakeR  int
	wakeW  int
	wake   wakeState
	raw    []unix.Kevent_t // Wait's buffer; owned by the goroutine in Wait
	mu     sync.Mutex
	keys   []uint64 // by fd; valid where active[fd]
	active []bool
}

// New opens a poller.
func New() (*Poller, error) {
	kq, err := unix.Kqueue()
	if err != nil {
		return nil, err
	}
	unix.CloseOnExec(kq)
	var fds [2]int
	if err := unix.Pipe(fds[:]); err != nil {
		unix.Close(kq)
		return nil, err
	}
	for _, fd := range fds {
		unix.CloseOnExec(fd)
		unix.SetNonblock(fd, true)
	}
	p := &Poller{kq: kq, wakeR: fds[0], wakeW: fds[1]}
	ch := make([]unix.Kevent_t, 1)
	unix.SetKevent(&ch[0], p.wakeR, unix.EVFILT_READ, unix.EV_ADD|unix.EV_CLEAR)
	if _, err := unix.Kevent(kq, ch, nil, nil); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

func (p *Poller) setKey(fd int, key uint64, on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if fd >= len(p.keys) {
		n := max(2*len(p.keys), fd+1, 64)
		p.keys = append(p.keys, make([]uint64, n-len(p.keys))...)
		p.active = append(p.active, make([]bool, n-len(p.active))...)
	}
	p.keys[fd], p.active[fd] = key, on
}

func (p *Poller) keyOf(fd int) (uint64, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if fd < 0 || fd >= len(p.keys) || !p.active[fd] {
		return 0, false
	}
	return p.keys[fd], true
}

// apply adds the filters in `in` and deletes the others.
func (p *Poller) apply(fd int, in Interest, mustAdd bool) error {
	var ch []unix.Kevent_t
	for _, f := range []struct {
		filter int
		want   bool
	}{{unix.EVFILT_READ, in&Readable != 0}, {unix.EVFILT_WRITE, in&Writable != 0}} {
		var ev unix.Kevent_t
		if f.want {
			flags := unix.EV_ADD | unix.EV_CLEAR | unix.EV_ENABLE
			if in&OneShot != 0 {
				flags |= evOneShot
			}
			unix.SetKevent(&ev, fd, f.filter, flags)
		} else if !mustAdd {
			unix.SetKevent(&ev, fd, f.filter, unix.EV_DELETE)
		} else {
			continue
		}
		ch = append(ch, ev)
	}
	// Apply one change at a time so that deleting a filter that was never
	// added (ENOENT) cannot hide the result of the other change.
	for i := range ch {
		if _, err := unix.Kevent(p.kq, ch[i:i+1], nil, nil); err != nil && !(err == unix.ENOENT && ch[i].Flags&unix.EV_DELETE != 0) {
			return err
		}
	}
	return nil
}

// Add registers fd, edge-triggered, for the given interests.
func (p *Poller) Add(fd int, key uint64, in Interest) error {
	p.setKey(fd, key, true)
	if err := p.apply(fd, in, true); err != nil {
		p.setKey(fd, 0, false)
		return err
	}
	return nil
}

// Modify changes the key and interests of a registered fd, and re-arms a
// OneShot registration.
func (p *Poller) Modify(fd int, key uint64, in Interest) error {
	p.setKey(fd, key, true)
	return p.apply(fd, in, false)
}

// Remove unregisters fd. Call it before closing fd.
func (p *Poller) Remove(fd int) error {
	p.setKey(fd, 0, false)
	return p.apply(fd, 0, false)
}

// Wait blocks until events are ready, Wake is called, or timeout passes
// (timeout < 0: no limit), fills events and returns how many it filled.
// A socket's read and write readiness may come as two Events with one Key.
func (p *Poller) Wait(events []Event, timeout time.Duration) (int, error) {
	if cap(p.raw) < len(events) {
		p.raw = make([]unix.Kevent_t, len(events))
	}
	raw := p.raw[:len(events)]
	var ts *unix.Timespec
	if timeout >= 0 {
		t := unix.NsecToTimespec(int64(timeout))
		ts = &t
	}
	n, err := unix.Kevent(p.kq, nil, raw, ts)
	if err == unix.EINTR {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	out := 0
	for i := range raw[:n] {
		fd := int(raw[i].Ident)
		if fd == p.wakeR {
			var buf [64]byte
			for {
				if n, _ := unix.Read(p.wakeR, buf[:]); n <= 0 {
					break
				}
			}
			p.wake.reset()
			continue
		}
		key, ok := p.keyOf(fd)
		if !ok {
			continue
		}
		ev := Event{Key: key, Hangup: raw[i].Flags&(unix.EV_EOF|unix.EV_ERROR) != 0}
		switch raw[i].Filter {
		case unix.EVFILT_READ:
			ev.Ready = Readable
		case unix.EVFILT_WRITE:
			ev.Ready = Writable
		}
		events[out] = ev
		out++
	}
	return out, nil
}

// Wake makes a Wait in progress (or the next one) return.
func (p *Poller) Wake() error {
	if !p.wake.claim() {
		return nil
	}
	_, err := unix.Write(p.wakeW, []byte{1})
	if err == unix.EAGAIN {
		err = nil
	}
	return err
}

// Fd returns the kqueue descriptor. It is readable while events are ready.
// The Poller keeps owning it.
func (p *Poller) Fd() int { return p.kq }

// Close releases the poller's descriptors. The owner calls it after its last Wait.
func (p *Poller) Close() error {
	unix.Close(p.wakeR)
	unix.Close(p.wakeW)
	return unix.Close(p.kq)
}
