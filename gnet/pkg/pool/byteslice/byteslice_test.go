package byteslice

import "testing"

func TestGetPut(t *testing.T) {
	var p Pool
	if p.Get(0) != nil || p.Get(-1) != nil {
		t.Fatal("Get of a non-positive size is not nil")
	}
	for _, n := range []int{1, 2, 3, 1000, 1024, 1025, 1 << 20} {
		b := p.Get(n)
		if len(b) != n || cap(b) < n || cap(b)&(cap(b)-1) != 0 {
			t.Fatalf("Get(%d): len %d cap %d", n, len(b), cap(b))
		}
		p.Put(b)
	}
	p.Put(make([]byte, 0, 1500)) // not a power of two: kept in the 1024 class
	for range 10 {
		if b := p.Get(1024); cap(b) < 1024 {
			t.Fatalf("a 1024 slice of capacity %d", cap(b))
		}
	}
	Put(Get(10))
	p.Put(nil)
}
