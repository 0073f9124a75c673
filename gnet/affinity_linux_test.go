//go:build linux

package gnet

import (
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// affinity records the CPU set of the thread running OnOpen.
type affinity struct {
	BuiltinEventEngine
	counts chan int
}

func (h *affinity) OnOpen(Conn) ([]byte, Action) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		h.counts <- -1
	} else {
		h.counts <- set.Count()
	}
	return nil, Close
}

// TestCPUAffinity: with LockOSThread and CPUAffinity each loop's thread may
// run on exactly one CPU.
func TestCPUAffinity(t *testing.T) {
	if runtime.NumCPU() < 2 {
		t.Skip("one CPU")
	}
	h := &affinity{counts: make(chan int, 4)}
	s := startServer(t, h, "tcp", WithNumEventLoop(2), WithLockOSThread(true), WithCPUAffinity(true))
	for range 2 {
		c := s.dial()
		if n := <-h.counts; n != 1 {
			t.Fatalf("loop thread may run on %d CPUs, want 1", n)
		}
		c.Close()
	}
}
