//go:build linux

package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// plan is what the orchestrator will measure: the servers of each kind that
// are requested and available.
type plan struct {
	servers map[string][]string // by kind, in run order
	notes   []string
}

// makePlan picks the servers of the enabled scenarios. A server the servers
// program was built without (it needs a library API that is not there yet)
// is dropped with a note when it came from a default list, and is an error
// when asked for by name.
func makePlan(cfg *config, have map[string]bool) (*plan, error) {
	p := &plan{servers: map[string][]string{}}
	lists := map[string][]string{"http": cfg.servers, "ws": cfg.wsServers, "sse": cfg.sseServers, "tls": cfg.tlsServers}
	for _, kind := range scenarioNames {
		if !cfg.scenarios[kind] {
			continue
		}
		for _, name := range lists[kind] {
			if infoOf(name).program == "servers" && have != nil && !have[name] {
				if !cfg.requestedByDefault[kind] {
					return nil, fmt.Errorf("server %s is not in this build of bench/servers (it needs a pollnet API the library does not have yet)", name)
				}
				p.notes = append(p.notes, fmt.Sprintf("%s not measured: bench/servers was built without it (it needs a pollnet API the library does not have yet).", name))
				continue
			}
			p.servers[kind] = append(p.servers[kind], name)
		}
	}
	return p, nil
}

// allServers lists every planned server.
func (p *plan) allServers() []string {
	var out []string
	for _, kind := range scenarioNames {
		out = append(out, p.servers[kind]...)
	}
	return out
}

// runOnce runs every scenario once, into r.m.
func (r *runner) runOnce(p *plan) (err error) {
	cfg := r.cfg
	specs := func(kind string) []serverSpec {
		var out []serverSpec
		for _, name := range p.servers[kind] {
			out = append(out, specFor(cfg, r.binDir, name, r.tlsFiles))
		}
		return out
	}
	half := func(n int) []int { return []int{n / 2, n} }
	var holders []*holder
	closeHolders := func() {
		for _, h := range holders {
			h.close(r)
		}
		holders = nil
	}
	defer closeHolders()
	phase := func(name string, f func() error) error {
		t0 := time.Now()
		if err := f(); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		closeHolders()
		r.logf("run %d: %s took %v", r.run, name, time.Since(t0).Round(100*time.Millisecond))
		return nil
	}
	idle := func(sc *idleScenario) func() error {
		return func() error {
			hs, err := r.runIdle(sc)
			holders = append(holders, hs...)
			return err
		}
	}
	if len(p.servers["http"]) > 0 {
		for _, arrival := range cfg.arrivals {
			sc := &idleScenario{name: "http-" + arrival, proto: "http", servers: specs("http"), points: cfg.points}
			if arrival == "burst" {
				sc.burst, sc.points = true, half(cfg.n)
			}
			if err := phase("HTTP/1 idle ("+arrival+")", func() error {
				if err := idle(sc)(); err != nil {
					return err
				}
				if arrival == "steps" {
					return r.runTrickle(sc.name, holders, cfg.trickleRounds)
				}
				return nil
			}); err != nil {
				return err
			}
		}
		if err := phase("HTTP/1 keep-alive load", func() error { return r.runLoad("http", "http", specs("http")) }); err != nil {
			return err
		}
	}
	if len(p.servers["ws"]) > 0 {
		sc := &idleScenario{name: "ws", proto: "ws", servers: specs("ws"), points: half(cfg.wsN)}
		if err := phase("idle WebSockets", func() error {
			if err := idle(sc)(); err != nil {
				return err
			}
			return r.runTrickle("ws", holders, 1)
		}); err != nil {
			return err
		}
	}
	if len(p.servers["sse"]) > 0 {
		sc := &idleScenario{name: "sse", proto: "sse", servers: specs("sse"), points: half(cfg.sseN)}
		if err := phase("SSE", func() error {
			if err := idle(sc)(); err != nil {
				return err
			}
			return r.runBroadcast("sse", holders)
		}); err != nil {
			return err
		}
	}
	if len(p.servers["tls"]) > 0 {
		sc := &idleScenario{name: "tls", proto: "https", servers: specs("tls"), points: half(cfg.tlsN)}
		if err := phase("idle HTTPS", idle(sc)); err != nil {
			return err
		}
		if err := phase("HTTPS keep-alive load", func() error { return r.runLoad("tls", "https", specs("tls")) }); err != nil {
			return err
		}
	}
	return nil
}

// orchestrate is the default role: it runs the whole benchmark -runs times
// and writes the report.
func orchestrate(cfg *config, command string, stdout, stderr io.Writer) int {
	con := newConsole(stderr)
	defer con.close()
	started, loadStart := time.Now(), loadAvg()
	fail := func(err error) int {
		killAll()
		con.logf("error: %v", err)
		return 1
	}
	self, err := os.Executable()
	if err != nil {
		return fail(err)
	}
	if err := os.MkdirAll(cfg.out, 0o755); err != nil {
		return fail(err)
	}
	binDir, err := os.MkdirTemp("", "connbench-bin-")
	if err != nil {
		return fail(err)
	}
	removeAtExit(binDir)
	defer removeTemp()
	repo := cfg.repo
	if repo == "" {
		wd, err := os.Getwd()
		if err != nil {
			return fail(err)
		}
		if repo, err = findRepo(wd); err != nil {
			return fail(err)
		}
	}
	// Build every program a requested server needs, then drop the servers
	// the servers program lacks.
	all, _ := makePlan(cfg, nil)
	if err := buildPrograms(repo, binDir, all.allServers(), con.logf); err != nil {
		return fail(err)
	}
	var have map[string]bool
	if _, err := os.Stat(binDir + "/servers"); err == nil {
		if have, err = availableServers(binDir); err != nil {
			return fail(err)
		}
	}
	p, err := makePlan(cfg, have)
	if err != nil {
		return fail(err)
	}
	for _, n := range p.notes {
		con.logf("%s", n)
	}
	r := &runner{cfg: cfg, self: self, binDir: binDir, con: con}
	if len(p.servers["tls"]) > 0 {
		if r.tlsFiles[0], r.tlsFiles[1], err = writeCert(binDir); err != nil {
			return fail(err)
		}
	}
	rep := &report{cfg: cfg, Servers: p.servers, Notes: p.notes}
	for run := 1; run <= cfg.runs; run++ {
		r.run, r.m, r.errors = run, metrics{}, nil
		t0 := time.Now()
		if err := r.runOnce(p); err != nil {
			return fail(fmt.Errorf("run %d: %w", run, err))
		}
		rep.Runs = append(rep.Runs, runRecord{Metrics: r.m, Errors: r.errors})
		con.logf("run %d of %d took %v", run, cfg.runs, time.Since(t0).Round(time.Second))
	}
	rep.Info = collectRunInfo(started, command)
	rep.Info.Elapsed = time.Since(started)
	rep.Info.LoadStart = loadStart
	if cfg.profile {
		rep.Profiles = summariseProfiles(cfg.out)
	}
	written, err := writeOutputs(rep, cfg.out)
	if err != nil {
		return fail(err)
	}
	con.close()
	fmt.Fprint(stdout, rep.text())
	con.logf("wrote %s to %s in %v", strings.Join(written, ", "), cfg.out, time.Since(started).Round(time.Second))
	if lost := rep.lost(); lost > 0 {
		con.logf("FAILED: %d connections lost or events not delivered exactly once (see Errors)", lost)
		return 1
	}
	return 0
}

// lost counts, over every run, the connections that failed to open or to
// answer again, and the SSE subscribers that missed an event.
func (r *report) lost() int {
	n := 0.0
	for _, run := range r.Runs {
		for k, v := range run.Metrics {
			if strings.HasSuffix(k, "/lost") || strings.HasSuffix(k, "/events_failed") {
				n += v
			}
		}
	}
	return int(n)
}
