//go:build linux

package main

import (
	"math"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	var s []time.Duration
	for i := 1; i <= 100; i++ {
		s = append(s, time.Duration(i))
	}
	for p, want := range map[float64]time.Duration{50: 50, 99: 99, 100: 100, 1: 1, 0.5: 1, 99.5: 100} {
		if got := percentile(s, p); got != want {
			t.Errorf("p%v = %v, want %v", p, got, want)
		}
	}
	if percentile(nil, 50) != 0 {
		t.Error("empty")
	}
	one := []time.Duration{7}
	if percentile(one, 50) != 7 || percentile(one, 99) != 7 {
		t.Error("single sample")
	}
	// Nearest rank on 10 samples: p50 is the 5th, p99 the 10th.
	ten := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	if percentile(ten, 50) != 5 || percentile(ten, 99) != 10 || percentile(ten, 90) != 9 {
		t.Error("ten samples")
	}
}

func TestSummarize(t *testing.T) {
	s := summarize([]time.Duration{3 * time.Millisecond, time.Millisecond, 2 * time.Millisecond})
	if s.Count != 3 || s.P50 != 2000 || s.P99 != 3000 || s.Max != 3000 {
		t.Errorf("%+v", s)
	}
	if z := summarize(nil); z.Count != 0 || z.P99 != 0 {
		t.Errorf("%+v", z)
	}
}

func TestMedian(t *testing.T) {
	xs := []float64{5, 1, 3}
	if median(xs) != 3 || xs[0] != 5 {
		t.Error("odd count, or input modified")
	}
	if median([]float64{4, 1, 3, 2}) != 2.5 {
		t.Error("even count")
	}
	if !math.IsNaN(median(nil)) {
		t.Error("empty")
	}
}
