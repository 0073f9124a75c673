//go:build linux

package main

import (
	"math"
	"slices"
	"strconv"
)

// metrics are one run's measurements, flat: "scenario/server/quantity" to a
// value. Every table, target and chart of the report is computed from them,
// so that several runs combine the same way everywhere (spread).
//
// Scenarios: http-steps, http-burst, ws, sse, tls (idle connections), and
// http-load-C, tls-load-C (keep-alive load at C connections). Quantities:
//
//	n, rss_per_conn, marginal, base_rss, rss, goroutines, lost, checked,
//	rss_per_conn@N                 idle memory (bytes, counts)
//	detached                       connections given back to pollnet:
//	                               parked, or waiting in OnReadable
//	trickle_cpu_us, trickle_p50_us, trickle_p99_us, trickle_requests,
//	trickle_wakes, trickle_errors  trickle (CPU per request, latency)
//	broadcast_cpu_us, broadcast_wall_us, events_ok, events_failed  SSE
//	rps, p50_us, p99_us, cpu_us, errors, parks_per_req             load
type metrics map[string]float64

func metricKey(scenario, server, quantity string) string {
	return scenario + "/" + server + "/" + quantity
}

func (m metrics) set(scenario, server, quantity string, v float64) {
	if !math.IsNaN(v) && !math.IsInf(v, 0) {
		m[metricKey(scenario, server, quantity)] = v
	}
}

func (m metrics) get(scenario, server, quantity string) (float64, bool) {
	v, ok := m[metricKey(scenario, server, quantity)]
	return v, ok
}

func loadScenario(kind string, conns int) string { return kind + "-load-" + strconv.Itoa(conns) }

// measure is a quantity of a server, absolute or relative to another server
// of the same scenario.
type measure struct {
	Quantity string
	Versus   string // baseline server; "" for the absolute value
	Relation string // with Versus: "ratio" (value / baseline) or "diff" (value - baseline)
}

// eval computes the measure in one run.
func (q measure) eval(m metrics, scenario, server string) (float64, bool) {
	v, ok := m.get(scenario, server, q.Quantity)
	if !ok || q.Versus == "" {
		return v, ok
	}
	b, ok := m.get(scenario, q.Versus, q.Quantity)
	if !ok {
		return 0, false
	}
	switch q.Relation {
	case "diff":
		return v - b, true
	case "ratio":
		if b == 0 {
			return 0, false
		}
		return v / b, true
	}
	return 0, false
}

// spread is a measure over several runs.
type spread struct {
	Min, Median, Max float64
	Values           []float64 // per run that has it, in run order
}

// over evaluates the measure in every run that has it.
func (q measure) over(runs []metrics, scenario, server string) (spread, bool) {
	var vals []float64
	for _, m := range runs {
		if v, ok := q.eval(m, scenario, server); ok {
			vals = append(vals, v)
		}
	}
	if len(vals) == 0 {
		return spread{}, false
	}
	s := slices.Clone(vals)
	slices.Sort(s)
	return spread{Min: s[0], Median: median(s), Max: s[len(s)-1], Values: vals}, true
}

// median returns the median of sorted xs (the mean of the middle two for an
// even count), or NaN for none.
func median(sorted []float64) float64 {
	n := len(sorted)
	switch {
	case n == 0:
		return math.NaN()
	case n%2 == 1:
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// medianOf is the median of unsorted xs.
func medianOf(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return median(s)
}
