//go:build linux

package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// memPoint is the server's memory with n idle connections.
type memPoint struct {
	N        int     `json:"n"`
	Held     int     `json:"held"` // connections the client held when measured
	RSS      int64   `json:"rss_bytes"`
	Base     int64   `json:"base_rss_bytes"`
	PerConn  float64 `json:"bytes_per_conn"`
	Parked   int64   `json:"parked"` // -1: the server does not report it
	Settling float64 `json:"settle_seconds"`
}

// trickleResult is one trickle run on one server, or (Round 0) the summary of
// a server's runs: medians of CPU per request and of the latency percentiles,
// sums of the counts.
type trickleResult struct {
	loadResult
	Round        int     `json:"round"`
	CPUSeconds   float64 `json:"server_cpu_seconds"`
	CPUPer1000   float64 `json:"server_cpu_seconds_per_1000_requests"`
	Wakes        int64   `json:"wakes"` // -1: not reported
	ParkedBefore int64   `json:"parked_before"`
}

// loadRun is one keep-alive load run on one server.
type loadRun struct {
	loadResult
	Round      int     `json:"round"`
	CPUSeconds float64 `json:"server_cpu_seconds"`
	Parks      int64   `json:"parks"` // -1: not reported
}

// serverResult is everything measured on one server.
type serverResult struct {
	Name        string            `json:"name"`
	Mem         []memPoint        `json:"memory"`
	Goroutines  int               `json:"goroutines"` // at the largest N, after GC; -1 unknown
	Check       openResult        `json:"second_request"`
	Open        openResult        `json:"open"`              // totals of the opening phase
	Trickle     *trickleResult    `json:"trickle,omitempty"` // summary of TrickleRuns
	TrickleRuns []trickleResult   `json:"trickle_runs,omitempty"`
	Load        map[int][]loadRun `json:"load"` // by connection count
	Errors      []string          `json:"errors,omitempty"`
}

// largest returns the memory point at the largest N, or nil.
func (s *serverResult) largest() *memPoint {
	if len(s.Mem) == 0 {
		return nil
	}
	return &s.Mem[len(s.Mem)-1]
}

// marginal is the RSS added per connection between the last two memory
// points: the cost of one more connection, without the fixed part.
func (s *serverResult) marginal() (float64, bool) {
	if len(s.Mem) < 2 {
		return 0, false
	}
	a, b := s.Mem[len(s.Mem)-2], s.Mem[len(s.Mem)-1]
	if b.Held <= a.Held {
		return 0, false
	}
	return float64(b.RSS-a.RSS) / float64(b.Held-a.Held), true
}

// lost is the number of connections that failed to open or to answer again.
func (s *serverResult) lost() int { return s.Open.Failed + s.Check.Failed }

// loadMedians are the medians over a server's rounds at one connection count.
type loadMedians struct {
	Runs   int
	RPS    float64
	P50    float64 // µs
	P99    float64 // µs
	Errors int
	Parks  int64   // total over runs; -1 unknown
	Reqs   int     // total over runs
	CPU1k  float64 // server CPU seconds per 1,000 requests
}

func (s *serverResult) loadMedians(conns int) (loadMedians, bool) {
	runs := s.Load[conns]
	if len(runs) == 0 {
		return loadMedians{}, false
	}
	var rps, p50, p99, cpu []float64
	m := loadMedians{Runs: len(runs)}
	for _, r := range runs {
		rps = append(rps, r.RPS)
		cpu = append(cpu, perThousand(r.CPUSeconds, r.Requests))
		p50 = append(p50, r.Latency.P50)
		p99 = append(p99, r.Latency.P99)
		m.Errors += r.Errors
		m.Reqs += r.Requests
		if r.Parks < 0 || m.Parks < 0 {
			m.Parks = -1
		} else {
			m.Parks += r.Parks
		}
	}
	m.RPS, m.P50, m.P99, m.CPU1k = median(rps), median(p50), median(p99), median(cpu)
	return m, true
}

// runInfo describes the run for the report.
type runInfo struct {
	Started  time.Time     `json:"started"`
	Elapsed  time.Duration `json:"elapsed_ns"`
	Command  string        `json:"command"`
	Go       string        `json:"go"`
	Kernel   string        `json:"kernel"`
	CPUs     int           `json:"cpus"`
	CPUModel string        `json:"cpu_model"`
	FDLimit  string        `json:"fd_limit"`
	// LoadStart and LoadEnd are the 1-minute load averages when the run
	// started and ended: other work on the machine skews the timings.
	LoadStart float64 `json:"load_average_start"`
	LoadEnd   float64 `json:"load_average_end"`
}

// busy reports whether other work loaded the machine during the run: a
// 1-minute load average above 3/4 of the CPUs at its start (before connbench
// itself loads it), or above twice the CPUs at its end (a client and a server
// under load account for about one load unit per CPU).
func (i runInfo) busy() bool {
	return i.CPUs > 0 && (i.LoadStart > 0.75*float64(i.CPUs) || i.LoadEnd > 2*float64(i.CPUs))
}

func (i runInfo) loadNote() string {
	note := fmt.Sprintf("Machine load average (1 min): %.1f at the start, %.1f at the end, on %d CPUs.", i.LoadStart, i.LoadEnd, i.CPUs)
	if i.busy() {
		note += " WARNING: other work was using the CPUs during this run: the req/s, latency and CPU ratios " +
			"are unreliable (memory and goroutine counts are not affected). Run again on a quiet machine."
	}
	return note
}

// parseStatsLine parses "STATS goroutines=5 parked=3 ..." into a map.
func parseStatsLine(line string) (map[string]int64, error) {
	rest, ok := strings.CutPrefix(line, "STATS ")
	if !ok {
		return nil, fmt.Errorf("not a STATS line: %q", line)
	}
	m := map[string]int64{}
	for _, f := range strings.Fields(rest) {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("bad field %q in %q", f, line)
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("bad value in %q: %v", f, err)
		}
		m[k] = n
	}
	if _, ok := m["goroutines"]; !ok {
		return nil, fmt.Errorf("no goroutines field in %q", line)
	}
	return m, nil
}

// summarizeTrickle summarises a server's trickle runs, or returns nil.
func summarizeTrickle(runs []trickleResult) *trickleResult {
	if len(runs) == 0 {
		return nil
	}
	var cpu1k, p50, p90, p99 []float64
	t := &trickleResult{Wakes: 0, ParkedBefore: runs[0].ParkedBefore}
	for _, r := range runs {
		cpu1k = append(cpu1k, r.CPUPer1000)
		p50 = append(p50, r.Latency.P50)
		p90 = append(p90, r.Latency.P90)
		p99 = append(p99, r.Latency.P99)
		t.Conns = max(t.Conns, r.Conns)
		t.Requests += r.Requests
		t.Errors += r.Errors
		t.Skipped += r.Skipped
		t.Seconds += r.Seconds
		t.CPUSeconds += r.CPUSeconds
		t.ClientCPU += r.ClientCPU
		t.Latency.Count += r.Latency.Count
		t.Latency.Max = max(t.Latency.Max, r.Latency.Max)
		if t.FirstErr == "" {
			t.FirstErr = r.FirstErr
		}
		if r.Wakes < 0 || t.Wakes < 0 {
			t.Wakes = -1
		} else {
			t.Wakes += r.Wakes
		}
	}
	t.CPUPer1000 = median(cpu1k)
	t.Latency.P50, t.Latency.P90, t.Latency.P99 = median(p50), median(p90), median(p99)
	if t.Seconds > 0 {
		t.RPS = float64(t.Requests) / t.Seconds
	}
	return t
}
