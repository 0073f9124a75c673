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

// config is the orchestrator's configuration, from its flags.
type config struct {
	runs int // whole benchmark repetitions; the report shows the spread

	// HTTP/1 keep-alive.
	n         int      // idle connections at the largest point
	points    []int    // N values of the steps arrival, ascending, last == n
	arrivals  []string // "steps", "burst"
	servers   []string // HTTP servers under test, in run order
	loadConns []int    // keep-alive load connection counts (HTTP and HTTPS)

	// Long-lived connections and HTTPS.
	wsN, sseN, tlsN    int
	wsServers          []string
	sseServers         []string
	tlsServers         []string
	sseEvents          int // broadcasts measured per SSE server
	scenarios          map[string]bool
	requestedByDefault map[string]bool // server lists left at their defaults

	duration        time.Duration // measured time of one keep-alive load run
	warmup          time.Duration // unmeasured start of each load run
	rounds          int           // alternating rounds of keep-alive load
	trickleInterval time.Duration // each trickle connection sends one request per interval
	trickleDuration time.Duration
	trickleRounds   int           // alternating trickle runs per server
	grace           time.Duration // pollnet IdleGrace passed to the pollnet servers (0: default)
	settle          time.Duration // wait before measuring RSS
	timeout         time.Duration // hard bound on the whole run
	profile         bool          // CPU profiles of the servers binary's servers
	smoke           bool
	out             string // output directory
	repo            string // root of the pollnet repository ("" = find from the working directory)
}

// scenarioNames are the groups of measurements -scenarios selects from.
var scenarioNames = []string{"http", "ws", "sse", "tls"}

// parseFlags parses the orchestrator's command line.
func parseFlags(args []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("connbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: go run ./cmd/connbench [flags]\n\n"+
			"Measures server memory per idle connection (HTTP/1 keep-alive, WebSocket, SSE,\n"+
			"HTTPS), keep-alive throughput and latency, a trickle load and an SSE broadcast,\n"+
			"for pollnet and std and peers side by side, with ratios against std.\n\n"+
			"servers:\n"+serverHelp()+"\nflags:\n")
		fs.PrintDefaults()
	}
	var c config
	var points, arrivals, servers, ws, sse, tlsList, loadConns, scenarios string
	fs.IntVar(&c.runs, "runs", 1, "repeat the whole benchmark; the report shows min-median-max over the runs")
	fs.IntVar(&c.n, "n", maxConns, "HTTP/1: idle connections per server at the largest point (1.."+strconv.Itoa(maxConns)+")")
	fs.StringVar(&points, "points", "1000,6000,12000,18000", "HTTP/1 steps arrival: N values (those above -n are dropped, -n is added)")
	fs.StringVar(&arrivals, "arrival", "steps,burst", "HTTP/1 idle arrival patterns: steps (grow through -points, measuring at each), burst (a fresh server, 64 concurrent dialers, N/2 and N at once)")
	fs.StringVar(&servers, "servers", strings.Join(defaultServers["http"], ","), "HTTP/1 servers")
	fs.StringVar(&loadConns, "load-conns", "100,1000", "keep-alive load connection counts (HTTP/1 and HTTPS)")
	fs.StringVar(&scenarios, "scenarios", strings.Join(scenarioNames, ","), "what to measure: http (idle, trickle, load), ws (idle WebSockets), sse (idle subscribers, broadcast), tls (idle HTTPS, load); without it, server lists given (-servers, -ws-servers, ...) choose")
	fs.IntVar(&c.wsN, "ws-n", maxConns, "WebSocket: idle connections per server")
	fs.StringVar(&ws, "ws-servers", strings.Join(defaultServers["ws"], ","), "WebSocket servers")
	fs.IntVar(&c.sseN, "sse-n", maxConns, "SSE: idle subscribers per server")
	fs.StringVar(&sse, "sse-servers", strings.Join(defaultServers["sse"], ","), "SSE servers")
	fs.IntVar(&c.sseEvents, "sse-events", 5, "SSE: broadcasts measured (each to every subscriber)")
	fs.IntVar(&c.tlsN, "tls-n", 8000, "HTTPS: idle connections per server")
	fs.StringVar(&tlsList, "tls-servers", strings.Join(defaultServers["tls"], ","), "HTTPS servers")
	fs.StringVar(&c.out, "out", "connbench-out", "output directory for report.md, memory.svg and results.json")
	fs.DurationVar(&c.duration, "duration", time.Second, "measured time of each keep-alive load run")
	fs.DurationVar(&c.warmup, "warmup", 150*time.Millisecond, "unmeasured warm-up of each keep-alive load run")
	fs.IntVar(&c.rounds, "rounds", 3, "alternating rounds of keep-alive load, HTTP/1 and HTTPS (medians are reported)")
	fs.DurationVar(&c.trickleInterval, "trickle-interval", 3*time.Second, "trickle load: each idle HTTP/1 connection or WebSocket sends one message per interval")
	fs.DurationVar(&c.trickleDuration, "trickle-duration", 3*time.Second, "trickle load: how long each run lasts")
	fs.IntVar(&c.trickleRounds, "trickle-rounds", 2, "HTTP/1 trickle: alternating runs per server (the WebSocket one runs once per server)")
	fs.DurationVar(&c.grace, "grace", 0, "pollnet IdleGrace for the pollnet servers (0: the library default)")
	fs.DurationVar(&c.settle, "settle", 300*time.Millisecond, "wait before measuring RSS")
	fs.DurationVar(&c.timeout, "timeout", 15*time.Minute, "hard bound on one run (the command's bound is -runs times this)")
	fs.BoolVar(&c.profile, "profile", false, "write CPU profiles of the servers binary's servers to -out and summarise them")
	fs.BoolVar(&c.smoke, "smoke", false, "tiny run for CI: small N, short durations (explicit flags still win)")
	fs.StringVar(&c.repo, "repo", "", "root of the pollnet repository (default: found from the working directory)")
	fs.String("role", "", "internal: client (default: orchestrator)")
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
			"ws-n":             func() { c.wsN = 200 },
			"sse-n":            func() { c.sseN = 200 },
			"tls-n":            func() { c.tlsN = 100 },
			"sse-events":       func() { c.sseEvents = 2 },
			"duration":         func() { c.duration = 400 * time.Millisecond },
			"warmup":           func() { c.warmup = 100 * time.Millisecond },
			"rounds":           func() { c.rounds = 1 },
			"load-conns":       func() { loadConns = "10,100" },
			"trickle-interval": func() { c.trickleInterval = time.Second },
			"trickle-duration": func() { c.trickleDuration = time.Second },
			"trickle-rounds":   func() { c.trickleRounds = 1 },
			"settle":           func() { c.settle = 200 * time.Millisecond },
			"timeout":          func() { c.timeout = 4 * time.Minute },
		}
		for name, apply := range smoke {
			if !set[name] {
				apply()
			}
		}
	}
	c.timeout *= time.Duration(max(c.runs, 1))
	var err error
	for _, v := range []struct {
		flag string
		n    int
	}{{"n", c.n}, {"ws-n", c.wsN}, {"sse-n", c.sseN}, {"tls-n", c.tlsN}} {
		if v.n < 2 || v.n > maxConns {
			return nil, fmt.Errorf("-%s %d: must be in 2..%d (open-file limit 20,000 per process)", v.flag, v.n, maxConns)
		}
	}
	if c.points, err = parsePoints(points, c.n); err != nil {
		return nil, fmt.Errorf("-points: %w", err)
	}
	if c.arrivals, err = parseList(arrivals, []string{"steps", "burst"}); err != nil {
		return nil, fmt.Errorf("-arrival: %w", err)
	}
	sc, err := parseList(scenarios, scenarioNames)
	if err != nil {
		return nil, fmt.Errorf("-scenarios: %w", err)
	}
	c.requestedByDefault = map[string]bool{"http": !set["servers"], "ws": !set["ws-servers"], "sse": !set["sse-servers"], "tls": !set["tls-servers"]}
	// Without -scenarios, server lists given choose the scenarios:
	// -servers std,nbhttp measures HTTP/1 only.
	anyList := set["servers"] || set["ws-servers"] || set["sse-servers"] || set["tls-servers"]
	c.scenarios = map[string]bool{}
	for _, s := range sc {
		if set["scenarios"] || !anyList || !c.requestedByDefault[s] {
			c.scenarios[s] = true
		}
	}
	for _, l := range []struct {
		flag, kind, list string
		dst              *[]string
	}{{"servers", "http", servers, &c.servers}, {"ws-servers", "ws", ws, &c.wsServers},
		{"sse-servers", "sse", sse, &c.sseServers}, {"tls-servers", "tls", tlsList, &c.tlsServers}} {
		if *l.dst, err = parseList(l.list, serverNamesOf(l.kind)); err != nil {
			return nil, fmt.Errorf("-%s: %w", l.flag, err)
		}
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
	case c.runs < 1 || c.runs > 20:
		return nil, errors.New("-runs must be in 1..20")
	case c.sseEvents < 1:
		return nil, errors.New("-sse-events must be at least 1")
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

// parseList validates a comma list of names from known (no duplicates), in
// the order given.
func parseList(s string, known []string) ([]string, error) {
	ok := map[string]bool{}
	for _, k := range known {
		ok[k] = true
	}
	var out []string
	seen := map[string]bool{}
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !ok[f] {
			return nil, fmt.Errorf("unknown name %q (known: %s)", f, strings.Join(known, ", "))
		}
		if seen[f] {
			return nil, fmt.Errorf("%q listed twice", f)
		}
		seen[f] = true
		out = append(out, f)
	}
	if len(out) == 0 {
		return nil, errors.New("empty list")
	}
	return out, nil
}
