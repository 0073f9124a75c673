//go:build linux

package poller

import (
	"time"

	"golang.org/x/sys/unix"
)

// Poller is an edge-triggered epoll instance plus an eventfd for Wake.
type Poller struct {
	epfd   int
	wakefd int
	wake   wakeState
	raw    []unix.EpollEvent // Wait's buffer; owned by the goroutine in Wait
}

// wakeKey marks the eventfd's registration. No caller key can equal it: a
// caller's fd is at most 2^31-1, so its top 32 bits never reach 0xffffffff.
const wakeKey = ^uint64(0)

// New opens a poller.
func New() (*Poller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	wfd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return nil, err
	}
	p := &Poller{epfd: epfd, wakefd: wfd}
	ev := unix.EpollEvent{Events: unix.EPOLLIN}
	setKey(&ev, wakeKey)
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wfd, &ev); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// setKey stores k in the event's 8-byte data field (Fd and Pad on amd64/arm64;
// the field is a union in the kernel's struct).
func setKey(ev *unix.EpollEvent, k uint64) {
	ev.Fd = int32(uint32(k))
	ev.Pad = int32(uint32(k >> 32))
}

func getKey(ev *unix.EpollEvent) uint64 {
	return uint64(uint32(ev.Pad))<<32 | uint64(uint32(ev.Fd))
}

func epollEvents(in Interest) uint32 {
	ev := uint32(unix.EPOLLET | unix.EPOLLRDHUP)
	if in&Readable != 0 {
		ev |= unix.EPOLLIN
	}
	if in&Writable != 0 {
		ev |= unix.EPOLLOUT
	}
	if in&OneShot != 0 {
		ev |= unix.EPOLLONESHOT
	}
	return ev
}

// Add registers fd, edge-triggered, for the given interests.
func (p *Poller) Add(fd int, key uint64, in Interest) error {
	ev := unix.EpollEvent{Events: epollEvents(in)}
	setKey(&ev, key)
	return unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, fd, &ev)
}

// Modify changes the key and interests of a registered fd, and re-arms a
// OneShot registration. Becoming interested in a state that already holds
// (say Writable on an empty send buffer, Readable on unread data) reports
// it once more.
func (p *Poller) Modify(fd int, key uint64, in Interest) error {
	ev := unix.EpollEvent{Events: epollEvents(in)}
	setKey(&ev, key)
	return unix.EpollCtl(p.epfd, unix.EPOLL_CTL_MOD, fd, &ev)
}

// Remove unregisters fd. Call it before closing fd: events already fetched by
// Wait may still carry the old key, which is why keys hold a generation.
func (p *Poller) Remove(fd int) error {
	return unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, fd, nil)
}

// Wait blocks until events are ready, Wake is called, or timeout passes
// (timeout < 0: no limit), fills events and returns how many it filled.
// It returns 0 after a Wake or a timeout, and never reports EINTR.
func (p *Poller) Wait(events []Event, timeout time.Duration) (int, error) {
	if cap(p.raw) < len(events) {
		p.raw = make([]unix.EpollEvent, len(events))
	}
	raw := p.raw[:len(events)]
	ms := -1
	if timeout >= 0 {
		ms = int((timeout + time.Millisecond - 1) / time.Millisecond)
	}
	n, err := unix.EpollWait(p.epfd, raw, ms)
	if err == unix.EINTR {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	out := 0
	for i := range raw[:n] {
		k := getKey(&raw[i])
		if k == wakeKey {
			var buf [8]byte
			unix.Read(p.wakefd, buf[:])
			p.wake.reset()
			continue
		}
		e := raw[i].Events
		ev := Event{Key: k, Hangup: e&(unix.EPOLLHUP|unix.EPOLLERR|unix.EPOLLRDHUP) != 0}
		if e&(unix.EPOLLIN|unix.EPOLLHUP|unix.EPOLLERR|unix.EPOLLRDHUP) != 0 {
			ev.Ready |= Readable
		}
		if e&(unix.EPOLLOUT|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
			ev.Ready |= Writable
		}
		events[out] = ev
		out++
	}
	return out, nil
}

// Wake makes a Wait in progress (or the next one) return. Concurrent calls
// cost one write between two Waits.
func (p *Poller) Wake() error {
	if !p.wake.claim() {
		return nil
	}
	one := [8]byte{1}
	_, err := unix.Write(p.wakefd, one[:])
	if err == unix.EAGAIN { // counter full: a wake-up is pending anyway
		err = nil
	}
	return err
}

// Fd returns the epoll descriptor. It is readable while events are ready,
// so an owner may wait for it in another poller (the Go runtime's) and then
// call Wait with a zero timeout. The Poller keeps owning it.
func (p *Poller) Fd() int { return p.epfd }

// Close releases the poller's descriptors. The owner calls it after its last Wait.
func (p *Poller) Close() error {
	unix.Close(p.wakefd)
	return unix.Close(p.epfd)
}
