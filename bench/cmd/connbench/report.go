//go:build linux

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

// report is everything a run produced.
type report struct {
	Info     runInfo          `json:"run"`
	Config   *config          `json:"-"`
	Servers  []*serverResult  `json:"servers"`
	Profiles []profileSummary `json:"profiles,omitempty"`
}

// profileSummary is the top of one server's CPU profile.
type profileSummary struct {
	Server string `json:"server"`
	Phase  string `json:"phase"`
	File   string `json:"file"`
	Top    string `json:"top"`
}

const smokeNote = "SMOKE RUN (-smoke): tiny N and durations, to check that the command works; its numbers mean nothing."

// target is one of issue 4's targets, evaluated on this run.
type target struct {
	What     string
	Target   string
	Measured string
	Status   string // MET, MISSED, or why it was not evaluated
}

func (r *report) server(name string) *serverResult {
	for _, s := range r.Servers {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// ratio formats a/b, or "-" when it is undefined.
func ratio(a, b float64) string {
	if b == 0 || math.IsNaN(a) || math.IsNaN(b) {
		return "-"
	}
	return fmt.Sprintf("%.2fx", a/b)
}

func us(v float64) string {
	if v >= 10000 {
		return fmt.Sprintf("%.1f ms", v/1000)
	}
	return fmt.Sprintf("%.0f µs", v)
}

// memoryRows: server, bytes/conn at the largest N, ratio, goroutines,
// parked, second request.
func (r *report) memoryRows() [][]string {
	std := r.server("std")
	rows := [][]string{{"server", "RSS/conn", "x std", "marginal", "RSS idle / at N", "goroutines", "parked", "2nd request"}}
	for _, s := range r.Servers {
		m := s.largest()
		if m == nil {
			continue
		}
		rel := "-"
		if std != nil && std.largest() != nil {
			rel = ratio(m.PerConn, std.largest().PerConn)
		}
		g, p := "n/a", "-"
		if s.Goroutines >= 0 {
			g = thousands(int64(s.Goroutines))
		}
		if m.Parked >= 0 {
			p = thousands(m.Parked)
		}
		check := fmt.Sprintf("%s/%s ok", thousands(int64(s.Check.OK)), thousands(int64(s.Check.OK+s.Check.Failed)))
		if s.lost() > 0 {
			check += fmt.Sprintf(", %d LOST", s.lost())
		}
		marginal := "-"
		if v, ok := s.marginal(); ok {
			marginal = fmt.Sprintf("%s B", thousands(int64(math.Round(v))))
		}
		rows = append(rows, []string{s.Name, fmt.Sprintf("%s B", thousands(int64(math.Round(m.PerConn)))), rel,
			marginal, kb(m.Base) + " / " + kb(m.RSS), g, p, check})
	}
	return rows
}

// curveRows: bytes per connection at each N.
func (r *report) curveRows() [][]string {
	head := []string{"server"}
	for _, n := range r.Config.points {
		head = append(head, "N="+thousands(int64(n)))
	}
	rows := [][]string{head}
	for _, s := range r.Servers {
		row := []string{s.Name}
		for _, m := range s.Mem {
			row = append(row, fmt.Sprintf("%s B", thousands(int64(math.Round(m.PerConn)))))
		}
		rows = append(rows, row)
	}
	return rows
}

// loadRows: medians of the keep-alive load.
func (r *report) loadRows() [][]string {
	std := r.server("std")
	rows := [][]string{{"server", "conns", "req/s", "x std", "p50", "p99", "p99 x std", "CPU s/1k req", "x std", "errors", "parks/req"}}
	for _, conns := range r.Config.loadConns {
		var sm loadMedians
		haveStd := false
		if std != nil {
			sm, haveStd = std.loadMedians(conns)
		}
		for _, s := range r.Servers {
			m, ok := s.loadMedians(conns)
			if !ok {
				continue
			}
			rr, pr, cr := "-", "-", "-"
			if haveStd {
				rr, pr, cr = ratio(m.RPS, sm.RPS), ratio(m.P99, sm.P99), ratio(m.CPU1k, sm.CPU1k)
			}
			parks := "-"
			if m.Parks >= 0 && m.Reqs > 0 {
				parks = fmt.Sprintf("%.3f", float64(m.Parks)/float64(m.Reqs))
			}
			rows = append(rows, []string{s.Name, thousands(int64(conns)), thousands(int64(math.Round(m.RPS))), rr,
				us(m.P50), us(m.P99), pr, fmt.Sprintf("%.4f", m.CPU1k), cr, fmt.Sprint(m.Errors), parks})
		}
	}
	return rows
}

// trickleRows: CPU per 1,000 requests and latency of the trickle load.
func (r *report) trickleRows() [][]string {
	std := r.server("std")
	rows := [][]string{{"server", "conns", "requests", "CPU s/1k req", "x std", "p50", "p99", "p99 - std", "wakes"}}
	for _, s := range r.Servers {
		t := s.Trickle
		if t == nil {
			continue
		}
		rc, dp := "-", "-"
		if std != nil && std.Trickle != nil {
			rc = ratio(t.CPUPer1000, std.Trickle.CPUPer1000)
			dp = fmt.Sprintf("%+.0f µs", t.Latency.P99-std.Trickle.Latency.P99)
		}
		w := "-"
		if t.Wakes >= 0 {
			w = thousands(t.Wakes)
		}
		rows = append(rows, []string{s.Name, thousands(int64(t.Conns)), thousands(int64(t.Requests)),
			fmt.Sprintf("%.4f", t.CPUPer1000), rc, us(t.Latency.P50), us(t.Latency.P99), dp, w})
	}
	return rows
}

// targets evaluates issue 4's targets (and the gnet/ ones when measured).
func (r *report) targets() []target {
	var ts []target
	std, ps := r.server("std"), r.server("pollnet-serve")
	status := func(ok bool) string {
		if ok {
			return "MET"
		}
		return "MISSED"
	}
	const notRun = "not measured (server not in -servers)"
	// Idle memory.
	mem := target{What: "pollnet-serve RSS per idle connection at N = 18,000", Target: "<= 256 B"}
	switch {
	case ps == nil || ps.largest() == nil:
		mem.Status = notRun
	default:
		m := ps.largest()
		mem.Measured = fmt.Sprintf("%.0f B at N = %s", m.PerConn, thousands(int64(m.Held)))
		mem.Status = status(m.PerConn <= 256)
		if m.N != 18000 {
			mem.Status += " (at N != 18,000: indicative only)"
		}
		if ps.lost() > 0 {
			mem.Status = fmt.Sprintf("INVALID: %d connections lost", ps.lost())
		}
	}
	ts = append(ts, mem)
	// Keep-alive load, for both pollnet servers.
	for _, name := range []string{"pollnet-listener", "pollnet-serve"} {
		s := r.server(name)
		for _, conns := range r.Config.loadConns {
			thr := target{What: fmt.Sprintf("%s keep-alive req/s, %d conns", name, conns), Target: ">= 0.95x std"}
			lat := target{What: fmt.Sprintf("%s keep-alive p99, %d conns", name, conns), Target: "<= 1.10x std"}
			var m, sm loadMedians
			ok1, ok2 := false, false
			if s != nil && std != nil {
				m, ok1 = s.loadMedians(conns)
				sm, ok2 = std.loadMedians(conns)
			}
			if !ok1 || !ok2 {
				thr.Status, lat.Status = notRun, notRun
			} else {
				thr.Measured = fmt.Sprintf("%s (%.0f vs %.0f, median of %d)", ratio(m.RPS, sm.RPS), m.RPS, sm.RPS, m.Runs)
				thr.Status = status(m.RPS >= 0.95*sm.RPS)
				lat.Measured = fmt.Sprintf("%s (%s vs %s)", ratio(m.P99, sm.P99), us(m.P99), us(sm.P99))
				lat.Status = status(m.P99 <= 1.10*sm.P99)
			}
			ts = append(ts, thr, lat)
		}
	}
	// Trickle.
	cpu := target{What: "pollnet-serve trickle: server CPU per request", Target: "<= 1.2x std"}
	wake := target{What: "pollnet-serve trickle: wake-up p99", Target: "<= std p99 + 0.2 ms"}
	if ps == nil || std == nil || ps.Trickle == nil || std.Trickle == nil {
		cpu.Status, wake.Status = notRun, notRun
	} else {
		cpu.Measured = fmt.Sprintf("%s (%.4f vs %.4f s/1k req)", ratio(ps.Trickle.CPUPer1000, std.Trickle.CPUPer1000),
			ps.Trickle.CPUPer1000, std.Trickle.CPUPer1000)
		cpu.Status = status(ps.Trickle.CPUPer1000 <= 1.2*std.Trickle.CPUPer1000)
		wake.Measured = fmt.Sprintf("%s vs %s (%+.0f µs)", us(ps.Trickle.Latency.P99), us(std.Trickle.Latency.P99),
			ps.Trickle.Latency.P99-std.Trickle.Latency.P99)
		wake.Status = status(ps.Trickle.Latency.P99 <= std.Trickle.Latency.P99+200)
		if ps.Trickle.Wakes >= 0 && ps.Trickle.Requests > 0 {
			wake.Measured += fmt.Sprintf(", %d of %d requests woke a parked connection", ps.Trickle.Wakes, ps.Trickle.Requests)
		}
	}
	ts = append(ts, cpu, wake)
	// gnet/ against gnet v2, when both were measured.
	pg, gv := r.server("pollnet-gnet"), r.server("gnetv2")
	if pg != nil {
		g := target{What: "pollnet-gnet RSS per idle connection at N = 18,000", Target: "<= 256 B"}
		if m := pg.largest(); m != nil {
			g.Measured = fmt.Sprintf("%.0f B at N = %s", m.PerConn, thousands(int64(m.Held)))
			g.Status = status(m.PerConn <= 256)
		}
		ts = append(ts, g)
		if gv != nil {
			for _, conns := range r.Config.loadConns {
				m, ok1 := pg.loadMedians(conns)
				sm, ok2 := gv.loadMedians(conns)
				if !ok1 || !ok2 {
					continue
				}
				ts = append(ts,
					target{What: fmt.Sprintf("pollnet-gnet req/s, %d conns", conns), Target: ">= 1.0x gnetv2",
						Measured: fmt.Sprintf("%s (%.0f vs %.0f, median of %d)", ratio(m.RPS, sm.RPS), m.RPS, sm.RPS, m.Runs),
						Status:   status(m.RPS >= sm.RPS)},
					target{What: fmt.Sprintf("pollnet-gnet p99, %d conns", conns), Target: "<= 1.10x gnetv2",
						Measured: fmt.Sprintf("%s (%s vs %s)", ratio(m.P99, sm.P99), us(m.P99), us(sm.P99)),
						Status:   status(m.P99 <= 1.10*sm.P99)})
			}
		}
	}
	return ts
}

func (r *report) targetRows() [][]string {
	rows := [][]string{{"target", "wanted", "measured", "status"}}
	for _, t := range r.targets() {
		rows = append(rows, []string{t.What, t.Target, t.Measured, t.Status})
	}
	return rows
}

// textTable renders rows with aligned columns.
func textTable(rows [][]string) string {
	var b bytes.Buffer
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, row := range rows {
		fmt.Fprintln(w, strings.Join(row, "\t"))
	}
	w.Flush()
	return b.String()
}

// markdownTable renders rows as a Markdown table, the first row as header.
func markdownTable(rows [][]string) string {
	var b strings.Builder
	for i, row := range rows {
		cells := make([]string, len(row))
		for j, c := range row {
			cells[j] = strings.ReplaceAll(c, "|", `\|`)
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
		if i == 0 {
			b.WriteString("|" + strings.Repeat("---|", len(row)) + "\n")
		}
	}
	return b.String()
}

func (r *report) headings() (mem, load, trickle string) {
	c := r.Config
	mem = fmt.Sprintf("Idle keep-alive connections: server RSS per connection at N = %s (after GC), goroutines, second request",
		thousands(int64(c.n)))
	load = fmt.Sprintf("Keep-alive load: closed loop, one request in flight per connection, %v measured per run, median of %d alternating rounds",
		c.duration, c.rounds)
	trickle = fmt.Sprintf("Trickle: every idle connection sends one request per %v, for %v (%d connections), median of %d alternating runs",
		c.trickleInterval, c.trickleDuration, c.n, c.trickleRounds)
	return
}

// text is the plain-text summary printed on stdout.
func (r *report) text() string {
	mem, load, trickle := r.headings()
	var b strings.Builder
	if r.Config.smoke {
		b.WriteString("\n" + smokeNote + "\n")
	}
	b.WriteString("\n" + r.Info.loadNote() + "\n")
	b.WriteString("\n" + mem + "\n" + textTable(r.memoryRows()))
	b.WriteString("\nRSS per connection against N\n" + textTable(r.curveRows()))
	b.WriteString("\n" + load + "\n" + textTable(r.loadRows()))
	b.WriteString("\n" + trickle + "\n" + textTable(r.trickleRows()))
	b.WriteString("\nTargets (issue 4)\n" + textTable(r.targetRows()))
	if errs := r.errorLines(); len(errs) > 0 {
		b.WriteString("\nErrors\n  " + strings.Join(errs, "\n  ") + "\n")
	}
	return b.String()
}

func (r *report) errorLines() []string {
	var out []string
	for _, s := range r.Servers {
		for _, e := range s.Errors {
			out = append(out, s.Name+": "+e)
		}
	}
	return out
}

// markdown is report.md.
func (r *report) markdown() string {
	mem, load, trickle := r.headings()
	i := r.Info
	var b strings.Builder
	b.WriteString("# connbench: memory per idle connection, throughput and trickle load\n\n")
	fmt.Fprintf(&b, "Run %s, %v, on %s with %d CPUs (%s), Linux %s, open-file limit %s, loopback only. "+
		"Client and servers share the same CPUs.\n\n",
		i.Started.UTC().Format("2006-01-02 15:04 UTC"), i.Elapsed.Round(time.Second), i.Go, i.CPUs, i.CPUModel, i.Kernel, i.FDLimit)
	fmt.Fprintf(&b, "Command: `%s`\n\n", i.Command)
	b.WriteString(i.loadNote() + "\n\n")
	if r.Config.smoke {
		b.WriteString("**" + smokeNote + "**\n\n")
	}
	b.WriteString("## " + mem + "\n\n" + markdownTable(r.memoryRows()) + "\n")
	b.WriteString("RSS per connection = (VmRSS with N idle connections - VmRSS with none) / N, each read from " +
		"`/proc/PID/status` after `runtime.GC()` + `debug.FreeOSMemory()` in the server (SIGUSR1) and a settle; " +
		"for `pollnet-serve`, after the connections parked. Goroutines: `runtime.NumGoroutine()` in the server " +
		"(includes 3 of the harness: signal and stdin watchers). *marginal*: RSS added per connection between " +
		"the last two N values, the cost of one more connection without the fixed part. *2nd request*: every idle connection sent a second " +
		"request afterwards; a server that lost any connection has its numbers marked LOST.\n\n")
	b.WriteString("![server RSS per idle connection against N](memory.svg)\n\n")
	b.WriteString(markdownTable(r.curveRows()) + "\n")
	b.WriteString("## " + load + "\n\n" + markdownTable(r.loadRows()) + "\n")
	b.WriteString("Each server ran in its own process, all started at once and idle but for the one under load; " +
		"rounds alternate the servers (A B C, then C B A). Requests are counted when they start after the warm-up and " +
		"finish within the measured window. *CPU s/1k req*: server CPU (utime + stime) per 1,000 requests, " +
		"the median over the rounds; it depends less on what else the machine runs than req/s does. *parks/req*: idle parks per request during the load (hibernation cost). " +
		"The load generator is connbench's own Go client (one goroutine per connection, each with one request in " +
		"flight) on the same CPUs as the server: its absolute req/s are lower than wrk's, compare the ratios.\n\n")
	b.WriteString("## " + trickle + "\n\n" + markdownTable(r.trickleRows()) + "\n")
	b.WriteString("Every server holds its idle connections (from its own client process) during the whole " +
		"trickle phase; the runs alternate the servers (A B C, then C B A). " +
		"Server CPU = utime + stime from `/proc/PID/stat` over each run. Latency is measured from the " +
		"request's write to the end of its response. For `pollnet-serve` every trickle request finds its connection " +
		"parked (the interval exceeds the grace period), so its latency is the wake-up latency; *wakes* counts them.\n\n")
	b.WriteString("## Targets (issue 4)\n\n" + markdownTable(r.targetRows()) + "\n")
	missed := 0
	for _, t := range r.targets() {
		if strings.HasPrefix(t.Status, "MISSED") || strings.HasPrefix(t.Status, "INVALID") {
			missed++
		}
	}
	if missed > 0 {
		fmt.Fprintf(&b, "**%d target(s) missed in this run.** ", missed)
		if len(r.Profiles) == 0 {
			b.WriteString("Where the server time goes: run again with `-profile` (CPU profiles of the root-module " +
				"servers, summarised at the end of this report). ")
		}
	}
	fmt.Fprintf(&b, "Noise: on this 2-core machine, std against itself varies 0.83-1.12x in throughput and "+
		"0.66-1.50x in p99 at 100 connections (BENCHMARKS.md); this run has %d round(s) per point, so a ratio within "+
		"that band is not a difference. Repeat with `-rounds 5 -duration 5s` before believing a small one.\n\n", r.Config.rounds)
	if errs := r.errorLines(); len(errs) > 0 {
		b.WriteString("## Errors\n\n")
		for _, e := range errs {
			b.WriteString("- " + e + "\n")
		}
		b.WriteString("\n")
	}
	if len(r.Profiles) > 0 {
		b.WriteString("## CPU profiles\n\n")
		for _, p := range r.Profiles {
			fmt.Fprintf(&b, "### %s, %s phase (`%s`)\n\n```\n%s\n```\n\n", p.Server, p.Phase, filepath.Base(p.File), p.Top)
		}
	}
	b.WriteString("Raw numbers: `results.json`.\n")
	return b.String()
}

// chartSeries returns one series per server: bytes per connection against N.
func (r *report) chartSeries() []chartSeries {
	var out []chartSeries
	for _, s := range r.Servers {
		cs := chartSeries{Name: s.Name}
		for _, m := range s.Mem {
			cs.Points = append(cs.Points, chartPoint{X: float64(m.Held), Y: m.PerConn})
		}
		out = append(out, cs)
	}
	return out
}

func joinOut(dir, name string) string { return filepath.Join(dir, name) }

// writeOutputs writes report.md, memory.svg and results.json into dir.
func writeOutputs(r *report, dir string) error {
	js, err := json.MarshalIndent(struct {
		*report
		Config map[string]any `json:"config"`
	}{r, r.Config.summary()}, "", "  ")
	if err != nil {
		return err
	}
	title := fmt.Sprintf("Server RSS per idle keep-alive connection (%s, %d CPUs)", r.Info.Go, r.Info.CPUs)
	files := map[string][]byte{
		"report.md":    []byte(r.markdown()),
		"memory.svg":   []byte(renderMemoryChart(title, r.chartSeries(), []chartRef{{Y: 256, Label: "target: 256 B"}})),
		"results.json": append(js, '\n'),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// summary is the configuration as results.json records it.
func (c *config) summary() map[string]any {
	return map[string]any{
		"n": c.n, "points": c.points, "servers": c.servers, "duration": c.duration.String(),
		"warmup": c.warmup.String(), "rounds": c.rounds, "load_conns": c.loadConns,
		"trickle_interval": c.trickleInterval.String(), "trickle_duration": c.trickleDuration.String(),
		"grace": c.grace.String(), "settle": c.settle.String(), "smoke": c.smoke,
	}
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

// summariseProfiles runs go tool pprof -top on each root server's profiles.
func summariseProfiles(cfg *config, specs []serverSpec) []profileSummary {
	var out []profileSummary
	for _, s := range specs {
		if !s.profiles {
			continue
		}
		for _, phase := range []string{"idle", "load"} {
			file := profilePath(cfg.out, s.name, phase)
			if _, err := os.Stat(file); err != nil {
				continue
			}
			cmd := exec.Command("go", "tool", "pprof", "-top", "-cum", "-nodecount=25", file)
			b, err := cmd.Output()
			top := strings.TrimSpace(string(b))
			if err != nil {
				top = "go tool pprof failed: " + err.Error()
			}
			out = append(out, profileSummary{Server: s.name, Phase: phase, File: file, Top: top})
		}
	}
	return out
}
