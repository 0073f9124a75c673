//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package gnet

import (
	"encoding/binary"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"testing"
)

// framer answers each length-prefixed frame (4-byte big-endian length, then
// payload) with the payload's CRC32, using Peek, Next and Discard.
type framer struct {
	BuiltinEventEngine
}

func (*framer) OnTraffic(c Conn) Action {
	for {
		hdr, err := c.Peek(4)
		if err != nil {
			if err != io.ErrShortBuffer || c.InboundBuffered() >= 4 {
				panic("short Peek with enough data")
			}
			return None
		}
		n := int(binary.BigEndian.Uint32(hdr))
		if c.InboundBuffered() < 4+n {
			if _, err := c.Next(4 + n); err != io.ErrShortBuffer {
				panic("Next past the buffered data must fail")
			}
			return None
		}
		if d, _ := c.Discard(4); d != 4 {
			panic("Discard(4)")
		}
		payload, err := c.Next(n)
		if err != nil || len(payload) != n {
			panic("Next(n)")
		}
		var out [4]byte
		binary.BigEndian.PutUint32(out[:], crc32.ChecksumIEEE(payload))
		c.Write(out[:])
	}
}

func TestFraming(t *testing.T) {
	s := startServer(t, &framer{}, "tcp")
	c := s.dial()
	defer c.Close()
	r := rand.New(rand.NewPCG(1, 2))
	const frames = 300
	var stream []byte
	var want []uint32
	for range frames {
		p := make([]byte, r.IntN(100000))
		for i := range p {
			p[i] = byte(r.Uint32())
		}
		stream = binary.BigEndian.AppendUint32(stream, uint32(len(p)))
		stream = append(stream, p...)
		want = append(want, crc32.ChecksumIEEE(p))
	}
	go func() {
		wr := rand.New(rand.NewPCG(3, 4))
		for rest := stream; len(rest) > 0; {
			k := min(len(rest), 1+wr.IntN(9000))
			if _, err := c.Write(rest[:k]); err != nil {
				return
			}
			rest = rest[k:]
		}
	}()
	got := readFull(t, c, 4*frames)
	for i := range frames {
		if g := binary.BigEndian.Uint32(got[4*i:]); g != want[i] {
			t.Fatalf("frame %d: crc %x want %x", i, g, want[i])
		}
	}
}
