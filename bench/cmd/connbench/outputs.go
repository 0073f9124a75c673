//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/pollnet/pollnet/bench/internal/procstat"
)

// runInfo describes the command's run for the report.
type runInfo struct {
	Started  time.Time     `json:"started"`
	Elapsed  time.Duration `json:"elapsed_ns"`
	Command  string        `json:"command"`
	Go       string        `json:"go"`
	Kernel   string        `json:"kernel"`
	CPUs     int           `json:"cpus"`
	CPUModel string        `json:"cpu_model"`
	FDLimit  string        `json:"fd_limit"`
	// LoadStart and LoadEnd are the 1-minute load averages when the command
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
		note += " WARNING: other work was using the CPUs: the req/s, latency and CPU ratios are unreliable " +
			"(memory and goroutine counts are not affected). Run again on a quiet machine."
	}
	return note
}

// loadAvg is the machine's 1-minute load average, or -1.
func loadAvg() float64 {
	l, err := procstat.LoadAvg()
	if err != nil {
		return -1
	}
	return l
}

// collectRunInfo describes the machine.
func collectRunInfo(started time.Time, command string) runInfo {
	i := runInfo{Started: started, Command: command, Go: runtime.Version(), CPUs: runtime.NumCPU(), LoadEnd: loadAvg()}
	var u syscall.Utsname
	if syscall.Uname(&u) == nil {
		var rel []byte
		for _, c := range u.Release {
			if c == 0 {
				break
			}
			rel = append(rel, byte(c))
		}
		i.Kernel = string(rel)
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				i.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) == nil {
		i.FDLimit = fmt.Sprint(rl.Cur)
	}
	return i
}

// writeOutputs writes report.md, results.json and (with HTTP/1 memory
// figures) memory.svg into dir, and returns the names written.
func writeOutputs(r *report, dir string) ([]string, error) {
	type verdictJSON struct {
		Figure string    `json:"figure"`
		Target string    `json:"target"`
		Values []float64 `json:"values_per_run"`
		Status string    `json:"status"`
	}
	var vs []verdictJSON
	for _, v := range r.verdicts() {
		vs = append(vs, verdictJSON{v.Figure, v.Cmp + " " + format(v.Limit, v.Unit), v.s.Values, v.status})
	}
	js, err := json.MarshalIndent(struct {
		Info    runInfo             `json:"run"`
		Config  map[string]any      `json:"config"`
		Servers map[string][]string `json:"servers"`
		Notes   []string            `json:"notes,omitempty"`
		Targets []verdictJSON       `json:"targets"`
		Runs    []runRecord         `json:"runs"`
	}{r.Info, r.cfg.summary(), r.Servers, r.Notes, vs, r.Runs}, "", "  ")
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{"report.md": []byte(r.markdown()), "results.json": append(js, '\n')}
	if series := r.chartSeries(); len(series) > 0 {
		title := fmt.Sprintf("Server RSS per idle HTTP/1 keep-alive connection (%s, %d CPUs)", r.Info.Go, r.Info.CPUs)
		svg, err := memoryChart(title, series, 256)
		if err != nil {
			return nil, err
		}
		files["memory.svg"] = svg
	}
	var names []string
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return nil, err
		}
		names = append(names, name)
	}
	slices.Sort(names)
	return names, nil
}

// summary is the configuration as results.json records it.
func (c *config) summary() map[string]any {
	return map[string]any{
		"runs": c.runs, "n": c.n, "points": c.points, "arrival": c.arrivals, "servers": c.servers,
		"ws_n": c.wsN, "sse_n": c.sseN, "tls_n": c.tlsN, "sse_events": c.sseEvents,
		"duration": c.duration.String(), "warmup": c.warmup.String(), "rounds": c.rounds, "load_conns": c.loadConns,
		"trickle_interval": c.trickleInterval.String(), "trickle_duration": c.trickleDuration.String(),
		"trickle_rounds": c.trickleRounds, "grace": c.grace.String(), "settle": c.settle.String(), "smoke": c.smoke,
	}
}

// summariseProfiles runs go tool pprof -top on every profile written to out.
func summariseProfiles(out string) []profileSummary {
	files, _ := filepath.Glob(filepath.Join(out, "*.cpu.prof"))
	var res []profileSummary
	for _, file := range files {
		b, err := exec.Command("go", "tool", "pprof", "-top", "-cum", "-nodecount=25", file).Output()
		top := strings.TrimSpace(string(b))
		if err != nil {
			top = "go tool pprof failed: " + err.Error()
		}
		base := strings.TrimSuffix(filepath.Base(file), ".cpu.prof")
		server, phase, _ := strings.Cut(base, ".")
		res = append(res, profileSummary{Server: server, Phase: phase, File: file, Top: top})
	}
	return res
}
