//go:build linux

package main

import (
	"fmt"
	"slices"
	"time"

	"github.com/pollnet/pollnet/bench/internal/latency"
)

// runLoad runs the keep-alive load of one kind (http or tls): every server
// runs at once, idle but for the one under load; rounds alternate the
// servers (the order reverses every other round). Per server and connection
// count it records the median req/s and CPU per request over the rounds and
// the percentiles of all rounds' latencies.
func (r *runner) runLoad(kind, proto string, specs []serverSpec) error {
	cfg := r.cfg
	client, err := r.startClient(kind + " load client")
	if err != nil {
		return err
	}
	defer client.stop(2 * time.Second)
	var servers []*server
	defer func() {
		for _, s := range servers {
			s.proc.stop(3 * time.Second)
		}
	}()
	for _, spec := range specs {
		s, err := r.startServer(spec, "load")
		if err != nil {
			return err
		}
		servers = append(servers, s)
	}
	type acc struct {
		rps, cpu    []float64
		lat         *latency.Recorder
		errs        int
		reqs, parks int64
		parksKnown  bool
	}
	accs := map[string]*acc{}
	for round := 1; round <= cfg.rounds; round++ {
		for _, conns := range cfg.loadConns {
			order := slices.Clone(servers)
			if round%2 == 0 {
				slices.Reverse(order)
			}
			for _, s := range order {
				name := s.spec.name
				key := fmt.Sprint(name, "/", conns)
				a := accs[key]
				if a == nil {
					a = &acc{lat: latency.New(), parksKnown: true}
					accs[key] = a
				}
				st0, _ := s.stats(false)
				cpu0 := s.cpu()
				var res loadResult
				label := fmt.Sprintf("%s: load round %d, %d conns, connecting", name, round, conns)
				if err := r.call(client, &res, label, cfg.warmup+cfg.duration+5*time.Minute,
					"load %s %s %d %s %s", proto, s.addr, conns, cfg.warmup, cfg.duration); err != nil {
					return err
				}
				cpu := (s.cpu() - cpu0).Seconds()
				st1, _ := s.stats(false)
				p0, ok0 := st0["parks"]
				p1, ok1 := st1["parks"]
				a.parksKnown = a.parksKnown && ok0 && ok1
				a.parks += p1 - p0
				lat, err := latency.Decode(res.Hist)
				if err != nil {
					return err
				}
				a.lat.Merge(lat)
				a.rps = append(a.rps, res.RPS)
				a.cpu = append(a.cpu, perRequestMicros(cpu, res.Requests))
				a.errs += res.Errors
				a.reqs += int64(res.Requests)
				if res.Errors > 0 {
					r.fail(name, "%s load %d conns round %d: %d errors (first: %s)", kind, conns, round, res.Errors, res.FirstErr)
				}
				sum := lat.Summary()
				r.logf("%s: round %d, %d conns: %.0f req/s, p50 %s, p99 %s, errors %d, CPU per request: server %.1f µs, client %.1f µs",
					name, round, conns, res.RPS, latency.Duration(sum.P50), latency.Duration(sum.P99), res.Errors,
					perRequestMicros(cpu, res.Requests), perRequestMicros(res.ClientCPU, res.Requests))
			}
		}
	}
	for _, s := range servers {
		for _, conns := range cfg.loadConns {
			a := accs[fmt.Sprint(s.spec.name, "/", conns)]
			sc, name, sum := loadScenario(kind, conns), s.spec.name, a.lat.Summary()
			r.m.set(sc, name, "rps", medianOf(a.rps))
			r.m.set(sc, name, "cpu_us", medianOf(a.cpu))
			r.m.set(sc, name, "p50_us", sum.P50)
			r.m.set(sc, name, "p99_us", sum.P99)
			r.m.set(sc, name, "errors", float64(a.errs))
			if a.parksKnown && a.reqs > 0 {
				r.m.set(sc, name, "parks_per_req", float64(a.parks)/float64(a.reqs))
			}
		}
	}
	return nil
}
