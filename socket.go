//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"os"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/pollnet/pollnet/internal/sock"
	"golang.org/x/sys/unix"
)

// socket is a Conn's file descriptor and where its blocking calls wait. It
// lives in one of two homes:
//
//	attached  an *os.File owns the fd, registered in the Go runtime's
//	          netpoller: Read, Write and deadlines behave exactly as std
//	          net's. The normal state of an active connection.
//	detached  the socket holds the fd raw: no *os.File, no runtime poller
//	          registration (together about 1 KB). The state of a Conn that
//	          waits in OnReadable or hibernates. Calls that need no waiting
//	          (a read of data already there, a write the kernel takes at
//	          once, a socket option) run on the raw fd; a call that would
//	          block attaches first.
//
// The transitions, each exclusive (sockBusy set: no call starts meanwhile):
//
//	attached -> detached  detach: dup the fd, close the *os.File (the runtime
//	                      forgets the fd), keep the duplicate. Needs no call
//	                      in flight: asked for while calls run, it is done
//	                      by the last one to end (put).
//	detached -> attached  attach: os.NewFile on the raw fd (same number).
//	                      Made by a call that would block; other raw calls
//	                      finish first (they never block), so that once
//	                      attached, only the *os.File touches the fd.
//	any -> closed         close: no call starts again; an *os.File is closed
//	                      at once (it unblocks its waiting calls itself), a
//	                      raw fd once the last call in flight has ended, so a
//	                      raw call never meets a reused fd number.
//
// Like internal/poll's fdMutex, one atomic word holds the count of calls in
// flight and the flags; the hot path of an attached socket costs one atomic
// add to start a call and one to end it.
type socket struct {
	state atomic.Uint64
	file  atomic.Pointer[os.File] // non-nil while attached
	// fd is the descriptor: the file's while attached, held raw while
	// detached. Written only inside a transition with no other call in
	// flight; read by calls, which the state word orders after it.
	fd int
	// The caller's deadlines (unix nanoseconds; 0: none), kept for the
	// detached home and given to the file on attach.
	rdl, wdl atomic.Int64
}

const (
	sockRefs       = 1<<32 - 1 // calls in flight
	sockBusy       = 1 << 32   // a transition runs: no call starts
	sockWantDetach = 1 << 33   // detach when the last call in flight ends
	sockClosed     = 1 << 34   // no call starts again
	sockFDClosed   = 1 << 35   // a closed, detached socket's raw fd has been closed (once)
	sockPinned     = 1 << 36   // never detached again (the program holds the file's RawConn)
)

func (s *socket) init(fd int, f *os.File) {
	s.fd = fd
	s.file.Store(f)
}

// get starts a call. It waits while a transition runs (they are a few
// system calls long) and returns false once the socket is closed.
func (s *socket) get() bool {
	for {
		n := s.state.Add(1)
		if n&(sockBusy|sockClosed) == 0 {
			return true
		}
		s.release() // undo
		if n&sockClosed != 0 {
			return false
		}
		runtime.Gosched()
	}
}

// put ends a call. It returns true when this was the last call in flight and
// a detach was asked for: the caller then owns the transition (sockBusy is
// set) and must call detach.
func (s *socket) put() (mustDetach bool) {
	n := s.release()
	if n&(sockRefs|sockBusy|sockClosed) != 0 || n&sockWantDetach == 0 {
		return false
	}
	return s.state.CompareAndSwap(n, n&^sockWantDetach|sockBusy)
}

// release drops one call and returns the new state. The last call out of a
// closed, detached socket closes its raw fd.
func (s *socket) release() uint64 {
	n := s.state.Add(^uint64(0))
	if n&sockClosed != 0 && n&sockRefs == 0 && s.file.Load() == nil {
		s.closeRawFD()
	}
	return n
}

// askDetach asks for the socket to be detached. It returns true when the
// caller owns the transition now (no call in flight) and must call detach;
// otherwise the last call in flight will. It returns false for a socket
// that is closed or already detached.
func (s *socket) askDetach() (mustDetach bool) {
	for {
		n := s.state.Load()
		if n&(sockClosed|sockPinned) != 0 || n&sockBusy == 0 && s.file.Load() == nil {
			return false
		}
		if n&(sockRefs|sockBusy) == 0 {
			if s.state.CompareAndSwap(n, n&^sockWantDetach|sockBusy) {
				return true
			}
			continue
		}
		if n&sockWantDetach != 0 || s.state.CompareAndSwap(n, n|sockWantDetach) {
			return false
		}
	}
}

// cancelDetach withdraws a detach asked for and not yet begun.
func (s *socket) cancelDetach() {
	for {
		n := s.state.Load()
		if n&sockWantDetach == 0 || s.state.CompareAndSwap(n, n&^sockWantDetach) {
			return
		}
	}
}

// detach moves an attached socket to its detached home. The caller owns the
// transition (from put or askDetach); detach ends it. On error the socket
// stays attached.
func (s *socket) detach() error {
	defer s.endTransition()
	f := s.file.Load()
	if f == nil {
		return nil
	}
	nfd, err := sock.DupCloexec(s.fd)
	if err != nil {
		return err
	}
	s.file.Store(nil)
	f.Close() // no call in flight: the runtime forgets the fd and closes it
	s.fd = nfd
	return nil
}

// attach gives a detached socket an *os.File again, for a call that must
// wait; the caller holds one call (get). It returns the file, which another
// caller may have made first, or nil when the socket closed meanwhile.
func (s *socket) attach() *os.File {
	for {
		n := s.state.Load()
		if f := s.file.Load(); f != nil && n&sockBusy == 0 {
			return f
		}
		if n&sockClosed != 0 {
			return nil
		}
		if n&sockBusy == 0 {
			if s.state.CompareAndSwap(n, n|sockBusy) {
				break
			}
			continue
		}
		// Another transition runs (maybe another caller attaching): it
		// waits for the calls in flight, ours included, so step out of the
		// way until it ends.
		s.release()
		if !s.get() {
			s.state.Add(1) // the caller's put or release balances this
			return nil
		}
	}
	// We own the transition. Raw calls still in flight never block: wait
	// for them, so that from now on only the file touches the fd.
	for s.state.Load()&sockRefs != 1 {
		runtime.Gosched()
	}
	f := s.newFile()
	s.file.Store(f)
	s.endTransition()
	return f
}

// newFile wraps the raw fd in an *os.File with the caller's deadlines.
func (s *socket) newFile() *os.File {
	f := os.NewFile(uintptr(s.fd), "")
	if d := s.rdl.Load(); d != 0 {
		f.SetReadDeadline(unixTime(d))
	}
	if d := s.wdl.Load(); d != 0 {
		f.SetWriteDeadline(unixTime(d))
	}
	return f
}

// unixTime is a deadline kept as unix nanoseconds; 0 is none.
func unixTime(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

func (s *socket) endTransition() {
	for {
		n := s.state.Load()
		if s.state.CompareAndSwap(n, n&^sockBusy) {
			return
		}
	}
}

// close closes the socket; it returns false if it was already closed. An
// attached socket's file is closed at once (the runtime wakes its blocked
// calls); a raw fd is closed by whoever is last: close itself when no call
// is in flight, else the last call to end. It waits for a running
// transition to finish.
func (s *socket) close() (first bool, err error) {
	for {
		n := s.state.Load()
		if n&sockClosed != 0 {
			return false, nil
		}
		if n&sockBusy != 0 {
			runtime.Gosched()
			continue
		}
		if s.state.CompareAndSwap(n, (n|sockClosed)&^sockWantDetach) {
			break
		}
	}
	// No transition runs or can start now, so the home seen here is final.
	if f := s.file.Load(); f != nil {
		return true, f.Close()
	}
	if s.state.Load()&sockRefs == 0 {
		return true, s.closeRawFD()
	}
	return true, nil
}

// closeRawFD closes a closed socket's raw fd, once.
func (s *socket) closeRawFD() error {
	for {
		n := s.state.Load()
		if n&sockFDClosed != 0 {
			return nil
		}
		if s.state.CompareAndSwap(n, n|sockFDClosed) {
			return unix.Close(s.fd)
		}
	}
}

// takeFD ends the socket's life in this Conn while keeping the socket
// open, and returns its raw fd for a new owner (a parked socket's record).
// It fails when a call is in flight or a transition runs; an attached
// socket is detached first.
func (s *socket) takeFD() (fd int, ok bool) {
	for {
		n := s.state.Load()
		if n&(sockRefs|sockBusy|sockClosed|sockPinned) != 0 {
			return -1, false
		}
		if s.state.CompareAndSwap(n, n&^sockWantDetach|sockBusy) {
			break
		}
	}
	if err := s.detach(); err != nil || s.file.Load() != nil {
		return -1, false
	}
	for {
		n := s.state.Load()
		if n&(sockRefs|sockBusy) != 0 { // a call slipped in after the detach
			return -1, false
		}
		// Closed, and its raw fd counted as closed: nobody here closes it.
		if s.state.CompareAndSwap(n, n|sockClosed|sockFDClosed) {
			return s.fd, true
		}
	}
}

// rawFD returns the raw fd of a detached socket to a call in flight, or -1
// when the socket is attached (the caller then uses the file).
func (s *socket) rawFD() int {
	if s.file.Load() != nil {
		return -1
	}
	return s.fd
}

// pin keeps the socket attached for good.
func (s *socket) pin() { s.state.Or(sockPinned) }

// closed reports whether close has been called.
func (s *socket) closed() bool { return s.state.Load()&sockClosed != 0 }
