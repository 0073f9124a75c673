//go:build linux

package procstat

import (
	"os"
	"testing"
	"time"
)

func TestOwnProcess(t *testing.T) {
	rss, err := RSS(0)
	if err != nil || rss <= 0 {
		t.Fatalf("RSS: %d, %v", rss, err)
	}
	if rss2, err := RSS(os.Getpid()); err != nil || rss2 <= 0 {
		t.Fatalf("RSS(pid): %d, %v", rss2, err)
	}
	// Burn a little CPU so that the 10 ms clock has ticked at least once.
	for start := time.Now(); time.Since(start) < 50*time.Millisecond; {
	}
	if cpu, err := CPU(0); err != nil || cpu <= 0 {
		t.Fatalf("CPU: %v, %v", cpu, err)
	}
	n, err := FDs(0)
	if err != nil || n < 3 {
		t.Fatalf("FDs: %d, %v", n, err)
	}
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if m, _ := FDs(0); m != n+1 {
		t.Errorf("FDs after one open: %d, before %d", m, n)
	}
	if l, err := LoadAvg(); err != nil || l < 0 {
		t.Errorf("LoadAvg: %v, %v", l, err)
	}
}

func TestMissingProcess(t *testing.T) {
	if _, err := RSS(1 << 30); err == nil {
		t.Error("RSS of a missing process: no error")
	}
}
