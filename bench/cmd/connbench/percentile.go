//go:build linux

package main

import (
	"math"
	"sort"
	"time"
)

// percentile returns the p-th percentile (0 < p <= 100) of sorted by the
// nearest-rank method: the smallest value with at least p% of the samples at or
// below it. It returns 0 for no samples.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	if rank < 1 {
		rank = 1
	}
	if rank > len(sorted) {
		rank = len(sorted)
	}
	return sorted[rank-1]
}

// latencySummary is what a report shows of a latency distribution.
type latencySummary struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50_us"`
	P90   float64 `json:"p90_us"`
	P99   float64 `json:"p99_us"`
	Max   float64 `json:"max_us"`
}

// summarize sorts samples in place and summarises them in microseconds.
func summarize(samples []time.Duration) latencySummary {
	sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	s := latencySummary{Count: len(samples)}
	if len(samples) == 0 {
		return s
	}
	s.P50 = us(percentile(samples, 50))
	s.P90 = us(percentile(samples, 90))
	s.P99 = us(percentile(samples, 99))
	s.Max = us(samples[len(samples)-1])
	return s
}

// median returns the median of xs (the mean of the middle two for an even
// count), without modifying xs. It returns NaN for no values.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}
