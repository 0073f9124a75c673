// Package ring is gnet v2's pkg/buffer/ring: a growable circular byte buffer
// with the same methods and semantics (Write never fails: the buffer grows).
package ring

import (
	"errors"
	"io"
	"math/bits"

	"github.com/pollnet/pollnet/gnet/pkg/pool/byteslice"
)

const (
	// MinRead is the smallest free space ReadFrom reads into; it grows the
	// buffer to keep at least this much room.
	MinRead = 512
	// DefaultBufferSize is the first allocation of a buffer created empty.
	DefaultBufferSize = 1024
	// Below growThreshold a full buffer doubles; above it, it grows by a
	// quarter at a time until the request fits.
	growThreshold = 4 * 1024
)

// ErrIsEmpty is returned when reading from an empty buffer.
var ErrIsEmpty = errors.New("ring-buffer is empty")

// Buffer is a circular buffer of bytes implementing io.Reader, io.Writer,
// io.ReaderFrom and io.WriterTo. Its size is a power of two (or 0). The
// zero value is an empty buffer that allocates on first write. It is not
// safe for concurrent use.
//
// The unread bytes are the n bytes starting at r, wrapping at the end of buf.
type Buffer struct {
	buf []byte
	r   int // where the unread bytes start
	n   int // how many bytes are unread
}

// New returns a buffer of size bytes, rounded up to a power of two.
func New(size int) *Buffer {
	if size <= 0 {
		return &Buffer{}
	}
	return &Buffer{buf: make([]byte, ceilPow2(size))}
}

func ceilPow2(n int) int {
	if n <= 1 {
		return 1
	}
	return 1 << bits.Len(uint(n-1))
}

// segments returns the unread bytes, up to max of them, as one or two
// slices of buf (the second when they wrap).
func (rb *Buffer) segments(max int) (head, tail []byte) {
	n := min(rb.n, max)
	if n <= 0 {
		return nil, nil
	}
	end := rb.r + n
	if end <= len(rb.buf) {
		return rb.buf[rb.r:end], nil
	}
	return rb.buf[rb.r:], rb.buf[:end-len(rb.buf)]
}

// Peek returns the next n unread bytes (all if n <= 0) without consuming
// them, as one or two slices of the buffer (the second when they wrap). It
// returns fewer if fewer are buffered.
func (rb *Buffer) Peek(n int) (head []byte, tail []byte) {
	if n <= 0 {
		n = rb.n
	}
	return rb.segments(n)
}

// Discard skips the next n unread bytes (all of them if fewer are
// buffered) and returns how many it skipped; 0 for n <= 0.
func (rb *Buffer) Discard(n int) (discarded int, err error) {
	if n <= 0 {
		return 0, nil
	}
	if n >= rb.n {
		discarded = rb.n
		rb.Reset()
		return discarded, nil
	}
	rb.advance(n)
	return n, nil
}

// advance consumes n <= rb.n bytes.
func (rb *Buffer) advance(n int) {
	rb.n -= n
	if rb.n == 0 {
		rb.r = 0
		return
	}
	rb.r = (rb.r + n) & (len(rb.buf) - 1)
}

// Read reads up to len(p) bytes. It returns ErrIsEmpty if nothing is
// buffered and p is not empty.
func (rb *Buffer) Read(p []byte) (n int, err error) {
	if len(p) == 0 {
		return 0, nil
	}
	if rb.n == 0 {
		return 0, ErrIsEmpty
	}
	head, tail := rb.segments(len(p))
	n = copy(p, head)
	n += copy(p[n:], tail)
	rb.advance(n)
	return n, nil
}

// ReadByte reads one byte; ErrIsEmpty if nothing is buffered.
func (rb *Buffer) ReadByte() (b byte, err error) {
	if rb.n == 0 {
		return 0, ErrIsEmpty
	}
	b = rb.buf[rb.r]
	rb.advance(1)
	return b, nil
}

// Write appends p, growing the buffer as needed; it always writes all of p.
func (rb *Buffer) Write(p []byte) (n int, err error) {
	if len(p) == 0 {
		return 0, nil
	}
	if free := rb.Available(); len(p) > free {
		rb.grow(len(rb.buf) + len(p) - free)
	}
	w := (rb.r + rb.n) & (len(rb.buf) - 1)
	c := copy(rb.buf[w:], p)
	copy(rb.buf, p[c:])
	rb.n += len(p)
	return len(p), nil
}

// WriteByte appends c.
func (rb *Buffer) WriteByte(c byte) error {
	_, err := rb.Write([]byte{c})
	return err
}

// WriteString appends s.
func (rb *Buffer) WriteString(s string) (int, error) { return rb.Write([]byte(s)) }

// Buffered returns how many bytes can be read.
func (rb *Buffer) Buffered() int { return rb.n }

// Len returns the length of the underlying storage.
func (rb *Buffer) Len() int { return len(rb.buf) }

// Cap returns the size of the buffer.
func (rb *Buffer) Cap() int { return len(rb.buf) }

// Available returns how many bytes can be written without growing.
func (rb *Buffer) Available() int { return len(rb.buf) - rb.n }

// IsFull reports whether the buffer has no free space (an empty buffer of
// size 0 is not full).
func (rb *Buffer) IsFull() bool { return rb.n > 0 && rb.n == len(rb.buf) }

// IsEmpty reports whether nothing is buffered.
func (rb *Buffer) IsEmpty() bool { return rb.n == 0 }

// Reset discards everything buffered (the storage is kept).
func (rb *Buffer) Reset() { rb.r, rb.n = 0, 0 }

// Bytes returns a copy of the unread bytes (nil if none); it consumes
// nothing.
func (rb *Buffer) Bytes() []byte {
	if rb.n == 0 {
		return nil
	}
	head, tail := rb.segments(rb.n)
	return append(append(make([]byte, 0, rb.n), head...), tail...)
}

// ReadFrom reads from r until io.EOF (not an error) or another error,
// growing the buffer to keep MinRead bytes of room.
func (rb *Buffer) ReadFrom(r io.Reader) (n int64, err error) {
	for {
		if rb.Available() < MinRead {
			rb.grow(rb.n + MinRead)
		}
		w := (rb.r + rb.n) & (len(rb.buf) - 1)
		end := len(rb.buf) // free space from w, up to the end or to r
		if w < rb.r {
			end = rb.r
		}
		m, err := r.Read(rb.buf[w:end])
		if m < 0 {
			panic("ring.Buffer.ReadFrom: reader returned a negative count")
		}
		rb.n += m
		n += int64(m)
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// WriteTo writes the unread bytes to w and consumes what w took. It returns
// ErrIsEmpty if nothing is buffered, and io.ErrShortWrite if w took less
// than everything without an error.
func (rb *Buffer) WriteTo(w io.Writer) (int64, error) {
	if rb.n == 0 {
		return 0, ErrIsEmpty
	}
	var total int64
	for rb.n > 0 {
		head, _ := rb.segments(rb.n)
		m, err := w.Write(head)
		if m > len(head) {
			panic("ring.Buffer.WriteTo: writer returned an invalid count")
		}
		rb.advance(m)
		total += int64(m)
		if err != nil {
			return total, err
		}
		if m < len(head) {
			return total, io.ErrShortWrite
		}
	}
	return total, nil
}

// grow makes room for at least need bytes in all, moving the unread bytes
// to the start of new storage from the byteslice pool.
func (rb *Buffer) grow(need int) {
	size := len(rb.buf)
	switch {
	case size == 0:
		size = max(DefaultBufferSize, ceilPow2(need))
	case need <= 2*size && size < growThreshold:
		size *= 2
	default:
		for size < need {
			size += size / 4
		}
		size = ceilPow2(size)
	}
	nb := byteslice.Get(size)
	head, tail := rb.segments(rb.n)
	copy(nb[copy(nb, head):], tail)
	if rb.buf != nil {
		byteslice.Put(rb.buf)
	}
	rb.buf, rb.r = nb, 0
}
