//go:build linux

package gnet

import (
	"os"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/pollnet/pollnet/internal/uring"
)

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
func (w *ringWaker) arm(r *uring.Ring, userData uint64) {
	if w.armed {
		return
	}
	if q := r.NextSQE(); q != nil {
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
