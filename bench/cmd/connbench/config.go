//go:build linux

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
)

// maxConns keeps every process under 19,000 sockets: the open-file limit here
// is 20,000 per process and cannot be raised.
const maxConns = 18000

// knownServers are the servers connbench can measure, in report order.
var knownServers = []string{"std", "pollnet-listener", "pollnet-serve", "nbhttp", "gnetv2", "pollnet-gnet"}

// defaultServers are the root module's three servers.
const defaultServers = "std,pollnet-listener,pollnet-serve"

// config is the orchestrator's configuration, from its flags.
type config struct {
	n               int           // idle connections at the largest point
	points          []int         // N values measured for the chart, ascending, last == n
	servers         []string      // servers under test, in run order
	out             string        // output directory
	duration        time.Duration // measured time of one keep-alive load run
	warmup          time.Duration // unmeasured start of each load run
	rounds          int           // alternating rounds of keep-alive load
	loadConns       []int         // keep-alive load connection counts
	trickleInterval time.Duration // each trickle connection sends one request per interval
	trickleDuration time.Duration
	trickleRounds   int           // alternating trickle runs per server (medians are reported)
	grace           time.Duration // pollnet IdleGrace passed to the pollnet servers (0: default)
	settle          time.Duration // wait before measuring RSS
	timeout         time.Duration // hard bound on the whole run
	profile         bool          // CPU profiles of the root-module servers
	smoke           bool
	repo            string // root of the pollnet repository ("" = find from the working directory)
}

// parseFlags parses the orchestrator's command line.
func parseFlags(args []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("connbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: go run ./cmd/connbench [flags]\n\n"+
			"Measures server memory per idle keep-alive connection, keep-alive throughput\n"+
			"and latency, and a trickle load, for each server, with ratios against std.\n\n"+
			"servers:\n"+
			"  std, pollnet-listener, pollnet-serve   the root module's (the default)\n"+
			"  nbhttp, gnetv2                         peers, built from ./bench\n"+
			"  pollnet-gnet                           built from ./examples/gnethttp\n\nflags:\n")
		fs.PrintDefaults()
	}
	var c config
	var points, servers, loadConns string
	fs.IntVar(&c.n, "n", maxConns, "idle connections per server at the largest point (1.."+strconv.Itoa(maxConns)+")")
	fs.StringVar(&points, "points", "1000,6000,12000,18000", "N values for the memory chart (those above -n are dropped, -n is added)")
	fs.StringVar(&servers, "servers", defaultServers, "comma list of servers to measure")
	fs.StringVar(&c.out, "out", "connbench-out", "output directory for report.md, memory.svg and results.json")
	fs.DurationVar(&c.duration, "duration", time.Second, "measured time of each keep-alive load run")
	fs.DurationVar(&c.warmup, "warmup", 150*time.Millisecond, "unmeasured warm-up of each keep-alive load run")
	fs.IntVar(&c.rounds, "rounds", 4, "alternating rounds of keep-alive load (medians are reported)")
	fs.StringVar(&loadConns, "load-conns", "100,1000", "connection counts of the keep-alive load")
	fs.DurationVar(&c.trickleInterval, "trickle-interval", 3*time.Second, "trickle load: each idle connection sends one request per interval")
	fs.DurationVar(&c.trickleDuration, "trickle-duration", 3*time.Second, "trickle load: how long each run lasts")
	fs.IntVar(&c.trickleRounds, "trickle-rounds", 2, "trickle load: alternating runs per server (medians are reported)")
	fs.DurationVar(&c.grace, "grace", 0, "pollnet IdleGrace for the pollnet servers (0: the library default)")
	fs.DurationVar(&c.settle, "settle", 300*time.Millisecond, "wait before measuring RSS")
	fs.DurationVar(&c.timeout, "timeout", 10*time.Minute, "hard bound on the whole run")
	fs.BoolVar(&c.profile, "profile", false, "write CPU profiles of the root-module servers to -out and summarise them")
	fs.BoolVar(&c.smoke, "smoke", false, "tiny run for CI: small N, short durations (explicit flags still win)")
	fs.StringVar(&c.repo, "repo", "", "root of the pollnet repository (default: found from the working directory)")
	fs.String("role", "", "internal: server or client (default: orchestrator)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if c.smoke {
		smoke := map[string]func(){
			"n":                func() { c.n = 300 },
			"points":           func() { points = "100,300" },
			"duration":         func() { c.duration = 400 * time.Millisecond },
			"warmup":           func() { c.warmup = 100 * time.Millisecond },
			"rounds":           func() { c.rounds = 1 },
			"load-conns":       func() { loadConns = "10,100" },
			"trickle-interval": func() { c.trickleInterval = time.Second },
			"trickle-duration": func() { c.trickleDuration = time.Second },
			"trickle-rounds":   func() { c.trickleRounds = 1 },
			"settle":           func() { c.settle = 200 * time.Millisecond },
			"timeout":          func() { c.timeout = 2 * time.Minute },
		}
		for name, apply := range smoke {
			if !set[name] {
				apply()
			}
		}
	}
	var err error
	if c.n < 1 || c.n > maxConns {
		return nil, fmt.Errorf("-n %d: must be in 1..%d (open-file limit 20,000 per process)", c.n, maxConns)
	}
	if c.points, err = parsePoints(points, c.n); err != nil {
		return nil, fmt.Errorf("-points: %w", err)
	}
	if c.servers, err = parseServers(servers); err != nil {
		return nil, fmt.Errorf("-servers: %w", err)
	}
	if c.loadConns, err = parseInts(loadConns); err != nil {
		return nil, fmt.Errorf("-load-conns: %w", err)
	}
	for _, lc := range c.loadConns {
		if lc < 1 || lc > maxConns {
			return nil, fmt.Errorf("-load-conns: %d out of 1..%d", lc, maxConns)
		}
	}
	switch {
	case c.out == "":
		return nil, errors.New("-out must not be empty")
	case c.duration <= 0:
		return nil, errors.New("-duration must be positive")
	case c.warmup < 0:
		return nil, errors.New("-warmup must not be negative")
	case c.rounds < 1:
		return nil, errors.New("-rounds must be at least 1")
	case c.trickleInterval <= 0 || c.trickleDuration <= 0:
		return nil, errors.New("-trickle-interval and -trickle-duration must be positive")
	case c.trickleRounds < 1:
		return nil, errors.New("-trickle-rounds must be at least 1")
	case c.trickleDuration < c.trickleInterval:
		return nil, errors.New("-trickle-duration must be at least -trickle-interval")
	case c.grace < 0:
		return nil, errors.New("-grace must not be negative")
	case c.grace > 0 && c.trickleInterval <= c.grace:
		return nil, fmt.Errorf("-trickle-interval %v must exceed -grace %v, or no trickle request wakes a parked connection", c.trickleInterval, c.grace)
	case c.settle < 0:
		return nil, errors.New("-settle must not be negative")
	case c.timeout <= 0:
		return nil, errors.New("-timeout must be positive")
	}
	return &c, nil
}

// parseInts parses a comma list of integers.
func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		v, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not an integer", f)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, errors.New("empty list")
	}
	return out, nil
}

// parsePoints returns the sorted distinct values of s that are in 1..n, plus n.
func parsePoints(s string, n int) ([]int, error) {
	vals, err := parseInts(s)
	if err != nil {
		return nil, err
	}
	seen := map[int]bool{n: true}
	out := []int{n}
	for _, v := range vals {
		if v < 1 {
			return nil, fmt.Errorf("%d: must be positive", v)
		}
		if v <= n && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	sort.Ints(out)
	return out, nil
}

// parseServers validates a comma list of server names (no duplicates).
func parseServers(s string) ([]string, error) {
	known := map[string]bool{}
	for _, k := range knownServers {
		known[k] = true
	}
	var out []string
	seen := map[string]bool{}
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !known[f] {
			return nil, fmt.Errorf("unknown server %q (known: %s)", f, strings.Join(knownServers, ", "))
		}
		if seen[f] {
			return nil, fmt.Errorf("server %q listed twice", f)
		}
		seen[f] = true
		out = append(out, f)
	}
	if len(out) == 0 {
		return nil, errors.New("no server given")
	}
	return out, nil
}

func rootServerNames() string {
	var names []string
	for _, k := range knownServers {
		if _, ok := rootServers[k]; ok {
			names = append(names, k)
		}
	}
	return strings.Join(names, ", ")
}
