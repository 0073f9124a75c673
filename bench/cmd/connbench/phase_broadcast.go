//go:build linux

package main

import (
	"fmt"
	"strings"
	"time"
)

// runBroadcast measures, on every SSE holder, the server CPU of broadcasting
// one event to every subscriber (the mean of -sse-events broadcasts, each
// finished before the next), then has the client check that every subscriber
// received every event exactly once, in order.
func (r *runner) runBroadcast(scenario string, holders []*holder) error {
	k := r.cfg.sseEvents
	for _, h := range holders {
		name := h.s.spec.name
		var wall float64
		cpu0 := h.s.cpu()
		for id := 1; id <= k; id++ {
			reply, err := h.s.command(fmt.Sprintf("broadcast %d", id), 2*time.Minute)
			if err != nil {
				return err
			}
			sent, secs := parseBroadcastReply(reply)
			if sent != h.held {
				r.fail(name, "broadcast %d reached %d of %d subscribers (%s)", id, sent, h.held, reply)
			}
			wall += secs
		}
		cpu := (h.s.cpu() - cpu0).Seconds()
		if _, err := h.s.command("broadcast end", 2*time.Minute); err != nil {
			return err
		}
		var res openResult
		if err := r.call(h.client, &res, name+": reading the events", 5*time.Minute, "sse %d", k); err != nil {
			return err
		}
		if res.Failed > 0 {
			r.fail(name, "%d of %d subscribers did not receive events 1..%d exactly once (first: %s)", res.Failed, res.OK+res.Failed, k, res.FirstErr)
		}
		r.m.set(scenario, name, "broadcast_cpu_us", cpu/float64(k)*1e6)
		r.m.set(scenario, name, "broadcast_wall_us", wall/float64(k)*1e6)
		r.m.set(scenario, name, "events_ok", float64(res.OK))
		r.m.set(scenario, name, "events_failed", float64(res.Failed))
		r.logf("%s: %d broadcasts to %d subscribers: server CPU %.1f ms each, %.1f ms wall; %d subscribers got every event once, %d did not",
			name, k, h.held, cpu/float64(k)*1e3, wall/float64(k)*1e3, res.OK, res.Failed)
	}
	return nil
}

// parseBroadcastReply reads "sent=N failed=F seconds=S".
func parseBroadcastReply(reply string) (sent int, seconds float64) {
	for _, f := range strings.Fields(reply) {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "sent":
			fmt.Sscan(v, &sent)
		case "seconds":
			fmt.Sscan(v, &seconds)
		}
	}
	return sent, seconds
}
