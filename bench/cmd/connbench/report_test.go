//go:build linux

package main

import (
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeRun is one run's metrics, made up (no timing is measured): pollnet
// meets the memory targets, misses the trickle CPU one; f scales the load
// figures so that runs differ.
func fakeRun(f float64) metrics {
	m := metrics{}
	for _, s := range []struct {
		name           string
		perConn        []float64
		goroutines     float64
		rps, p99, tcpu float64
	}{
		{"std", []float64{19500, 19400}, 2004, 100000, 1000, 40},
		{"pollnet-serve", []float64{300, 200}, 5, 98000, 1050, 60},
		{"nbhttp", []float64{1200, 1170}, 10, 90000, 2000, 30},
	} {
		for i, n := range []int{1000, 2000} {
			m.set("http-steps", s.name, fmt.Sprintf("rss_per_conn@%d", n), s.perConn[i])
		}
		m.set("http-steps", s.name, "n", 2000)
		m.set("http-steps", s.name, "rss_per_conn", s.perConn[1])
		m.set("http-steps", s.name, "marginal", s.perConn[1]/2)
		m.set("http-steps", s.name, "goroutines", s.goroutines)
		m.set("http-steps", s.name, "checked", 2000)
		m.set("http-steps", s.name, "lost", 0)
		m.set("http-steps", s.name, "trickle_cpu_us", s.tcpu)
		m.set("http-steps", s.name, "trickle_p50_us", 100)
		m.set("http-steps", s.name, "trickle_p99_us", 300)
		for _, conns := range []int{100, 1000} {
			m.set(loadScenario("http", conns), s.name, "rps", s.rps*f)
			m.set(loadScenario("http", conns), s.name, "p99_us", s.p99)
		}
	}
	m.set("http-steps", "nbhttp", "lost", 3)
	return m
}

func fakeReport(t *testing.T, runs ...metrics) *report {
	t.Helper()
	cfg, err := parseFlags([]string{"-n", "2000", "-points", "1000", "-servers", "std,pollnet-serve,nbhttp"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	r := &report{cfg: cfg, Servers: map[string][]string{"http": cfg.servers},
		Info: runInfo{Started: time.Date(2026, 11, 23, 18, 0, 0, 0, time.UTC), Command: "go run ./cmd/connbench", Go: "go1.26.8", CPUs: 2}}
	for _, m := range runs {
		r.Runs = append(r.Runs, runRecord{Metrics: m})
	}
	return r
}

func verdictOf(t *testing.T, r *report, figure string) verdict {
	t.Helper()
	for _, v := range r.verdicts() {
		if v.Figure == figure {
			return v
		}
	}
	t.Fatalf("no target %q", figure)
	return verdict{}
}

func TestTargets(t *testing.T) {
	r := fakeReport(t, fakeRun(1))
	for figure, want := range map[string]string{
		"pollnet.Serve RSS per idle HTTP/1 connection, connbench client (steps)": "MET (at N = 2,000, not 18,000: indicative)",
		"pollnet.Serve marginal RSS per connection (steps)":                      "MISSED (at N = 2,000, not 18,000: indicative)",
		"pollnet.Serve trickle: server CPU per request":                          "MISSED",
		"pollnet.Serve trickle: woken request p99 - std's":                       "MET",
		"pollnet.Serve keep-alive req/s, 100 conns":                              "MET",
		"pollnet.Serve keep-alive p99, 1,000 conns":                              "MET",
		"RSS per idle WebSocket (gobwas/ws + OnReadable)":                        "not measured",
	} {
		if v := verdictOf(t, r, figure); v.status != want {
			t.Errorf("%s: %q, want %q", figure, v.status, want)
		}
	}
	v := verdictOf(t, r, "pollnet.Serve trickle: server CPU per request")
	if math.Abs(v.s.Median-1.5) > 1e-9 {
		t.Errorf("CPU ratio %v, want 1.5", v.s.Median)
	}
}

func TestTargetsOverRuns(t *testing.T) {
	// pollnet-serve's req/s ratio is 0.98 in every run; make std slower in
	// one run so that the ratios are 0.98, 0.98 and 1.09.
	a, b, c := fakeRun(1), fakeRun(1), fakeRun(1)
	c.set("http-load-100", "std", "rps", 90000)
	r := fakeReport(t, a, b, c)
	v := verdictOf(t, r, "pollnet.Serve keep-alive req/s, 100 conns")
	if len(v.s.Values) != 3 || v.metRuns != 3 || v.status != "MET" || math.Abs(v.s.Max-98000.0/90000) > 1e-9 {
		t.Errorf("%+v", v)
	}
	rows, notMeasured, missed := r.targetRows()
	if len(notMeasured) == 0 || missed == 0 || len(rows) < 5 {
		t.Errorf("rows %d, not measured %d, missed %d", len(rows), len(notMeasured), missed)
	}
	found := false
	for _, row := range rows {
		if row[0] == "pollnet.Serve keep-alive req/s, 100 conns" {
			found = true
			if row[2] != "0.98x (0.98x-1.09x)" || row[3] != "3/3" {
				t.Errorf("row %q", row)
			}
		}
	}
	if !found {
		t.Error("no keep-alive row")
	}
}

func TestLostConnectionsInvalidate(t *testing.T) {
	m := fakeRun(1)
	m.set("http-steps", "pollnet-serve", "lost", 2)
	r := fakeReport(t, m)
	if v := verdictOf(t, r, "pollnet.Serve marginal RSS per connection (steps)"); !strings.HasPrefix(v.status, "INVALID") {
		t.Errorf("status %q", v.status)
	}
	if r.lost() != 5 {
		t.Errorf("lost %d, want 5", r.lost())
	}
}

func TestReportText(t *testing.T) {
	r := fakeReport(t, fakeRun(1), fakeRun(1.1))
	text := r.text()
	for _, want := range []string{
		"HTTP/1 idle keep-alive connections, connbench's client (steps): N = 2,000",
		"pollnet-serve", "200 B (200 B-200 B)", "0.01x", "2 runs", "Targets", "more targets not measured here",
		"HTTP/1 keep-alive load, 100 connections",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	md := r.markdown()
	for _, want := range []string{"# connbench", "## Targets", "| pollnet-serve |", "![server RSS per idle connection against N](memory.svg)"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
}

func TestWriteOutputs(t *testing.T) {
	dir := t.TempDir()
	if names, err := writeOutputs(fakeReport(t, fakeRun(1)), dir); err != nil || len(names) != 3 {
		t.Fatal(names, err)
	}
	for _, name := range []string{"report.md", "memory.svg", "results.json"} {
		if st, err := os.Stat(filepath.Join(dir, name)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", name, err)
		}
	}
	svg, _ := os.ReadFile(filepath.Join(dir, "memory.svg"))
	d := xml.NewDecoder(strings.NewReader(string(svg)))
	for {
		if _, err := d.Token(); err != nil {
			if err != io.EOF {
				t.Fatalf("memory.svg is not well-formed XML: %v", err)
			}
			break
		}
	}
	for _, want := range []string{"pollnet-serve", "target: 256 B"} {
		if !strings.Contains(string(svg), want) {
			t.Errorf("memory.svg lacks %q", want)
		}
	}
}

func TestFormat(t *testing.T) {
	for _, c := range []struct {
		v    float64
		unit string
		want string
	}{
		{1234567, "", "1,234,567"}, {-1500, "B", "-1,500 B"}, {0.966, "x", "0.97x"}, {12345, "µs", "12.3 ms"},
		{-42, "+µs", "-42 µs"}, {189600, "+µs", "+189.6 ms"}, {3 << 20, "MiB", "3.0 MiB"}, {15.25, "µs/op", "15.2 µs"},
	} {
		if got := format(c.v, c.unit); got != c.want {
			t.Errorf("format(%v, %q) = %q, want %q", c.v, c.unit, got, c.want)
		}
	}
}

func TestMeasure(t *testing.T) {
	m := metrics{}
	m.set("s", "a", "q", 3)
	m.set("s", "b", "q", 2)
	m.set("s", "z", "q", 0)
	m.set("s", "nan", "q", math.NaN())
	for _, c := range []struct {
		q    measure
		srv  string
		want float64
		ok   bool
	}{
		{measure{Quantity: "q"}, "a", 3, true},
		{measure{Quantity: "q", Versus: "b", Relation: "ratio"}, "a", 1.5, true},
		{measure{Quantity: "q", Versus: "b", Relation: "diff"}, "a", 1, true},
		{measure{Quantity: "q", Versus: "z", Relation: "ratio"}, "a", 0, false},
		{measure{Quantity: "q"}, "nan", 0, false},
		{measure{Quantity: "q", Versus: "missing", Relation: "diff"}, "a", 0, false},
	} {
		got, ok := c.q.eval(m, "s", c.srv)
		if ok != c.ok || got != c.want {
			t.Errorf("%+v on %s: %v %v", c.q, c.srv, got, ok)
		}
	}
	s, ok := measure{Quantity: "q"}.over([]metrics{m, {"s/a/q": 1}, {}, {"s/a/q": 10}}, "s", "a")
	if !ok || s.Min != 1 || s.Median != 3 || s.Max != 10 || len(s.Values) != 3 {
		t.Errorf("spread %+v", s)
	}
}
