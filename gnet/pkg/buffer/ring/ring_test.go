package ring

import (
	"bytes"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestAgainstModel runs random operations on a Buffer and on a bytes.Buffer
// and compares what they hold after each.
func TestAgainstModel(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	rb := New(8)
	var model bytes.Buffer
	for i := range 3000 {
		switch op := r.IntN(7); op {
		case 0, 1:
			p := make([]byte, r.IntN(300))
			for j := range p {
				p[j] = byte(r.IntN(256))
			}
			rb.Write(p)
			model.Write(p)
		case 2:
			p := make([]byte, r.IntN(200))
			n, err := rb.Read(p)
			want := model.Next(len(p))
			if !bytes.Equal(p[:n], want) {
				t.Fatalf("op %d: Read mismatch", i)
			}
			if err == ErrIsEmpty && len(want) != 0 {
				t.Fatalf("op %d: ErrIsEmpty with data", i)
			}
		case 3:
			k := r.IntN(150)
			d, _ := rb.Discard(k)
			if want := min(k, model.Len()); d != want {
				t.Fatalf("op %d: Discard(%d) = %d, want %d", i, k, d, want)
			}
			model.Next(d)
		case 4:
			head, tail := rb.Peek(r.IntN(100) - 10)
			got := append(append([]byte(nil), head...), tail...)
			if !bytes.HasPrefix(model.Bytes(), got) {
				t.Fatalf("op %d: Peek is not a prefix", i)
			}
		case 5:
			if b, err := rb.ReadByte(); err == nil {
				if w, _ := model.ReadByte(); w != b {
					t.Fatalf("op %d: ReadByte", i)
				}
			} else if model.Len() != 0 {
				t.Fatalf("op %d: ReadByte: %v", i, err)
			}
		case 6:
			rb.WriteByte(byte(i))
			model.WriteByte(byte(i))
		}
		if rb.Buffered() != model.Len() || !bytes.Equal(rb.Bytes(), model.Bytes()) {
			t.Fatalf("op %d: holds %d bytes, model %d", i, rb.Buffered(), model.Len())
		}
		if rb.Cap()&(rb.Cap()-1) != 0 || rb.Available() != rb.Cap()-rb.Buffered() {
			t.Fatalf("op %d: size %d, available %d", i, rb.Cap(), rb.Available())
		}
	}
}

func TestReadFromWriteTo(t *testing.T) {
	var rb Buffer
	src := strings.Repeat("0123456789", 1000)
	n, err := rb.ReadFrom(strings.NewReader(src))
	if err != nil || n != int64(len(src)) || rb.Buffered() != len(src) {
		t.Fatalf("ReadFrom: %d, %v", n, err)
	}
	rb.Discard(5)
	rb.WriteString("tail")
	var out bytes.Buffer
	m, err := rb.WriteTo(&out)
	if err != nil || out.String() != src[5:]+"tail" || m != int64(out.Len()) || !rb.IsEmpty() {
		t.Fatalf("WriteTo: %d, %v", m, err)
	}
	if _, err := rb.WriteTo(&out); err != ErrIsEmpty {
		t.Fatalf("WriteTo on empty: %v", err)
	}
	rb.WriteString("abcdef")
	if _, err := rb.WriteTo(shortWriter{}); err != io.ErrShortWrite || rb.Buffered() != 3 {
		t.Fatalf("short writer: %v, %d left", err, rb.Buffered())
	}
	full := New(4)
	full.WriteString("abcd")
	if !full.IsFull() || full.Len() != 4 {
		t.Fatal("IsFull")
	}
	full.Reset()
	if !full.IsEmpty() || full.Bytes() != nil {
		t.Fatal("Reset")
	}
}

type shortWriter struct{}

func (shortWriter) Write(p []byte) (int, error) { return min(3, len(p)), nil }
