// Package latency records latencies in HDR histograms
// (github.com/HdrHistogram/hdrhistogram-go) and summarises them, so that every
// tool of the bench module uses one percentile definition: HdrHistogram's
// ValueAtQuantile, at 3 significant digits, in microseconds.
//
// A Recorder is safe for concurrent use. Histograms travel between processes
// as HdrHistogram's compressed, base64 encoding (Encode, Decode) and merge
// without loss (Merge): a client process sends its histogram to the
// orchestrator, which merges the rounds of a run before taking percentiles.
package latency

import (
	"fmt"
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// The range every histogram tracks: 1 µs to 2 minutes, 3 significant
// digits (a recorded value is within 0.1% of the true one).
const (
	lowest  = 1
	highest = int64(2 * time.Minute / time.Microsecond)
	sigfigs = 3
)

// Recorder collects latencies. The zero value is not usable: call New.
type Recorder struct {
	mu sync.Mutex
	h  *hdrhistogram.Histogram
}

// New returns an empty Recorder.
func New() *Recorder { return &Recorder{h: hdrhistogram.New(lowest, highest, sigfigs)} }

// Record adds one latency; values outside the tracked range are clamped to it.
func (r *Recorder) Record(d time.Duration) {
	us := min(max(d.Microseconds(), lowest), highest)
	r.mu.Lock()
	_ = r.h.RecordValue(us) // in range by construction
	r.mu.Unlock()
}

// Merge adds every value recorded in o.
func (r *Recorder) Merge(o *Recorder) {
	if o == nil || o == r {
		return
	}
	o.mu.Lock()
	c := o.h.Export()
	o.mu.Unlock()
	r.mu.Lock()
	r.h.Merge(hdrhistogram.Import(c))
	r.mu.Unlock()
}

// Count is the number of recorded values.
func (r *Recorder) Count() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.h.TotalCount()
}

// Summary is what reports show of a distribution, in microseconds.
type Summary struct {
	Count int64   `json:"count"`
	P50   float64 `json:"p50_us"`
	P90   float64 `json:"p90_us"`
	P99   float64 `json:"p99_us"`
	P999  float64 `json:"p999_us"`
	Max   float64 `json:"max_us"`
}

// Summary returns the percentiles of what was recorded (zeros when empty).
func (r *Recorder) Summary() Summary {
	r.mu.Lock()
	defer r.mu.Unlock()
	q := func(p float64) float64 { return float64(r.h.ValueAtQuantile(p)) }
	return Summary{Count: r.h.TotalCount(), P50: q(50), P90: q(90), P99: q(99), P999: q(99.9), Max: float64(r.h.Max())}
}

// Encode returns the histogram in HdrHistogram's compressed base64 form.
func (r *Recorder) Encode() (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	b, err := r.h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	return string(b), err
}

// Decode returns a Recorder holding an encoded histogram ("" is an empty one).
func Decode(s string) (*Recorder, error) {
	if s == "" {
		return New(), nil
	}
	h, err := hdrhistogram.Decode([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("latency histogram: %w", err)
	}
	r := New()
	r.h.Merge(h)
	return r, nil
}

// Duration formats a microsecond value for people: "850 µs", "12.3 ms".
func Duration(us float64) string {
	if us >= 10000 {
		return fmt.Sprintf("%.1f ms", us/1000)
	}
	return fmt.Sprintf("%.0f µs", us)
}
