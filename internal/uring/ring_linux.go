//go:build linux

package uring

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Setup flags (io_uring_setup(2)).
const (
	SetupCQSize       = 1 << 3  // CQEntries is valid
	SetupRDisabled    = 1 << 6  // start disabled; Enable starts it
	SetupSubmitAll    = 1 << 7  // keep submitting after an SQE fails
	SetupCoopTaskrun  = 1 << 8  // no IPI for task work
	SetupSingleIssuer = 1 << 12 // one task submits
	SetupDeferTaskrun = 1 << 13 // task work runs only in io_uring_enter
)

// Features the ring needs from the kernel (io_uring_params.features).
const (
	featSingleMmap = 1 << 0 // 5.4
	featNodrop     = 1 << 1 // 5.5
	featFastPoll   = 1 << 5 // 5.7
	featExtArg     = 1 << 8 // 5.11

	requiredFeatures = featSingleMmap | featNodrop | featFastPoll | featExtArg
)

const (
	offSQRing = 0
	offSQEs   = 0x10000000

	enterGetEvents = 1 << 0
	enterExtArg    = 1 << 3

	registerProbe       = 8
	registerEnableRings = 12
	registerPbufRing    = 22
	unregisterPbufRing  = 23
)

// ErrTooOld is returned by New when the kernel's io_uring lacks a feature
// this package needs (single mmap, no-drop completions, fast poll, extended
// enter arguments: Linux 5.11 or later).
var ErrTooOld = errors.New("the kernel's io_uring lacks a required feature")

type sqOffsets struct {
	head, tail, ringMask, ringEntries, flags, dropped, array, resv1 uint32
	userAddr                                                        uint64
}

type cqOffsets struct {
	head, tail, ringMask, ringEntries, overflow, cqes, flags, resv1 uint32
	userAddr                                                        uint64
}

type params struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFd uint32
	resv                                                                   [3]uint32
	sqOff                                                                  sqOffsets
	cqOff                                                                  cqOffsets
}

type geteventsArg struct {
	sigmask   uint64
	sigmaskSz uint32
	minWait   uint32
	ts        uint64
}

// Config selects a ring's size and mode.
type Config struct {
	Entries   uint32 // submission queue entries (a power of two, rounded up by the kernel)
	CQEntries uint32 // completion queue entries; 0 leaves the kernel's default (2 x Entries)
	Flags     uint32 // Setup* flags
}

// Ring is one io_uring instance. Its methods are not safe for concurrent
// use: a ring belongs to one goroutine (with SetupSingleIssuer, to one OS
// thread from Enable on), except Close after that goroutine is done.
type Ring struct {
	fd       int
	flags    uint32
	features uint32
	ringMem  []byte // SQ and CQ rings (one mapping: featSingleMmap)
	sqeMem   []byte // the SQE array

	// SQ: sqHead is the kernel's, sqTail ours (see the package doc).
	sqHead, sqTail *uint32
	sqMask         uint32
	sqEntries      uint32
	sqes           []SQE
	sqeTail        uint32 // next SQE to hand out; published to *sqTail by flush

	// CQ: cqTail is the kernel's, cqHead ours.
	cqHead, cqTail *uint32
	cqMask         uint32
	cqes           []CQE

	// arg and its timespec live in the Ring (on the heap), not on the
	// stack of enter, so their address stays valid through the syscall.
	arg geteventsArg
	ts  unix.Timespec
}

// Open rings and bytes mapped by this package, for leak tests.
var (
	openRings   atomic.Int64
	mappedBytes atomic.Int64
)

// Stats returns the number of open rings and the bytes this package has
// mapped (rings, SQEs and provided buffers).
func Stats() (rings int, mapped int64) { return int(openRings.Load()), mappedBytes.Load() }

func mmap(fd int, off int64, n int, flags int) ([]byte, error) {
	b, err := unix.Mmap(fd, off, n, unix.PROT_READ|unix.PROT_WRITE, flags)
	if err != nil {
		return nil, err
	}
	mappedBytes.Add(int64(len(b)))
	return b, nil
}

func munmap(b []byte) {
	if b != nil && unix.Munmap(b) == nil {
		mappedBytes.Add(-int64(len(b)))
	}
}

// New creates a ring. Errors are those of io_uring_setup(2) (ENOSYS: no
// io_uring or a seccomp filter; EPERM: kernel.io_uring_disabled or seccomp;
// EINVAL: a flag the kernel does not know), or ErrTooOld.
func New(cfg Config) (*Ring, error) {
	var p params
	p.flags = cfg.Flags
	if cfg.CQEntries > 0 {
		p.flags |= SetupCQSize
		p.cqEntries = cfg.CQEntries
	}
	fd, err := sysSetup(cfg.Entries, &p)
	if err != nil {
		return nil, &SetupError{Op: "io_uring_setup", Err: err, Hint: setupHint(err)}
	}
	r := &Ring{fd: fd, flags: p.flags, features: p.features}
	if p.features&requiredFeatures != requiredFeatures {
		unix.Close(fd)
		return nil, &SetupError{Op: "io_uring_setup", Err: ErrTooOld}
	}
	sqSize := int(p.sqOff.array + p.sqEntries*4)
	cqSize := int(p.cqOff.cqes + p.cqEntries*uint32(unsafe.Sizeof(CQE{})))
	r.ringMem, err = mmap(fd, offSQRing, max(sqSize, cqSize), unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		unix.Close(fd)
		return nil, &SetupError{Op: "mmap", Err: err}
	}
	r.sqeMem, err = mmap(fd, offSQEs, int(p.sqEntries)*int(unsafe.Sizeof(SQE{})), unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		munmap(r.ringMem)
		unix.Close(fd)
		return nil, &SetupError{Op: "mmap", Err: err}
	}
	u32 := func(off uint32) *uint32 { return (*uint32)(unsafe.Pointer(&r.ringMem[off])) }
	r.sqHead, r.sqTail = u32(p.sqOff.head), u32(p.sqOff.tail)
	r.sqMask, r.sqEntries = *u32(p.sqOff.ringMask), p.sqEntries
	r.cqHead, r.cqTail = u32(p.cqOff.head), u32(p.cqOff.tail)
	r.cqMask = *u32(p.cqOff.ringMask)
	r.sqes = unsafe.Slice((*SQE)(unsafe.Pointer(&r.sqeMem[0])), p.sqEntries)
	r.cqes = unsafe.Slice((*CQE)(unsafe.Pointer(&r.ringMem[p.cqOff.cqes])), p.cqEntries)
	// The index array maps SQ slot i to SQE i once and for all, so
	// publishing SQEs is only a tail store.
	array := unsafe.Slice(u32(p.sqOff.array), p.sqEntries)
	for i := range array {
		array[i] = uint32(i)
	}
	r.sqeTail = atomic.LoadUint32(r.sqTail)
	openRings.Add(1)
	return r, nil
}

// SetupError says which step of bringing a ring up failed, and for
// io_uring_setup the likely reason.
type SetupError struct {
	Op   string
	Err  error
	Hint string
}

func (e *SetupError) Error() string {
	if e.Hint != "" {
		return fmt.Sprintf("uring: %s: %v (%s)", e.Op, e.Err, e.Hint)
	}
	return fmt.Sprintf("uring: %s: %v", e.Op, e.Err)
}
func (e *SetupError) Unwrap() error { return e.Err }

// setupHint explains an io_uring_setup error.
func setupHint(err error) string {
	switch err {
	case unix.ENOSYS:
		return "the kernel has no io_uring, or a seccomp filter hides it"
	case unix.EINVAL:
		return "the kernel lacks a requested setup flag; single issuer with deferred task work needs Linux 6.1"
	case unix.EPERM:
		switch disabledSysctl() {
		case "2":
			return "disabled by kernel.io_uring_disabled=2"
		case "1":
			return "kernel.io_uring_disabled=1 and the process is not in kernel.io_uring_group"
		}
		return "refused by a seccomp filter or a security module"
	case unix.ENOMEM:
		return "out of locked memory (RLIMIT_MEMLOCK) or memory"
	}
	return ""
}

// Fd returns the ring's descriptor.
func (r *Ring) Fd() int { return r.fd }

// Enable starts a ring created with SetupRDisabled. With SetupSingleIssuer
// the calling thread becomes the only one allowed to submit.
func (r *Ring) Enable() error {
	return r.register(registerEnableRings, nil, 0)
}

func (r *Ring) register(op uint32, arg unsafe.Pointer, n uint32) error {
	return sysRegister(r.fd, op, arg, n)
}

// GetSQE returns the next free SQE, zeroed, or nil when the submission
// queue is full (Submit, then try again). The SQE is published to the
// kernel by the next Submit or SubmitAndWait.
func (r *Ring) GetSQE() *SQE {
	head := atomic.LoadUint32(r.sqHead)
	if r.sqeTail-head >= r.sqEntries {
		return nil
	}
	s := &r.sqes[r.sqeTail&r.sqMask]
	*s = SQE{}
	r.sqeTail++
	return s
}

// NextSQE is GetSQE that first submits the prepared SQEs when the queue is
// full. It returns nil only if the kernel takes none now (retry later).
func (r *Ring) NextSQE() *SQE {
	if s := r.GetSQE(); s != nil {
		return s
	}
	if r.Submit() != nil {
		return nil
	}
	return r.GetSQE()
}

// Pending is the number of SQEs handed out and not yet consumed by the kernel.
func (r *Ring) Pending() int { return int(r.sqeTail - atomic.LoadUint32(r.sqHead)) }

// flush publishes the SQEs handed out so far and returns how many the
// kernel has not consumed.
func (r *Ring) flush() uint32 {
	atomic.StoreUint32(r.sqTail, r.sqeTail)
	return r.sqeTail - atomic.LoadUint32(r.sqHead)
}

// Submit hands the prepared SQEs to the kernel without waiting.
func (r *Ring) Submit() error {
	n := r.flush()
	if n == 0 {
		return nil
	}
	return r.enter(n, 0, 0, nil)
}

// SubmitAndWait submits the prepared SQEs and runs completion work: with
// timeout 0 it does not block; with timeout < 0 it waits for at least one
// completion; otherwise for one completion or until timeout passes. A
// timeout, an interrupting signal or a transient shortage (EAGAIN, EBUSY)
// is not an error: the caller reaps what is there and calls again.
func (r *Ring) SubmitAndWait(timeout time.Duration) error {
	n := r.flush()
	switch {
	case timeout == 0:
		return r.enter(n, 0, enterGetEvents, nil)
	case timeout < 0:
		return r.enter(n, 1, enterGetEvents, nil)
	}
	r.ts = unix.NsecToTimespec(int64(timeout))
	r.arg = geteventsArg{ts: uint64(uintptr(unsafe.Pointer(&r.ts)))}
	return r.enter(n, 1, enterGetEvents|enterExtArg, unsafe.Pointer(&r.arg))
}

func (r *Ring) enter(submit, wait, flags uint32, arg unsafe.Pointer) error {
	var argsz uintptr
	if arg != nil {
		argsz = unsafe.Sizeof(r.arg)
	}
	var errno unix.Errno
	if wait > 0 {
		_, _, errno = unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), uintptr(submit),
			uintptr(wait), uintptr(flags), uintptr(arg), argsz)
	} else {
		// Never blocks: keep the P rather than hand it off.
		_, _, errno = unix.RawSyscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), uintptr(submit),
			uintptr(wait), uintptr(flags), uintptr(arg), argsz)
	}
	switch errno {
	case 0, unix.ETIME, unix.EINTR, unix.EAGAIN, unix.EBUSY:
		return nil
	}
	return errno
}

// Reap copies up to len(dst) completions into dst, frees their slots in the
// completion queue and returns how many it copied.
func (r *Ring) Reap(dst []CQE) int {
	head := *r.cqHead // only we write it
	tail := atomic.LoadUint32(r.cqTail)
	n := 0
	for head != tail && n < len(dst) {
		dst[n] = r.cqes[head&r.cqMask]
		head++
		n++
	}
	if n > 0 {
		atomic.StoreUint32(r.cqHead, head)
	}
	return n
}

// Close unmaps the rings and closes the descriptor; the kernel cancels
// whatever is still in flight. Any thread may call it once the owner is done.
func (r *Ring) Close() error {
	if r.fd < 0 {
		return nil
	}
	munmap(r.sqeMem)
	munmap(r.ringMem)
	r.sqeMem, r.ringMem, r.sqes, r.cqes = nil, nil, nil, nil
	err := unix.Close(r.fd)
	r.fd = -1
	openRings.Add(-1)
	return err
}
