// Package bytebuffer is gnet v2's pkg/pool/bytebuffer: a pool of growable
// byte buffers (github.com/valyala/bytebufferpool's, which calibrates the
// size of the buffers it keeps).
package bytebuffer

import "github.com/valyala/bytebufferpool"

// ByteBuffer is a growable byte buffer; B holds its bytes.
type ByteBuffer = bytebufferpool.ByteBuffer

// Get returns an empty buffer from the pool.
func Get() *ByteBuffer { return bytebufferpool.Get() }

// Put returns b to the pool; b must not be used afterwards. Put(nil) does
// nothing.
func Put(b *ByteBuffer) {
	if b != nil {
		bytebufferpool.Put(b)
	}
}
