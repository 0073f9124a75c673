//go:build linux

package main

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/pollnet/pollnet/bench/internal/latency"
)

// runRecord is one run: its metrics and what went wrong.
type runRecord struct {
	Metrics metrics  `json:"metrics"`
	Errors  []string `json:"errors,omitempty"`
}

// report is everything the command produced, ready to render.
type report struct {
	Info     runInfo
	cfg      *config
	Runs     []runRecord
	Servers  map[string][]string // measured servers by kind, in order
	Notes    []string            // what was not measured, and why
	Profiles []profileSummary
}

// profileSummary is the top of one server's CPU profile.
type profileSummary struct {
	Server, Phase, File, Top string
}

func (r *report) metrics() []metrics {
	out := make([]metrics, len(r.Runs))
	for i, run := range r.Runs {
		out[i] = run.Metrics
	}
	return out
}

// format renders a value in a unit.
func format(v float64, unit string) string {
	switch unit {
	case "B":
		return thousands(v) + " B"
	case "MiB":
		return mib(int64(v))
	case "x":
		return fmt.Sprintf("%.2fx", v)
	case "µs":
		return latency.Duration(v)
	case "+µs":
		if math.Abs(v) >= 10000 {
			return fmt.Sprintf("%+.1f ms", v/1000)
		}
		return fmt.Sprintf("%+.0f µs", v)
	case "µs/op":
		return fmt.Sprintf("%.1f µs", v)
	case "ms/op":
		return fmt.Sprintf("%.1f ms", v/1000)
	case "frac":
		return fmt.Sprintf("%.3f", v)
	case "goroutines":
		return thousands(v)
	}
	return thousands(v)
}

// thousands formats v rounded to an integer with thousands separators.
func thousands(v float64) string {
	n := int64(math.Round(v))
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return sign + s
}

// cell renders a spread: the value for one run, else "median (min-max)".
func cell(s spread, ok bool, unit string) string {
	if !ok {
		return "-"
	}
	if len(s.Values) == 1 {
		return format(s.Median, unit)
	}
	return fmt.Sprintf("%s (%s-%s)", format(s.Median, unit), format(s.Min, unit), format(s.Max, unit))
}

// column is one column of a per-server table: a measure of the row's
// server, relative (Relation set) to the table's baseline server.
type column struct {
	head     string
	quantity string
	relation string // "", "ratio" or "diff" against the baseline
	unit     string
}

// table renders one row per server of scenario: its name, then columns.
func (r *report) table(scenario, baseline string, servers []string, cols []column) [][]string {
	runs := r.metrics()
	head := []string{"server"}
	for _, c := range cols {
		head = append(head, c.head)
	}
	rows := [][]string{head}
	for _, srv := range servers {
		if _, ok := (measure{Quantity: cols[0].quantity}).over(runs, scenario, srv); !ok {
			continue // not measured in this scenario
		}
		row := []string{srv}
		for _, c := range cols {
			q := measure{Quantity: c.quantity}
			if c.relation != "" {
				q.Versus, q.Relation = baseline, c.relation
			}
			s, ok := q.over(runs, scenario, srv)
			row = append(row, cell(s, ok, c.unit))
		}
		rows = append(rows, row)
	}
	return rows
}

var memoryColumns = []column{
	{"RSS/conn", "rss_per_conn", "", "B"},
	{"x base", "rss_per_conn", "ratio", "x"},
	{"marginal", "marginal", "", "B"},
	{"RSS idle", "base_rss", "", "MiB"},
	{"RSS at N", "rss", "", "MiB"},
	{"goroutines", "goroutines", "", "goroutines"},
	{"parked/waiting", "detached", "", "n"},
	{"2nd exchange ok", "checked", "", "n"},
	{"lost", "lost", "", "n"},
}

var trickleColumns = []column{
	{"messages", "trickle_requests", "", "n"},
	{"CPU/msg", "trickle_cpu_us", "", "µs/op"},
	{"x base", "trickle_cpu_us", "ratio", "x"},
	{"p50", "trickle_p50_us", "", "µs"},
	{"p50 - base", "trickle_p50_us", "diff", "+µs"},
	{"p99", "trickle_p99_us", "", "µs"},
	{"p99 - base", "trickle_p99_us", "diff", "+µs"},
	{"wakes", "trickle_wakes", "", "n"},
	{"errors", "trickle_errors", "", "n"},
}

var loadColumns = []column{
	{"req/s", "rps", "", "n"},
	{"x base", "rps", "ratio", "x"},
	{"p50", "p50_us", "", "µs"},
	{"p99", "p99_us", "", "µs"},
	{"p99 x base", "p99_us", "ratio", "x"},
	{"CPU/req", "cpu_us", "", "µs/op"},
	{"x base", "cpu_us", "ratio", "x"},
	{"errors", "errors", "", "n"},
	{"parks/req", "parks_per_req", "", "frac"},
}

var broadcastColumns = []column{
	{"CPU per broadcast", "broadcast_cpu_us", "", "ms/op"},
	{"x base", "broadcast_cpu_us", "ratio", "x"},
	{"wall per broadcast", "broadcast_wall_us", "", "ms/op"},
	{"got every event once", "events_ok", "", "n"},
	{"did not", "events_failed", "", "n"},
}

// section is one titled table of the report, with its explanation.
type section struct {
	title, about string
	rows         [][]string
}

func (r *report) sections() []section {
	c := r.cfg
	var out []section
	add := func(title, about, scenario, kind string, cols []column) {
		rows := r.table(scenario, baselineServer[kind], r.Servers[kind], cols)
		if len(rows) > 1 {
			out = append(out, section{title, about, rows})
		}
	}
	add(fmt.Sprintf("HTTP/1 idle keep-alive connections, connbench's client (steps): N = %s", thousands(float64(c.n))),
		"The client grows the set through N = "+joinInts(c.points)+", measuring at each; *marginal* is the RSS added per connection between the last two.",
		"http-steps", "http", memoryColumns)
	if rows := r.curveRows(); len(rows) > 1 {
		out = append(out, section{"HTTP/1 RSS per idle connection against N (steps)", "![server RSS per idle connection against N](memory.svg)", rows})
	}
	add(fmt.Sprintf("HTTP/1 idle keep-alive connections, 64-way connect burst: N = %s", thousands(float64(c.n))),
		fmt.Sprintf("Each N (%s and %s) on a fresh server, every connection opened at once by 64 concurrent dialers; *marginal* is the slope between the two.",
			thousands(float64(c.n/2)), thousands(float64(c.n))),
		"http-burst", "http", memoryColumns)
	add(fmt.Sprintf("HTTP/1 trickle: every idle connection sends one request per %v, for %v, %d alternating run(s)", c.trickleInterval, c.trickleDuration, c.trickleRounds),
		"Every server holds its N idle connections meanwhile. For `pollnet-serve` every request finds its connection parked: its latency is the wake-up latency (*wakes* counts them). CPU = server utime + stime from /proc per request, median of the runs; latency percentiles over all runs.",
		"http-steps", "http", trickleColumns)
	for _, conns := range c.loadConns {
		add(fmt.Sprintf("HTTP/1 keep-alive load, %s connections: closed loop, %v measured per round, %d alternating round(s)", thousands(float64(conns)), c.duration, c.rounds),
			"One request in flight per connection; req/s and CPU per request are medians of the rounds, latency percentiles over all rounds. *parks/req*: idle parks per request (hibernation cost).",
			loadScenario("http", conns), "http", loadColumns)
	}
	add(fmt.Sprintf("Idle WebSockets: N = %s", thousands(float64(c.wsN))),
		"Measured at N/2 and N; the second exchange is one echoed message per connection, each checked.",
		"ws", "ws", memoryColumns)
	add(fmt.Sprintf("A message on an idle WebSocket: every connection sends one per %v, for %v, one run per server", c.trickleInterval, c.trickleDuration),
		"Latency from the message's write to its echo's end; base: gobwas/ws with a goroutine per connection on std.",
		"ws", "ws", trickleColumns)
	add(fmt.Sprintf("Idle SSE subscribers: N = %s", thousands(float64(c.sseN))),
		"Measured at N/2 and N.", "sse", "sse", memoryColumns)
	add(fmt.Sprintf("SSE broadcast: one event to all %s subscribers, mean of %d", thousands(float64(c.sseN)), c.sseEvents),
		"Server CPU from /proc over the broadcasts (each finished before the next); then every subscriber must have received every event exactly once, in order.",
		"sse", "sse", broadcastColumns)
	add(fmt.Sprintf("Idle HTTPS/1.1 keep-alive connections (TLS 1.3, ECDSA P-256): N = %s", thousands(float64(c.tlsN))),
		"Measured at N/2 and N; the second exchange is a second request on the same TLS session.",
		"tls", "tls", memoryColumns)
	for _, conns := range c.loadConns {
		add(fmt.Sprintf("HTTPS keep-alive load, %s connections, %d alternating round(s)", thousands(float64(conns)), c.rounds),
			"Connections are opened (full TLS 1.3 handshakes) before the clock starts.",
			loadScenario("tls", conns), "tls", loadColumns)
	}
	return out
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = thousands(float64(n))
	}
	return strings.Join(s, ", ")
}

// curveRows: HTTP/1 RSS per connection at each N of the steps arrival.
func (r *report) curveRows() [][]string {
	head := []string{"server"}
	for _, n := range r.cfg.points {
		head = append(head, "N="+thousands(float64(n)))
	}
	rows := [][]string{head}
	runs := r.metrics()
	for _, srv := range r.Servers["http"] {
		row := []string{srv}
		have := false
		for _, n := range r.cfg.points {
			s, ok := measure{Quantity: fmt.Sprintf("rss_per_conn@%d", n)}.over(runs, "http-steps", srv)
			have = have || ok
			row = append(row, cell(s, ok, "B"))
		}
		if have {
			rows = append(rows, row)
		}
	}
	return rows
}

// verdict is a target evaluated over the runs.
type verdict struct {
	target
	s        spread
	measured bool
	metRuns  int
	status   string
}

func (r *report) verdicts() []verdict {
	runs := r.metrics()
	var out []verdict
	for _, t := range targets {
		v := verdict{target: t}
		v.s, v.measured = t.over(runs, t.Scenario, t.Server)
		if !v.measured {
			v.status = "not measured"
			out = append(out, v)
			continue
		}
		for _, x := range v.s.Values {
			if t.met(x) {
				v.metRuns++
			}
		}
		v.status = "MISSED"
		if t.met(v.s.Median) {
			v.status = "MET"
		}
		if n, ok := (measure{Quantity: "n"}).over(runs, t.Scenario, t.Server); ok && t.AtN > 0 && int(n.Median) != t.AtN {
			v.status += fmt.Sprintf(" (at N = %s, not %s: indicative)", thousands(n.Median), thousands(float64(t.AtN)))
		}
		if lost, ok := (measure{Quantity: "lost"}).over(runs, t.Scenario, t.Server); ok && lost.Max > 0 {
			v.status = fmt.Sprintf("INVALID: %s connections lost", thousands(lost.Max))
		}
		out = append(out, v)
	}
	return out
}

func (r *report) targetRows() (rows [][]string, notMeasured []string, missed int) {
	rows = [][]string{{"figure", "target", "measured", "met in runs", "status"}}
	for _, v := range r.verdicts() {
		if !v.measured {
			notMeasured = append(notMeasured, v.Figure)
			continue
		}
		if !strings.HasPrefix(v.status, "MET") {
			missed++
		}
		rows = append(rows, []string{v.Figure, v.Cmp + " " + format(v.Limit, v.Unit),
			cell(v.s, true, v.Unit), fmt.Sprintf("%d/%d", v.metRuns, len(v.s.Values)), v.status})
	}
	return rows, notMeasured, missed
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

const smokeNote = "SMOKE RUN (-smoke): tiny N and durations, to check that the command works; its numbers mean nothing."

func (r *report) runsNote() string {
	if len(r.Runs) == 1 {
		return "One run: every figure is that run's. Use -runs 3 (or more) for the spread README figures need."
	}
	return fmt.Sprintf("%d runs: every figure is the median over the runs, with (min-max); a target's status is its median's.", len(r.Runs))
}

func (r *report) errorLines() []string {
	var out []string
	for _, run := range r.Runs {
		out = append(out, run.Errors...)
	}
	return out
}

// text is the plain-text summary printed on stdout.
func (r *report) text() string {
	var b strings.Builder
	if r.cfg.smoke {
		b.WriteString("\n" + smokeNote + "\n")
	}
	b.WriteString("\n" + r.Info.loadNote() + "\n" + r.runsNote() + "\n")
	for _, s := range r.sections() {
		b.WriteString("\n" + s.title + "\n" + textTable(s.rows))
	}
	rows, notMeasured, _ := r.targetRows()
	b.WriteString("\nTargets\n" + textTable(rows))
	if len(notMeasured) > 0 {
		fmt.Fprintf(&b, "%d more targets not measured here (their servers or connection counts were not in this run): see report.md.\n", len(notMeasured))
	}
	for _, n := range r.Notes {
		b.WriteString("Note: " + n + "\n")
	}
	if errs := r.errorLines(); len(errs) > 0 {
		b.WriteString("\nErrors\n  " + strings.Join(errs, "\n  ") + "\n")
	}
	return b.String()
}

// markdown is report.md.
func (r *report) markdown() string {
	i := r.Info
	var b strings.Builder
	b.WriteString("# connbench: memory per idle connection, and what it costs\n\n")
	fmt.Fprintf(&b, "Started %s, took %v, on %s with %d CPUs (%s), Linux %s, open-file limit %s, loopback only. "+
		"Client and servers share the same CPUs; every server is its own process.\n\n",
		i.Started.UTC().Format("2006-01-02 15:04 UTC"), i.Elapsed.Round(1e9), i.Go, i.CPUs, i.CPUModel, i.Kernel, i.FDLimit)
	fmt.Fprintf(&b, "Command: `%s`\n\n%s %s\n\n", i.Command, i.loadNote(), r.runsNote())
	if r.cfg.smoke {
		b.WriteString("**" + smokeNote + "**\n\n")
	}
	rows, notMeasured, missed := r.targetRows()
	b.WriteString("## Targets\n\n" + markdownTable(rows) + "\n")
	if missed > 0 {
		fmt.Fprintf(&b, "**%d target(s) not met in this report.** ", missed)
	}
	b.WriteString("Ratios and differences are against std (or the peer named) measured in the same run. " +
		"Noise: on this 2-core machine std against itself varies 0.83-1.12x in throughput and 0.66-1.50x in p99 at " +
		"100 connections; CPU per request is the steadier figure.\n\n")
	if len(notMeasured) > 0 {
		b.WriteString("Not measured in this report: " + strings.Join(notMeasured, "; ") + ".\n\n")
	}
	for _, n := range r.Notes {
		b.WriteString("- " + n + "\n")
	}
	if len(r.Notes) > 0 {
		b.WriteString("\n")
	}
	b.WriteString("RSS per connection = (VmRSS with N idle connections - VmRSS with none) / N, read from /proc after " +
		"`runtime.GC()` + `debug.FreeOSMemory()` in the server and a settle (for hibernating servers, after the " +
		"connections parked). Goroutines: `runtime.NumGoroutine()` in the server, 3 of them the harness's. " +
		"*x base* compares with the first server of the table's kind (std, gobwas/ws on std, SSE on std, std TLS). " +
		"Latency percentiles are HdrHistogram's (3 significant digits).\n\n")
	for _, s := range r.sections() {
		b.WriteString("## " + s.title + "\n\n" + markdownTable(s.rows) + "\n" + s.about + "\n\n")
	}
	if errs := r.errorLines(); len(errs) > 0 {
		b.WriteString("## Errors\n\n")
		for _, e := range errs {
			b.WriteString("- " + e + "\n")
		}
		b.WriteString("\n")
	}
	for _, p := range r.Profiles {
		fmt.Fprintf(&b, "## CPU profile: %s, %s\n\n```\n%s\n```\n\n", p.Server, p.Phase, p.Top)
	}
	b.WriteString("Raw numbers of every run: `results.json`.\n")
	return b.String()
}
