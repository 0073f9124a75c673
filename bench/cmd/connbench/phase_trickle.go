//go:build linux

package main

import (
	"fmt"
	"slices"
	"time"

	"github.com/pollnet/pollnet/bench/internal/latency"
)

// runTrickle runs the trickle on every holder's idle connections: each sends
// one message per interval, so that with hibernation every message wakes a
// parked (or waiting) connection. Rounds alternate the servers (the order
// reverses every other round). Per server it records the median CPU per
// request over the rounds and the percentiles of all rounds' latencies.
func (r *runner) runTrickle(scenario string, holders []*holder, rounds int) error {
	cfg := r.cfg
	type acc struct {
		cpu                   []float64
		lat                   *latency.Recorder
		requests, errs, wakes int
		wakesKnown            bool
	}
	accs := map[*holder]*acc{}
	for _, h := range holders {
		accs[h] = &acc{lat: latency.New(), wakesKnown: true}
	}
	for round := 1; round <= rounds; round++ {
		order := slices.Clone(holders)
		if round%2 == 0 {
			slices.Reverse(order)
		}
		for _, h := range order {
			name := h.s.spec.name
			r.waitIdle(h.s, h.held)
			st0, _ := h.s.stats(false)
			cpu0 := h.s.cpu()
			var res loadResult
			label := fmt.Sprintf("%s: trickle %d, interval", name, round)
			if err := r.call(h.client, &res, label, cfg.trickleDuration+5*time.Minute, "trickle %s %s",
				cfg.trickleInterval, cfg.trickleDuration); err != nil {
				return err
			}
			cpu := (h.s.cpu() - cpu0).Seconds()
			st1, _ := h.s.stats(false)
			a := accs[h]
			a.cpu = append(a.cpu, perRequestMicros(cpu, res.Requests))
			a.requests += res.Requests
			a.errs += res.Errors
			w0, ok0 := st0["wakes"]
			w1, ok1 := st1["wakes"]
			a.wakesKnown = a.wakesKnown && ok0 && ok1
			a.wakes += int(w1 - w0)
			lat, err := latency.Decode(res.Hist)
			if err != nil {
				return err
			}
			a.lat.Merge(lat)
			if res.Errors > 0 {
				r.fail(name, "%s trickle %d: %d exchanges failed (first: %s)", scenario, round, res.Errors, res.FirstErr)
			}
			s := lat.Summary()
			r.logf("%s: trickle %d, %d conns: %d messages, server CPU %.2fs (%.0f µs/msg), p50 %s p99 %s, wakes %d",
				name, round, res.Conns, res.Requests, cpu, perRequestMicros(cpu, res.Requests),
				latency.Duration(s.P50), latency.Duration(s.P99), w1-w0)
		}
	}
	for h, a := range accs {
		name, s := h.s.spec.name, a.lat.Summary()
		r.m.set(scenario, name, "trickle_cpu_us", medianOf(a.cpu))
		r.m.set(scenario, name, "trickle_p50_us", s.P50)
		r.m.set(scenario, name, "trickle_p99_us", s.P99)
		r.m.set(scenario, name, "trickle_requests", float64(a.requests))
		r.m.set(scenario, name, "trickle_errors", float64(a.errs))
		if a.wakesKnown {
			r.m.set(scenario, name, "trickle_wakes", float64(a.wakes))
		}
	}
	return nil
}
