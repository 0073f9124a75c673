package latency

import (
	"sync"
	"testing"
	"time"
)

func TestSummaryPercentiles(t *testing.T) {
	r := New()
	for i := 1; i <= 1000; i++ {
		r.Record(time.Duration(i) * time.Microsecond)
	}
	s := r.Summary()
	if s.Count != 1000 || s.Max != 1000 {
		t.Fatalf("%+v", s)
	}
	// HdrHistogram at 3 significant digits: within 0.1% of the exact rank.
	for _, c := range []struct{ got, want float64 }{{s.P50, 500}, {s.P90, 900}, {s.P99, 990}, {s.P999, 999}} {
		if c.got < c.want || c.got > c.want*1.001+1 {
			t.Errorf("percentile %v, want %v", c.got, c.want)
		}
	}
	if e := New().Summary(); e.Count != 0 || e.P99 != 0 {
		t.Errorf("empty: %+v", e)
	}
}

func TestClamp(t *testing.T) {
	r := New()
	r.Record(0)
	r.Record(time.Hour)
	if s := r.Summary(); s.Count != 2 || s.P50 < 1 || s.Max < float64(highest)*0.999 {
		t.Errorf("%+v", s)
	}
}

func TestEncodeDecodeMerge(t *testing.T) {
	a, b := New(), New()
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 250; i++ {
				a.Record(100 * time.Microsecond)
			}
		}()
	}
	wg.Wait()
	b.Record(10 * time.Millisecond)
	enc, err := b.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(enc)
	if err != nil {
		t.Fatal(err)
	}
	a.Merge(got)
	if s := a.Summary(); s.Count != 1001 || s.P50 != 100 || s.Max < 9990 {
		t.Errorf("merged: %+v", s)
	}
	if e, err := Decode(""); err != nil || e.Count() != 0 {
		t.Errorf("empty decode: %v %v", e.Count(), err)
	}
	if _, err := Decode("not base64!"); err == nil {
		t.Error("garbage decoded")
	}
}

func TestDuration(t *testing.T) {
	if got := Duration(850); got != "850 µs" {
		t.Error(got)
	}
	if got := Duration(12345); got != "12.3 ms" {
		t.Error(got)
	}
}
