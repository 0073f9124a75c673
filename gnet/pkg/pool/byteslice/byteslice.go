// Package byteslice is gnet v2's pkg/pool/byteslice: pooled byte slices in
// power-of-two size classes.
package byteslice

import (
	"math"
	"math/bits"
	"sync"
	"unsafe"
)

// Pool keeps byte slices in 32 size classes; class i holds slices of
// capacity 1<<i. The zero value is ready to use.
//
// A class stores only the pointer to a slice's first byte (the capacity is
// implied by the class), so Put does not allocate a slice header to box it.
type Pool struct {
	classes [32]sync.Pool
}

var defaultPool Pool

// Get returns a slice of length size from the default pool.
func Get(size int) []byte { return defaultPool.Get(size) }

// Put returns buf to the default pool; buf must not be used afterwards.
func Put(buf []byte) { defaultPool.Put(buf) }

// Get returns a slice of length size (and capacity size rounded up to a
// power of two); nil for size <= 0. Its contents are arbitrary.
func (p *Pool) Get(size int) []byte {
	if size <= 0 {
		return nil
	}
	if size > math.MaxInt32 {
		return make([]byte, size)
	}
	c := class(size)
	if ptr, ok := p.classes[c].Get().(*byte); ok {
		return unsafe.Slice(ptr, 1<<c)[:size]
	}
	return make([]byte, size, 1<<c)
}

// Put keeps buf for a later Get. A slice whose capacity is not a power of
// two (not from Get) goes to the class below its capacity, so every slice a
// class hands out has at least the class's capacity.
func (p *Pool) Put(buf []byte) {
	n := cap(buf)
	if n == 0 || n > math.MaxInt32 {
		return
	}
	c := class(n)
	if n != 1<<c {
		c--
	}
	p.classes[c].Put(unsafe.SliceData(buf[:1]))
}

// class is the smallest i with 1<<i >= n.
func class(n int) int { return bits.Len32(uint32(n - 1)) }
