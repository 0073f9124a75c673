//go:build linux

package uring

import (
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

const pbufRingInc = 2 // IOU_PBUF_RING_INC: buffers are consumed incrementally (6.12)

type bufReg struct {
	ringAddr    uint64
	ringEntries uint32
	bgid        uint16
	flags       uint16
	resv        [3]uint64
}

// BufRing is a provided buffer ring (IORING_REGISTER_PBUF_RING, Linux 5.19):
// n buffers of size bytes, in one mmap'ed region, which the kernel picks
// from for receives armed with its group ID. A buffer is in exactly one of
// two places: in the ring (the kernel's, between its head and our tail) or
// out (delivered in a completion and not yet given back with Recycle).
//
// In incremental mode (IOU_PBUF_RING_INC, Linux 6.12) the kernel consumes
// a buffer bit by bit: each completion takes the next Res bytes of the
// buffer at the ring's head, and says CQEFBufMore while the buffer has room
// left and stays at the head. Such a buffer leaves the ring only with the
// completion that lacks CQEFBufMore. Small messages from many connections
// then share one buffer instead of taking one buffer each.
type BufRing struct {
	ring   *Ring
	mem    []byte // the ring entries (struct io_uring_buf), page-aligned
	data   []byte // the buffers
	size   int
	mask   uint16
	bgid   uint16
	tail   uint16   // local tail: entries below it are written
	bid0   uint16   // the bid last written to entry 0, which shares a word with the tail
	off    []uint32 // by bid: bytes of the buffer already delivered (incremental mode)
	inc    bool
	dirty  bool // tail moved since the last Publish
	little bool
}

// NewBufRing registers a ring of n buffers (a power of two, at most 32768)
// of size bytes each as group bgid, all of them initially in the ring. With
// incremental set it asks for incremental consumption, which kernels before
// 6.12 refuse with EINVAL (callers then pick a shape for whole buffers).
func (r *Ring) NewBufRing(bgid uint16, n, size int, incremental bool) (*BufRing, error) {
	if n <= 0 || n > 1<<15 || n&(n-1) != 0 || size <= 0 {
		return nil, &SetupError{Op: "IORING_REGISTER_PBUF_RING", Err: unix.EINVAL}
	}
	page := unix.Getpagesize()
	mem, err := mmap(-1, 0, (n*16+page-1)/page*page, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, &SetupError{Op: "mmap", Err: err}
	}
	data, err := mmap(-1, 0, n*size, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		munmap(mem)
		return nil, &SetupError{Op: "mmap", Err: err}
	}
	var one uint16 = 1
	b := &BufRing{ring: r, mem: mem, data: data, size: size, mask: uint16(n - 1), bgid: bgid,
		off: make([]uint32, n), little: *(*byte)(unsafe.Pointer(&one)) == 1}
	reg := bufReg{ringAddr: uint64(uintptr(unsafe.Pointer(&mem[0]))), ringEntries: uint32(n), bgid: bgid}
	if incremental {
		reg.flags = pbufRingInc
		b.inc = true
	}
	if err = r.register(registerPbufRing, unsafe.Pointer(&reg), 1); err != nil {
		munmap(data)
		munmap(mem)
		hint := "buffer rings need Linux 5.19"
		if incremental {
			hint = "incremental buffer rings need Linux 6.12"
		}
		return nil, &SetupError{Op: "IORING_REGISTER_PBUF_RING", Err: err, Hint: hint}
	}
	for bid := range n {
		b.Recycle(uint16(bid))
	}
	b.Publish()
	return b, nil
}

// Incremental reports whether the kernel consumes buffers incrementally.
func (b *BufRing) Incremental() bool { return b.inc }

// Group returns the buffer group ID to arm receives with.
func (b *BufRing) Group() uint16 { return b.bgid }

// Consume returns the data a completion delivered (Res bytes of buffer
// BufferID) and whether that completion took the buffer out of the ring
// (then the caller owns it and must Recycle it once done with the data).
// c must carry CQEFBuffer.
func (b *BufRing) Consume(c *CQE) (data []byte, bid uint16, out bool) {
	bid = c.BufferID() & b.mask
	n := max(int(c.Res), 0)
	start := int(bid)*b.size + int(b.off[bid])
	data = b.data[start : start+n : start+n]
	if c.Flags&CQEFBufMore != 0 {
		b.off[bid] += uint32(n)
		return data, bid, false
	}
	b.off[bid] = 0
	return data, bid, true
}

// Recycle gives buffer bid back to the ring; Publish makes it visible to
// the kernel. The caller must not touch the buffer's data afterwards.
func (b *BufRing) Recycle(bid uint16) {
	i := b.tail & b.mask
	e := unsafe.Pointer(&b.mem[int(i)*16])
	*(*uint64)(e) = uint64(uintptr(unsafe.Pointer(&b.data[int(bid)*b.size])))
	*(*uint32)(unsafe.Add(e, 8)) = uint32(b.size)
	*(*uint16)(unsafe.Add(e, 12)) = bid
	if i == 0 {
		b.bid0 = bid
	}
	b.tail++
	b.dirty = true
}

// Publish makes the buffers recycled since the last call available to the
// kernel. The ring's tail is the upper half of entry 0's last 32-bit word,
// whose lower half is entry 0's bid (the kernel writes neither), so one
// 32-bit release store of both publishes the tail: Go has no 16-bit atomics.
func (b *BufRing) Publish() {
	if !b.dirty {
		return
	}
	b.dirty = false
	w := uint32(b.bid0) | uint32(b.tail)<<16
	if !b.little {
		w = uint32(b.bid0)<<16 | uint32(b.tail)
	}
	atomic.StoreUint32((*uint32)(unsafe.Pointer(&b.mem[12])), w)
}

// Close unmaps the buffers. Call it only after the ring is closed (which
// unregisters the group) or after every receive using the group has
// completed for the last time.
func (b *BufRing) Close() {
	munmap(b.data)
	munmap(b.mem)
	b.data, b.mem = nil, nil
}
