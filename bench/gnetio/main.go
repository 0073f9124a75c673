// Command gnetio measures pollnet's gnet/ on both of its backends (epoll and
// io_uring) side by side with gnet v2 (epoll) in one run, on this machine:
//
//	go run ./gnetio -rounds 5            (from bench/; wrk must be installed)
//	go run ./gnetio -only idle -n 18000
//	go run ./gnetio -only syscalls       (strace must be installed)
//
// Servers: for HTTP, the same responder (examples/gnethttp, with -iouring
// for io_uring, and bench/peers/gnetv2http), built by this program; for echo, the
// same handler (Next(-1), Write) on each engine in a child process of this
// program (`gnetio serve`). Every server has two event loops (this machine
// has two cores).
//
// Figures, per round and engine, rounds alternating the order (A B C, C B A,
// ...) so that a trend in the machine's load falls on all of them:
//   - http: wrk -t2 -cN -dS --latency at 100 and 1,000 connections: req/s,
//     p99, and the server's CPU time (utime+stime of /proc/PID/stat, all its
//     threads) per request;
//   - echo: N connections each with one 1 KiB message in flight (send, read
//     the echo, send again), at 100 and 1,000 connections: replies/s, p99
//     round trip, server CPU per reply;
//   - idle (-only idle): server RSS per idle keep-alive connection at -n
//     connections (each answered one request; RSS after the server's GC and
//     a settle, minus RSS before connecting); every connection must answer
//     again afterwards;
//   - syscalls (-only syscalls): strace -c -f on the server during a wrk
//     run: system calls per request, and which.
//
// The report gives medians with the range over the rounds, and the ratios
// to gnet v2 of the medians.
package main

import (
	"flag"
	"fmt"
	"github.com/pollnet/pollnet/bench/internal/echoserve"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// engines, in the order of the report.
var engines = []string{"gnetv2", "pollnet-epoll", "pollnet-io_uring"}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		echoserve.Main(os.Args[2:], "tcp")
		return
	}
	rounds := flag.Int("rounds", 5, "rounds per engine")
	secs := flag.Int("seconds", 5, "length of one load run")
	only := flag.String("only", "http,echo", "what to measure: comma list of http, echo, idle, syscalls")
	conns := flag.String("conns", "100,1000", "connection counts of the http and echo loads")
	n := flag.Int("n", 18000, "idle connections for -only idle")
	flag.Parse()
	repo, err := filepath.Abs("..")
	if err != nil {
		log.Fatal(err)
	}
	tmp, err := os.MkdirTemp("", "gnetio")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	bins, err := build(repo, tmp)
	if err != nil {
		log.Fatal(err)
	}
	var counts []int
	for _, f := range strings.Split(*conns, ",") {
		var c int
		fmt.Sscan(f, &c)
		counts = append(counts, c)
	}
	d := time.Duration(*secs) * time.Second
	what := strings.Split(*only, ",")
	fmt.Printf("gnetio: %s; %d rounds of %v; %s\n", strings.Join(what, ","), *rounds, d, machine())
	if slices.Contains(what, "http") {
		report("HTTP (wrk)", runRounds(*rounds, func(e string) map[string]float64 { return httpRound(bins, e, counts, d) }))
	}
	if slices.Contains(what, "echo") {
		report("echo, 1 KiB messages", runRounds(*rounds, func(e string) map[string]float64 { return echoRound(bins, e, counts, d) }))
	}
	if slices.Contains(what, "idle") {
		report("idle keep-alive connections", runRounds(*rounds, func(e string) map[string]float64 { return idleRound(bins, e, *n) }))
	}
	if slices.Contains(what, "syscalls") {
		for _, e := range engines {
			syscallRun(bins, e, counts, d)
		}
	}
}

// runRounds measures every engine once per round, alternating the order,
// and returns figure -> engine -> values (one per round).
func runRounds(rounds int, measure func(engine string) map[string]float64) map[string]map[string][]float64 {
	res := map[string]map[string][]float64{}
	for r := range rounds {
		order := slices.Clone(engines)
		if r%2 == 1 {
			slices.Reverse(order)
		}
		unlock := benchLock()
		for _, e := range order {
			for k, v := range measure(e) {
				if res[k] == nil {
					res[k] = map[string][]float64{}
				}
				res[k][e] = append(res[k][e], v)
			}
		}
		unlock()
		fmt.Printf("round %d done\n", r+1)
	}
	return res
}

// benchLock takes /tmp/pollnet-bench.lock (flock) for one round: the
// project's benchmark scripts hold it too, so that two benchmarks do not
// load the machine at once. It returns the unlock.
func benchLock() func() {
	f, err := os.OpenFile("/tmp/pollnet-bench.lock", os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return func() {}
	}
	syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
	return func() { f.Close() }
}

// report prints one table: per figure, each engine's median (min-max) and
// the ratio of each pollnet median to gnet v2's.
func report(title string, res map[string]map[string][]float64) {
	figs := make([]string, 0, len(res))
	for k := range res {
		figs = append(figs, k)
	}
	slices.Sort(figs)
	fmt.Printf("\n%s: median (min-max)\n\n", title)
	fmt.Println("| figure | gnet v2 (epoll) | pollnet epoll | pollnet io_uring | epoll / gnet v2 | io_uring / gnet v2 |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, f := range figs {
		row := "| " + f[strings.IndexByte(f, ' ')+1:] + " |"
		meds := map[string]float64{}
		for _, e := range engines {
			v := res[f][e]
			meds[e] = median(v)
			row += fmt.Sprintf(" %s (%s-%s) |", num(meds[e]), num(slices.Min(v)), num(slices.Max(v)))
		}
		row += fmt.Sprintf(" %.2f | %.2f |", meds["pollnet-epoll"]/meds["gnetv2"], meds["pollnet-io_uring"]/meds["gnetv2"])
		fmt.Println(row)
	}
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func num(x float64) string {
	switch {
	case x >= 1000:
		return fmt.Sprintf("%.0f", x)
	case x >= 10:
		return fmt.Sprintf("%.1f", x)
	}
	return fmt.Sprintf("%.2f", x)
}

// machine describes the load on the machine, for the report's header.
func machine() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return "load average " + strings.Join(f[:3], " ")
}
