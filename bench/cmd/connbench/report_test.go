//go:build linux

package main

import (
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeReport builds a report from made-up numbers (no timing is measured).
func fakeReport(t *testing.T) *report {
	t.Helper()
	cfg, err := parseFlags([]string{"-n", "2000", "-points", "1000", "-servers", "std,pollnet-serve,nbhttp"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	mk := func(name string, perConn []float64, gor int, rps, p99, cpu1k, tp99 float64, lost int) *serverResult {
		s := &serverResult{Name: name, Goroutines: gor, Load: map[int][]loadRun{}}
		for i, n := range cfg.points {
			rss := int64(perConn[i]*float64(n)) + 10<<20
			s.Mem = append(s.Mem, memPoint{N: n, Held: n, RSS: rss, Base: 10 << 20, PerConn: perConn[i], Parked: -1})
		}
		s.Check = openResult{Held: 2000 - lost, OK: 2000 - lost, Failed: lost}
		if lost > 0 {
			s.Errors = append(s.Errors, "second request: connections failed")
		}
		for _, conns := range cfg.loadConns {
			for round, f := range []float64{0.9, 1.0, 1.2} {
				s.Load[conns] = append(s.Load[conns], loadRun{Round: round + 1, Parks: -1,
					loadResult: loadResult{Conns: conns, Requests: 1000, RPS: rps * f,
						Latency: latencySummary{P50: p99 / 4 * f, P99: p99 * f}}})
			}
		}
		s.Trickle = &trickleResult{Wakes: -1, CPUPer1000: cpu1k,
			loadResult: loadResult{Conns: 2000, Requests: 4000, Latency: latencySummary{P50: 100, P99: tp99}}}
		return s
	}
	ps := mk("pollnet-serve", []float64{300, 200}, 5, 97000, 1050, 0.05, 350, 0)
	ps.Mem[1].Parked = 2000
	ps.Trickle.Wakes = 4000
	return &report{
		Info:   runInfo{Started: time.Date(2026, 11, 23, 18, 0, 0, 0, time.UTC), Command: "go run ./cmd/connbench", Go: "go1.26.8", CPUs: 2},
		Config: cfg,
		Servers: []*serverResult{
			mk("std", []float64{19500, 19400}, 2004, 100000, 1000, 0.04, 200, 0),
			ps,
			mk("nbhttp", []float64{1200, 1170}, 10, 90000, 2000, 0.03, 250, 3),
		},
	}
}

func TestReportTables(t *testing.T) {
	r := fakeReport(t)
	text := r.text()
	for _, want := range []string{
		"19,400 B", "200 B", "0.01x", // memory and ratio against std
		"2,004", "2,000/2,000 ok", "1,997/2,000 ok, 3 LOST",
		"100,000", "0.97x", "1.05x", // medians (1.0 factor) and ratios
		"+150 µs", "4,000", // trickle p99 difference, wakes
		"100 B", "10.0 MiB / 10.4 MiB", // pollnet-serve's marginal cost: (400,000-300,000)/1,000; RSS
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text report lacks %q:\n%s", want, text)
		}
	}
	// Targets: memory met, throughput 0.97x met, p99 1.05x met, CPU 1.25x missed, wake +150 µs met.
	got := map[string]string{}
	for _, tg := range r.targets() {
		got[tg.What] = tg.Status
	}
	for what, want := range map[string]string{
		"pollnet-serve RSS per idle connection at N = 18,000": "MET (at N != 18,000: indicative only)",
		"pollnet-serve keep-alive req/s, 100 conns":           "MET",
		"pollnet-serve keep-alive p99, 1000 conns":            "MET",
		"pollnet-serve trickle: server CPU per request":       "MISSED",
		"pollnet-serve trickle: wake-up p99":                  "MET",
		"pollnet-listener keep-alive req/s, 100 conns":        "not measured (server not in -servers)",
	} {
		if got[what] != want {
			t.Errorf("target %q = %q, want %q", what, got[what], want)
		}
	}
	md := r.markdown()
	for _, want := range []string{"# connbench", "| server | RSS/conn |", "|---|---|", "![server RSS per idle connection against N](memory.svg)",
		"**1 target(s) missed in this run.**", "## Errors"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	if strings.Contains(r.markdown(), "## Errors") != (len(r.errorLines()) > 0) {
		t.Error("errors section mismatch")
	}
}

func TestSummarizeTrickle(t *testing.T) {
	if summarizeTrickle(nil) != nil {
		t.Error("summary of no run")
	}
	runs := []trickleResult{
		{Round: 1, Wakes: 10, CPUPer1000: 0.3, CPUSeconds: 3, loadResult: loadResult{Conns: 10, Requests: 10, Seconds: 1,
			Latency: latencySummary{Count: 10, P50: 100, P99: 900, Max: 1000}}},
		{Round: 2, Wakes: 10, CPUPer1000: 0.1, CPUSeconds: 1, loadResult: loadResult{Conns: 10, Requests: 10, Seconds: 1, Errors: 1,
			FirstErr: "x", Latency: latencySummary{Count: 10, P50: 200, P99: 300, Max: 2000}}},
		{Round: 3, Wakes: 10, CPUPer1000: 0.2, CPUSeconds: 2, loadResult: loadResult{Conns: 10, Requests: 10, Seconds: 1,
			Latency: latencySummary{Count: 10, P50: 150, P99: 500, Max: 500}}},
	}
	s := summarizeTrickle(runs)
	if s.CPUPer1000 != 0.2 || s.Latency.P50 != 150 || s.Latency.P99 != 500 || s.Latency.Max != 2000 {
		t.Errorf("medians: %+v", s)
	}
	if s.Requests != 30 || s.Wakes != 30 || s.Errors != 1 || s.FirstErr != "x" || s.CPUSeconds != 6 || s.Conns != 10 || s.RPS != 10 {
		t.Errorf("sums: %+v", s)
	}
	runs[1].Wakes = -1
	if summarizeTrickle(runs).Wakes != -1 {
		t.Error("unknown wakes must stay unknown")
	}
}

func TestLoadMedians(t *testing.T) {
	r := fakeReport(t)
	m, ok := r.server("std").loadMedians(100)
	if !ok || m.RPS != 100000 || m.P99 != 1000 || m.Runs != 3 || m.Reqs != 3000 || m.Parks != -1 {
		t.Errorf("%+v %v", m, ok)
	}
	if _, ok := r.server("std").loadMedians(7); ok {
		t.Error("medians for a connection count never run")
	}
}

func TestMarkdownTable(t *testing.T) {
	got := markdownTable([][]string{{"a", "b"}, {"1", "x|y"}})
	want := "| a | b |\n|---|---|\n| 1 | x\\|y |\n"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestWriteOutputs(t *testing.T) {
	r := fakeReport(t)
	dir := t.TempDir()
	if err := writeOutputs(r, dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"report.md", "memory.svg", "results.json"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || len(b) == 0 {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestMemoryChartSVG(t *testing.T) {
	r := fakeReport(t)
	svg := renderMemoryChart("memory <per> conn", r.chartSeries(), []chartRef{{Y: 256, Label: "target"}})
	// Well-formed XML.
	d := xml.NewDecoder(strings.NewReader(svg))
	polylines, circles := 0, 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("invalid XML: %v\n%s", err, svg)
		}
		if se, ok := tok.(xml.StartElement); ok {
			switch se.Name.Local {
			case "polyline":
				polylines++
			case "circle":
				circles++
			}
		}
	}
	if polylines != 3 || circles != 6 {
		t.Errorf("polylines=%d circles=%d, want 3 and 6", polylines, circles)
	}
	for _, want := range []string{"memory &lt;per&gt; conn", "std (19 KB)", "pollnet-serve (200 B)", "nbhttp (1.2 KB)", "2,000", ">target<", ">100 B<", ">10 KB<"} {
		if !strings.Contains(svg, want) {
			t.Errorf("svg lacks %q", want)
		}
	}
	// No data at all still renders.
	if s := renderMemoryChart("empty", nil, nil); !strings.HasSuffix(s, "</svg>\n") {
		t.Error("empty chart")
	}
}

func TestBytesLabelAndThousands(t *testing.T) {
	for v, want := range map[float64]string{256: "256 B", 1170: "1.2 KB", 19400: "19 KB", 2.5e6: "2.5 MB"} {
		if got := bytesLabel(v); got != want {
			t.Errorf("bytesLabel(%v) = %q, want %q", v, got, want)
		}
	}
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 18000: "18,000", -1234567: "-1,234,567"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestReportWithoutStd(t *testing.T) {
	r := fakeReport(t)
	r.Servers = r.Servers[1:] // pollnet-serve and nbhttp only
	text := r.text()
	if !strings.Contains(text, "not measured") || !strings.Contains(text, "pollnet-serve") {
		t.Errorf("report without std:\n%s", text)
	}
	_ = r.markdown()
	if err := writeOutputs(r, t.TempDir()); err != nil {
		t.Fatal(err)
	}
}
