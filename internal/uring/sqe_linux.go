//go:build linux

package uring

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Opcodes this package prepares (enum io_uring_op).
const (
	OpNop         = 0
	OpSendmsg     = 9
	OpRecvmsg     = 10
	OpAccept      = 13
	OpAsyncCancel = 14
	OpRead        = 22
	OpSend        = 26
	OpRecv        = 27
)

// SQE flags.
const (
	sqeBufferSelect = 1 << 5
)

// Operation-specific flags.
const (
	recvMultishot   = 1 << 1 // sqe.ioprio of OpRecv
	acceptMultishot = 1 << 0 // sqe.ioprio of OpAccept

	// CancelAll cancels every request that matches, not only the first.
	CancelAll = 1 << 0
	// CancelFd matches requests by descriptor instead of user_data.
	CancelFd = 1 << 1
	// CancelAny matches every request of the ring.
	CancelAny = 1 << 2
)

// CQE flags.
const (
	// CQEFBuffer: a provided buffer was used; its ID is Flags >> 16.
	CQEFBuffer = 1 << 0
	// CQEFMore: the (multishot) request stays armed and will post more
	// completions. Its last completion lacks this flag.
	CQEFMore = 1 << 1
	// CQEFBufMore: the provided buffer was consumed only in part
	// (incremental buffer rings): the kernel keeps filling it.
	CQEFBufMore = 1 << 4
)

// SQE is struct io_uring_sqe (64 bytes). The union fields are named after
// the use this package makes of them.
type SQE struct {
	Opcode      uint8
	Flags       uint8
	IoPrio      uint16
	Fd          int32
	Off         uint64
	Addr        uint64
	Len         uint32
	OpFlags     uint32 // msg_flags, accept_flags, cancel_flags, rw_flags
	UserData    uint64
	BufGroup    uint16
	Personality uint16
	FileIndex   uint32
	Addr3       uint64
	_           uint64
}

// CQE is struct io_uring_cqe (16 bytes).
type CQE struct {
	UserData uint64
	Res      int32
	Flags    uint32
}

// BufferID is the provided buffer's ID; meaningful when Flags has CQEFBuffer.
func (c *CQE) BufferID() uint16 { return uint16(c.Flags >> 16) }

func addrOf(p []byte) uint64 {
	if len(p) == 0 {
		return 0
	}
	return uint64(uintptr(unsafe.Pointer(&p[0])))
}

// PrepNop prepares a no-op.
func (s *SQE) PrepNop(ud uint64) {
	s.Opcode, s.UserData = OpNop, ud
}

// PrepRecvMultishot arms a receive that picks a buffer from group bgid for
// every chunk of data that arrives and posts one completion per chunk (with
// CQEFMore) until it fails, reaches end of stream or is cancelled.
func (s *SQE) PrepRecvMultishot(fd int, bgid uint16, ud uint64) {
	s.Opcode, s.Fd, s.UserData = OpRecv, int32(fd), ud
	s.IoPrio = recvMultishot
	s.Flags = sqeBufferSelect
	s.BufGroup = bgid
}

// PrepRecvmsgMultishot arms a datagram receive: for every datagram a
// buffer from group bgid gets a RecvmsgOut header, the sender's address
// (msg.Namelen bytes reserved), control data (msg.Controllen bytes) and the
// payload (see ParseRecvmsg). The kernel copies msg at submission.
func (s *SQE) PrepRecvmsgMultishot(fd int, msg *unix.Msghdr, bgid uint16, ud uint64) {
	s.Opcode, s.Fd, s.UserData = OpRecvmsg, int32(fd), ud
	s.Addr, s.Len = uint64(uintptr(unsafe.Pointer(msg))), 1
	s.IoPrio = recvMultishot
	s.Flags = sqeBufferSelect
	s.BufGroup = bgid
}

// RecvmsgOut is struct io_uring_recvmsg_out, at the start of every buffer a
// multishot recvmsg fills.
type RecvmsgOut struct {
	Namelen    uint32 // bytes of the address the kernel wrote (it may be longer than reserved)
	Controllen uint32
	Payloadlen uint32 // the datagram's full length, even when truncated
	Flags      uint32 // recvmsg flags: MSG_TRUNC if the payload did not fit
}

// ParseRecvmsg splits a multishot recvmsg buffer (data as Consume returned
// it) for a receive armed with msg: header, address, payload.
func ParseRecvmsg(data []byte, msg *unix.Msghdr) (out RecvmsgOut, name, payload []byte, ok bool) {
	const hdr = int(unsafe.Sizeof(RecvmsgOut{}))
	nameCap, ctlCap := int(msg.Namelen), int(msg.Controllen)
	if len(data) < hdr+nameCap+ctlCap {
		return out, nil, nil, false
	}
	out = *(*RecvmsgOut)(unsafe.Pointer(&data[0]))
	name = data[hdr : hdr+min(nameCap, int(out.Namelen))]
	payload = data[hdr+nameCap+ctlCap:]
	payload = payload[:min(len(payload), int(out.Payloadlen))]
	return out, name, payload, true
}

// PrepAcceptMultishot arms an accept that posts one completion (the new
// descriptor in Res) per connection until it fails or is cancelled. flags
// are accept4(2)'s (SOCK_NONBLOCK, SOCK_CLOEXEC).
func (s *SQE) PrepAcceptMultishot(fd int, flags uint32, ud uint64) {
	s.Opcode, s.Fd, s.UserData = OpAccept, int32(fd), ud
	s.IoPrio = acceptMultishot
	s.OpFlags = flags
}

// PrepSend sends p. p must stay referenced until the completion.
func (s *SQE) PrepSend(fd int, p []byte, msgFlags uint32, ud uint64) {
	s.Opcode, s.Fd, s.UserData = OpSend, int32(fd), ud
	s.Addr, s.Len = addrOf(p), uint32(len(p))
	s.OpFlags = msgFlags
}

// PrepSendmsg sends the message msg describes. msg, its iovecs and their
// buffers must stay referenced until the completion.
func (s *SQE) PrepSendmsg(fd int, msg *unix.Msghdr, msgFlags uint32, ud uint64) {
	s.Opcode, s.Fd, s.UserData = OpSendmsg, int32(fd), ud
	s.Addr, s.Len = uint64(uintptr(unsafe.Pointer(msg))), 1
	s.OpFlags = msgFlags
}

// PrepRead reads into p at the file's current position. p must stay
// referenced until the completion.
func (s *SQE) PrepRead(fd int, p []byte, ud uint64) {
	s.Opcode, s.Fd, s.UserData = OpRead, int32(fd), ud
	s.Addr, s.Len = addrOf(p), uint32(len(p))
	s.Off = ^uint64(0)
}

// PrepCancel cancels the request(s) submitted with user_data target
// (flags 0 or CancelAll), or, with CancelAny, every request of the ring.
// The cancelled request completes with -ECANCELED (a multishot one with a
// last completion lacking CQEFMore); the cancel itself completes with ud:
// 0 or the number cancelled, -ENOENT if nothing matched, -EALREADY if the
// target was already running.
func (s *SQE) PrepCancel(target uint64, flags uint32, ud uint64) {
	s.Opcode, s.UserData = OpAsyncCancel, ud
	s.Fd = -1
	s.Addr = target
	s.OpFlags = flags
}

// PrepCancelFd cancels every request on descriptor fd.
func (s *SQE) PrepCancelFd(fd int, ud uint64) {
	s.Opcode, s.UserData = OpAsyncCancel, ud
	s.Fd = int32(fd)
	s.OpFlags = CancelFd | CancelAll
}
