//go:build linux

package main

import (
	"os"
	"testing"
	"time"
)

func TestParseVmRSS(t *testing.T) {
	status := "Name:\tconnbench\nVmPeak:\t  123 kB\nVmRSS:\t   20480 kB\nThreads:\t5\n"
	got, err := parseVmRSS([]byte(status))
	if err != nil || got != 20480*1024 {
		t.Fatalf("got %d, %v", got, err)
	}
	for _, bad := range []string{"Name: x\n", "VmRSS: 12 MB\n", "VmRSS: x kB\n"} {
		if _, err := parseVmRSS([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestParseStatCPU(t *testing.T) {
	// The command name holds a space and a parenthesis; utime=250, stime=50 ticks.
	stat := "4242 (my (odd) cmd) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 100 1000 10 18446744073709551615\n"
	got, err := parseStatCPU([]byte(stat))
	if err != nil || got != 3*time.Second {
		t.Fatalf("got %v, %v", got, err)
	}
	for _, bad := range []string{"4242 no paren", "1 (x) S 1 2", "1 (x) S 1 2 3 4 5 6 7 8 9 10 x 3"} {
		if _, err := parseStatCPU([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestReadOwnProc(t *testing.T) {
	rss, err := readVmRSS(os.Getpid())
	if err != nil || rss <= 0 {
		t.Fatalf("rss %d, %v", rss, err)
	}
	if _, err := readCPU(os.Getpid()); err != nil {
		t.Fatal(err)
	}
}

func TestParseStatsLine(t *testing.T) {
	m, err := parseStatsLine("STATS goroutines=7 parked=3 wakes=10")
	if err != nil || m["goroutines"] != 7 || m["parked"] != 3 || m["wakes"] != 10 {
		t.Fatalf("%v %v", m, err)
	}
	for _, bad := range []string{"LISTENING x", "STATS parked=1", "STATS goroutines=x", "STATS goroutines"} {
		if _, err := parseStatsLine(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestParseLoadAvg(t *testing.T) {
	v, err := parseLoadAvg([]byte("5.92 7.78 7.38 3/210 27395\n"))
	if err != nil || v != 5.92 {
		t.Fatalf("%v %v", v, err)
	}
	if _, err := parseLoadAvg([]byte("x")); err == nil {
		t.Error("no error")
	}
	if busy := (runInfo{CPUs: 2, LoadStart: 0.3, LoadEnd: 3.5}).busy(); busy {
		t.Error("quiet machine called busy")
	}
	if busy := (runInfo{CPUs: 2, LoadStart: 5.9, LoadEnd: 1.9}).busy(); !busy {
		t.Error("busy machine called quiet")
	}
}
