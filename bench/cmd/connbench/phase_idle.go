//go:build linux

package main

import (
	"fmt"
	"time"
)

// idleScenario measures servers holding idle connections: server RSS per
// connection (after a GC in the server), goroutines, then one more exchange
// on every connection, so that a server that dropped any is caught.
type idleScenario struct {
	name    string // the metrics' scenario: http-steps, http-burst, ws, sse, tls
	proto   string // what the client speaks: http, ws, sse, https
	servers []serverSpec
	points  []int // N values, ascending; the last is N
	// burst: every point on a fresh server, its connections opened at once
	// by the client's 64 concurrent dialers; otherwise one server grows
	// through the points, measured at each.
	burst bool
}

// holder is a server with idle connections held by its own client process.
type holder struct {
	s      *server
	client *child
	held   int
}

// close closes the held connections (client first, so that TIME_WAIT lands
// on the client's spread addresses), then stops the client and the server.
func (h *holder) close(r *runner) {
	var ignored openResult
	_ = r.call(h.client, &ignored, h.s.spec.name+": closing", time.Minute, "close")
	h.client.stop(2 * time.Second)
	h.s.proc.stop(3 * time.Second)
}

// memPoint is a server's memory with n idle connections.
type memPoint struct {
	n, held     int
	rss, base   int64
	detached    int64 // connections parked or waiting in OnReadable; -1: the server keeps them
	goroutines  int   // -1: unknown
	openSeconds float64
	failed      int // connections that failed to open
}

func (p memPoint) growth() int64 { return p.rss - p.base }

// startHolder starts a server and its client and measures the server's RSS
// with no connection.
func (r *runner) startHolder(spec serverSpec, phase string) (*holder, int64, error) {
	s, err := r.startServer(spec, phase)
	if err != nil {
		return nil, 0, err
	}
	client, err := r.startClient(spec.name + " client")
	if err != nil {
		s.proc.stop(time.Second)
		return nil, 0, err
	}
	h := &holder{s: s, client: client}
	time.Sleep(r.cfg.settle)
	base, _, err := r.measureRSS(s)
	if err != nil {
		h.close(r)
		return nil, 0, err
	}
	return h, base, nil
}

// grow opens connections up to n on h and measures the server.
func (r *runner) grow(sc *idleScenario, h *holder, n int, base int64) (memPoint, error) {
	name := h.s.spec.name
	var o openResult
	label := fmt.Sprintf("%s: opening %d %s connections", name, n, sc.proto)
	if err := r.call(h.client, &o, label, 5*time.Minute, "open %s %s %d", sc.proto, h.s.addr, n); err != nil {
		return memPoint{}, err
	}
	if o.Failed > 0 {
		r.fail(name, "%s: opening to %d: %d connections failed (first: %s)", sc.name, n, o.Failed, o.FirstErr)
	}
	h.held = o.Held
	time.Sleep(r.cfg.settle)
	p := memPoint{n: n, held: o.Held, base: base, openSeconds: o.Seconds, failed: o.Failed, goroutines: -1}
	p.detached = r.waitIdle(h.s, o.Held)
	rss, st, err := r.measureRSS(h.s)
	if err != nil {
		return p, err
	}
	p.rss = rss
	if g, ok := st["goroutines"]; ok {
		p.goroutines = int(g)
	}
	extra := ""
	if p.detached >= 0 {
		extra = fmt.Sprintf(", %d %s", p.detached, h.s.spec.waitFor)
	}
	r.logf("%s: %d idle %s connections: RSS %s (idle %s), %.0f B/conn, %d goroutines%s (opened in %.1fs)",
		name, o.Held, sc.proto, mib(rss), mib(base), perConn(p), p.goroutines, extra, o.Seconds)
	return p, nil
}

func perConn(p memPoint) float64 {
	if p.held == 0 {
		return 0
	}
	return float64(p.growth()) / float64(p.held)
}

// checkAll does one more exchange on every held connection.
func (r *runner) checkAll(sc *idleScenario, h *holder) (openResult, error) {
	var res openResult
	if protocols[sc.proto].exchange == nil {
		return res, nil
	}
	name := h.s.spec.name
	if err := r.call(h.client, &res, name+": one more exchange on every connection", 5*time.Minute, "check"); err != nil {
		return res, err
	}
	if res.Failed > 0 {
		r.fail(name, "%s: second exchange failed on %d of %d connections (first: %s)", sc.name, res.Failed, res.OK+res.Failed, res.FirstErr)
	}
	r.logf("%s: second exchange ok on %d, failed on %d connections", name, res.OK, res.Failed)
	return res, nil
}

// runIdle runs the scenario. Without burst it returns the holders, every
// server still holding its connections (for the trickle or the broadcast);
// the caller closes them.
func (r *runner) runIdle(sc *idleScenario) ([]*holder, error) {
	var holders []*holder
	for _, spec := range sc.servers {
		t0 := time.Now()
		var mem []memPoint
		var check openResult
		if sc.burst {
			for _, n := range sc.points {
				h, base, err := r.startHolder(spec, sc.name)
				if err != nil {
					return holders, err
				}
				p, err := r.grow(sc, h, n, base)
				if err == nil && n == sc.points[len(sc.points)-1] {
					check, err = r.checkAll(sc, h)
				}
				h.close(r)
				if err != nil {
					return holders, err
				}
				mem = append(mem, p)
			}
		} else {
			h, base, err := r.startHolder(spec, sc.name)
			if err != nil {
				return holders, err
			}
			holders = append(holders, h)
			for _, n := range sc.points {
				p, err := r.grow(sc, h, n, base)
				if err != nil {
					return holders, err
				}
				mem = append(mem, p)
			}
			if check, err = r.checkAll(sc, h); err != nil {
				return holders, err
			}
		}
		r.recordMemory(sc, spec.name, mem, check)
		r.logf("%s: %s phase took %v", spec.name, sc.name, time.Since(t0).Round(100*time.Millisecond))
	}
	return holders, nil
}

// recordMemory stores a server's memory points into the run's metrics.
func (r *runner) recordMemory(sc *idleScenario, name string, mem []memPoint, check openResult) {
	m, s := r.m, sc.name
	for _, p := range mem {
		m.set(s, name, fmt.Sprintf("rss_per_conn@%d", p.n), perConn(p))
	}
	last := mem[len(mem)-1]
	m.set(s, name, "n", float64(last.held))
	m.set(s, name, "rss_per_conn", perConn(last))
	m.set(s, name, "base_rss", float64(last.base))
	m.set(s, name, "rss", float64(last.rss))
	if last.goroutines >= 0 {
		m.set(s, name, "goroutines", float64(last.goroutines))
	}
	if last.detached >= 0 {
		m.set(s, name, "detached", float64(last.detached))
	}
	if len(mem) >= 2 {
		a := mem[len(mem)-2]
		if last.held > a.held {
			m.set(s, name, "marginal", float64(last.growth()-a.growth())/float64(last.held-a.held))
		}
	}
	lost := check.Failed
	for _, p := range mem {
		lost += p.failed
	}
	m.set(s, name, "lost", float64(lost))
	if protocols[sc.proto].exchange != nil {
		m.set(s, name, "checked", float64(check.OK))
	}
}
