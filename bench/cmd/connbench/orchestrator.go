//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// sources are the client's source addresses: loopback only, spread so that
// ephemeral ports never run out.
const sources = "127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5,127.0.0.6,127.0.0.7,127.0.0.8,127.0.0.9"

// runner drives one benchmark run.
type runner struct {
	cfg      *config
	self     string
	stderr   io.Writer
	terminal bool
}

// holder is a server with N idle connections held by its own client.
type holder struct {
	s      *server
	client *child
	res    *serverResult
}

// close closes the held connections (client first, so that TIME_WAIT lands
// on the client's spread addresses), then stops the client and the server.
func (h *holder) close(r *runner) {
	var ignored openResult
	_ = r.call(h.client, &ignored, "close", time.Minute, "close")
	h.client.stop(2 * time.Second)
	h.s.proc.stop(3 * time.Second)
}

// server is a running server under test.
type server struct {
	spec serverSpec
	proc *child
	addr string
}

func (r *runner) logf(format string, a ...any) {
	if r.terminal {
		fmt.Fprint(r.stderr, "\r\033[K")
	}
	fmt.Fprintf(r.stderr, "connbench: "+format+"\n", a...)
}

// progress returns a PROGRESS handler that shows "label done/total".
func (r *runner) progress(label string) func(string) {
	last := time.Now()
	return func(p string) {
		f := strings.Fields(p)
		if len(f) != 2 {
			return
		}
		if r.terminal {
			fmt.Fprintf(r.stderr, "\r\033[K  %s %s/%s", label, f[0], f[1])
		} else if time.Since(last) >= 2*time.Second || f[0] == f[1] {
			last = time.Now()
			fmt.Fprintf(r.stderr, "  %s %s/%s\n", label, f[0], f[1])
		}
	}
}

// startServer starts spec and waits for its LISTENING line.
func (r *runner) startServer(spec serverSpec, phase string) (*server, error) {
	args := append([]string(nil), spec.args...)
	if spec.profiles {
		args = append(args, "-cpuprofile="+profilePath(r.cfg.out, spec.name, phase))
	}
	p, err := startChild(spec.name, spec.path, args...)
	if err != nil {
		return nil, err
	}
	line, err := p.nextLine(15*time.Second, nil, "LISTENING ")
	if err != nil {
		p.stop(time.Second)
		return nil, fmt.Errorf("server %s did not start: %w", spec.name, err)
	}
	return &server{spec: spec, proc: p, addr: strings.TrimSpace(strings.TrimPrefix(line, "LISTENING "))}, nil
}

// stats asks the server for its STATS line, after a GC when gc is set.
func (s *server) stats(gc bool) (map[string]int64, error) {
	sig := syscall.SIGUSR2
	if gc {
		sig = syscall.SIGUSR1
	}
	line, err := s.proc.stats(sig, 30*time.Second)
	if err != nil {
		return nil, err
	}
	return parseStatsLine(line)
}

// startClient starts a client role process.
func (r *runner) startClient(name string) (*child, error) {
	return startChild(name, r.self, "-role=client", "-src="+sources, "-max="+r.cfg.timeout.String())
}

// call sends one command to a client and decodes its RESULT into v.
func (r *runner) call(client *child, v any, label string, timeout time.Duration, format string, a ...any) error {
	cmd := fmt.Sprintf(format, a...)
	if _, err := fmt.Fprintln(client.stdin, cmd); err != nil {
		return fmt.Errorf("%s: %w", client.name, err)
	}
	line, err := client.nextLine(timeout, r.progress(label), "RESULT ", "ERROR ")
	if r.terminal {
		fmt.Fprint(r.stderr, "\r\033[K")
	}
	if err != nil {
		return err
	}
	if msg, ok := strings.CutPrefix(line, "ERROR "); ok {
		return fmt.Errorf("client %q: %s", cmd, msg)
	}
	return json.Unmarshal([]byte(strings.TrimPrefix(line, "RESULT ")), v)
}

// cpu returns the server's CPU time so far.
func (s *server) cpu() time.Duration {
	d, err := readCPU(s.proc.pid())
	if err != nil {
		return 0
	}
	return d
}

// waitParked waits, for a hibernating server, until at least want
// connections are parked (or a bound passes), and returns how many are.
func (r *runner) waitParked(s *server, want int) int64 {
	if !s.spec.hibernates {
		return -1
	}
	bound := 5*time.Second + r.cfg.grace
	deadline := time.Now().Add(bound)
	for {
		st, err := s.stats(false)
		if err != nil {
			return -1
		}
		parked, ok := st["parked"]
		if !ok || parked >= int64(want) || time.Now().After(deadline) {
			if ok && parked < int64(want) {
				r.logf("%s: only %d of %d connections parked after %v", s.spec.name, parked, want, bound)
			}
			return parked
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// measureRSS collects garbage in the server (if it speaks the protocol),
// lets it settle and reads its RSS. It returns the STATS of the GC.
func (r *runner) measureRSS(s *server) (int64, map[string]int64, error) {
	st, err := s.stats(true)
	if err != nil {
		return 0, nil, err
	}
	time.Sleep(100 * time.Millisecond)
	rss, err := readVmRSS(s.proc.pid())
	return rss, st, err
}

// idlePhase measures one server with idle connections: memory at each
// point, goroutines, and a second request on every connection. It returns
// with the server running and its connections held, for the trickle.
func (r *runner) idlePhase(spec serverSpec) (h *holder, err error) {
	cfg := r.cfg
	res := &serverResult{Name: spec.name, Goroutines: -1, Load: map[int][]loadRun{}}
	s, err := r.startServer(spec, "idle")
	if err != nil {
		return nil, err
	}
	client, err := r.startClient(spec.name + " client")
	if err != nil {
		s.proc.stop(time.Second)
		return nil, err
	}
	h = &holder{s: s, client: client, res: res}
	defer func() {
		if err != nil {
			h.close(r)
			h = nil
		}
	}()
	time.Sleep(cfg.settle)
	base, _, err := r.measureRSS(s)
	if err != nil {
		return nil, err
	}
	r.logf("%s: listening on %s, RSS %s with no connection", spec.name, s.addr, kb(base))
	for _, n := range cfg.points {
		var o openResult
		label := fmt.Sprintf("%s: opening idle connections", spec.name)
		if err := r.call(client, &o, label, 5*time.Minute, "open %s %d", s.addr, n); err != nil {
			return nil, err
		}
		res.Open.OK += o.OK
		res.Open.Failed += o.Failed
		res.Open.Seconds += o.Seconds
		if o.Failed > 0 {
			res.Errors = append(res.Errors, fmt.Sprintf("opening to %d: %d connections failed (first: %s)", n, o.Failed, o.FirstErr))
			r.logf("%s: %d connections failed to open: %s", spec.name, o.Failed, o.FirstErr)
		}
		t0 := time.Now()
		time.Sleep(cfg.settle)
		parked := r.waitParked(s, o.Held)
		rss, st, err := r.measureRSS(s)
		if err != nil {
			return nil, err
		}
		mp := memPoint{N: n, Held: o.Held, RSS: rss, Base: base, Parked: parked,
			Settling: time.Since(t0).Seconds()}
		if o.Held > 0 {
			mp.PerConn = float64(rss-base) / float64(o.Held)
		}
		res.Mem = append(res.Mem, mp)
		if g, ok := st["goroutines"]; ok {
			res.Goroutines = int(g)
		}
		extra := ""
		if parked >= 0 {
			extra = fmt.Sprintf(", %d parked", parked)
		}
		r.logf("%s: %d idle connections: RSS %s, %.0f B/conn, %d goroutines%s (opened in %.1fs)",
			spec.name, o.Held, kb(rss), mp.PerConn, res.Goroutines, extra, o.Seconds)
	}
	if err := r.call(client, &res.Check, spec.name+": second request on every connection", 5*time.Minute, "check"); err != nil {
		return nil, err
	}
	if res.Check.Failed > 0 {
		res.Errors = append(res.Errors, fmt.Sprintf("second request: %d of %d connections failed (first: %s)",
			res.Check.Failed, res.Check.Failed+res.Check.OK, res.Check.FirstErr))
	}
	r.logf("%s: second request ok on %d, failed on %d connections", spec.name, res.Check.OK, res.Check.Failed)

	return h, nil
}

// trickleRun runs one trickle on a holder's connections, measuring the
// server's CPU and wake-ups around it.
func (r *runner) trickleRun(h *holder, round int) (trickleResult, error) {
	cfg := r.cfg
	tr := trickleResult{Round: round, Wakes: -1, ParkedBefore: r.waitParked(h.s, h.res.Check.Held)}
	st0, _ := h.s.stats(false)
	cpu0 := h.s.cpu()
	label := fmt.Sprintf("%s: trickle %d, interval", h.res.Name, round)
	if err := r.call(h.client, &tr.loadResult, label, cfg.trickleDuration+5*time.Minute, "trickle %s %s",
		cfg.trickleInterval, cfg.trickleDuration); err != nil {
		return tr, err
	}
	cpu1 := h.s.cpu()
	st1, _ := h.s.stats(false)
	tr.CPUSeconds = (cpu1 - cpu0).Seconds()
	tr.CPUPer1000 = perThousand(tr.CPUSeconds, tr.Requests)
	if w0, ok := st0["wakes"]; ok {
		tr.Wakes = st1["wakes"] - w0
	}
	r.logf("%s: trickle %d, %d conns: %d requests, server CPU %.2fs (%.4f s/1k req), p50 %.0fµs p99 %.0fµs, wakes %d",
		h.res.Name, round, tr.Conns, tr.Requests, tr.CPUSeconds, tr.CPUPer1000, tr.Latency.P50, tr.Latency.P99, tr.Wakes)
	return tr, nil
}

// tricklePhase runs the trickle on every holder, alternating the servers
// (the order reverses every other round), and records the medians.
func (r *runner) tricklePhase(holders []*holder) error {
	for round := 1; round <= r.cfg.trickleRounds; round++ {
		order := append([]*holder(nil), holders...)
		if round%2 == 0 {
			for i, j := 0, len(order)-1; i < j; i, j = i+1, j-1 {
				order[i], order[j] = order[j], order[i]
			}
		}
		for _, h := range order {
			tr, err := r.trickleRun(h, round)
			if err != nil {
				return err
			}
			if tr.Errors > 0 {
				h.res.Errors = append(h.res.Errors, fmt.Sprintf("trickle %d: %d requests failed (first: %s)",
					round, tr.Errors, tr.FirstErr))
			}
			h.res.TrickleRuns = append(h.res.TrickleRuns, tr)
		}
	}
	for _, h := range holders {
		h.res.Trickle = summarizeTrickle(h.res.TrickleRuns)
	}
	return nil
}

// loadPhase runs the keep-alive load: every server runs at once, idle but
// for the one under load; rounds alternate the servers (the order reverses
// every other round).
func (r *runner) loadPhase(specs []serverSpec, results map[string]*serverResult) error {
	cfg := r.cfg
	client, err := r.startClient("load client")
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
	for round := 1; round <= cfg.rounds; round++ {
		for _, conns := range cfg.loadConns {
			order := append([]*server(nil), servers...)
			if round%2 == 0 {
				for i, j := 0, len(order)-1; i < j; i, j = i+1, j-1 {
					order[i], order[j] = order[j], order[i]
				}
			}
			for _, s := range order {
				run := loadRun{Round: round, Parks: -1}
				st0, _ := s.stats(false)
				cpu0 := s.cpu()
				label := fmt.Sprintf("%s: load round %d, %d conns, dialing", s.spec.name, round, conns)
				if err := r.call(client, &run.loadResult, label, cfg.warmup+cfg.duration+5*time.Minute,
					"load %s %d %s %s", s.addr, conns, cfg.warmup, cfg.duration); err != nil {
					return err
				}
				run.CPUSeconds = (s.cpu() - cpu0).Seconds()
				if st1, err := s.stats(false); err == nil {
					if p0, ok := st0["parks"]; ok {
						run.Parks = st1["parks"] - p0
					}
				}
				res := results[s.spec.name]
				res.Load[conns] = append(res.Load[conns], run)
				if run.Errors > 0 {
					res.Errors = append(res.Errors, fmt.Sprintf("load %d conns round %d: %d errors (first: %s)",
						conns, round, run.Errors, run.FirstErr))
				}
				r.logf("%s: round %d, %d conns: %.0f req/s, p50 %.0fµs, p99 %.0fµs, errors %d, CPU/1k req: server %.3fs client %.3fs",
					s.spec.name, round, conns, run.RPS, run.Latency.P50, run.Latency.P99, run.Errors,
					perThousand(run.CPUSeconds, run.Requests), perThousand(run.ClientCPU, run.Requests))
			}
		}
	}
	return nil
}

func kb(b int64) string { return strconv.FormatFloat(float64(b)/1024/1024, 'f', 1, 64) + " MiB" }

// orchestrate is the default role: it runs the whole benchmark.
func orchestrate(cfg *config, command string, stdout, stderr io.Writer) int {
	r := &runner{cfg: cfg, stderr: stderr, terminal: isTerminal(os.Stderr) && stderr == io.Writer(os.Stderr)}
	started, loadStart := time.Now(), loadAvg()
	fail := func(err error) int {
		killAll()
		r.logf("error: %v", err)
		return 1
	}
	self, err := os.Executable()
	if err != nil {
		return fail(err)
	}
	r.self = self
	if err := os.MkdirAll(cfg.out, 0o755); err != nil {
		return fail(err)
	}
	binDir, err := os.MkdirTemp("", "connbench-bin-")
	if err != nil {
		return fail(err)
	}
	removeAtExit(binDir)
	defer removeTemp()
	specs, err := serverSpecs(cfg, self, binDir, r.logf)
	if err != nil {
		return fail(err)
	}
	results := map[string]*serverResult{}
	var ordered []*serverResult
	var holders []*holder
	closeHolders := func() {
		for _, h := range holders {
			h.close(r)
		}
		holders = nil
	}
	defer closeHolders()
	for _, spec := range specs {
		t0 := time.Now()
		h, err := r.idlePhase(spec)
		if err != nil {
			return fail(err)
		}
		r.logf("%s: idle phase took %v", spec.name, time.Since(t0).Round(100*time.Millisecond))
		holders = append(holders, h)
		results[spec.name] = h.res
		ordered = append(ordered, h.res)
	}
	t0 := time.Now()
	if err := r.tricklePhase(holders); err != nil {
		return fail(err)
	}
	closeHolders()
	r.logf("trickle phase took %v", time.Since(t0).Round(100*time.Millisecond))
	t0 = time.Now()
	if err := r.loadPhase(specs, results); err != nil {
		return fail(err)
	}
	r.logf("load phase took %v", time.Since(t0).Round(100*time.Millisecond))

	info := collectRunInfo(started, command)
	info.Elapsed = time.Since(started)
	info.LoadStart = loadStart
	rep := &report{Info: info, Config: cfg, Servers: ordered}
	if cfg.profile {
		rep.Profiles = summariseProfiles(cfg, specs)
	}
	if err := writeOutputs(rep, cfg.out); err != nil {
		return fail(err)
	}
	fmt.Fprint(stdout, rep.text())
	r.logf("wrote %s, %s and %s in %v", joinOut(cfg.out, "report.md"), joinOut(cfg.out, "memory.svg"),
		joinOut(cfg.out, "results.json"), time.Since(started).Round(time.Second))
	for _, res := range ordered {
		if res.lost() > 0 {
			r.logf("FAILED: %s lost %d connections", res.Name, res.lost())
			return 1
		}
	}
	return 0
}

// perThousand is seconds per 1,000 requests.
func perThousand(seconds float64, requests int) float64 {
	if requests == 0 {
		return 0
	}
	return seconds / float64(requests) * 1000
}
