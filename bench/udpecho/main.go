// Command udpecho measures UDP echo on pollnet's gnet/ side by side with
// gnet v2 (github.com/panjf2000/gnet/v2 v2.9.7) in the same run.
//
//	go run ./udpecho -rounds 6 -seconds 3     (from bench/)
//
// Each server is the same echo handler (OnTraffic: Next(-1), Write) in a
// child process of this program (`udpecho serve -engine E`), with the same
// options (two event loops). The load generator, in this process, keeps
// -clients connected UDP sockets each with one datagram of -size bytes in
// flight (a closed loop: send, wait for the echo, send again; a datagram
// lost for 200 ms is counted and sent again). A round measures one server
// for -seconds: replies per second, and the server's CPU time (utime+stime
// from /proc) per reply. Rounds alternate the order (A B, B A, ...) so a
// trend in the machine's load falls on both. The report gives, per server,
// the median and the range over the rounds, and the ratios pollnet / gnet v2
// of the medians and of each round pair.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"github.com/pollnet/pollnet/bench/internal/echoserve"
	"log"
	"net"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		echoserve.Main(os.Args[2:], "udp")
		return
	}
	rounds := flag.Int("rounds", 6, "rounds per server")
	seconds := flag.Float64("seconds", 3, "length of a round")
	clients := flag.Int("clients", 32, "client sockets, each with one datagram in flight")
	size := flag.Int("size", 64, "datagram size in bytes")
	loops := flag.Int("loops", 2, "event loops per server")
	flag.Parse()
	engines := []string{"pollnet", "gnetv2"}
	results := map[string][]round{}
	for r := range *rounds {
		order := engines
		if r%2 == 1 {
			order = []string{engines[1], engines[0]}
		}
		for _, e := range order {
			res, err := measure(e, *loops, *clients, *size, time.Duration(*seconds*float64(time.Second)))
			if err != nil {
				log.Fatalf("%s: %v", e, err)
			}
			results[e] = append(results[e], res)
			fmt.Printf("round %d %-8s %9.0f req/s %6.2f us CPU/reply (%d lost)\n", r+1, e, res.rps, res.cpuPerReq*1e6, res.lost)
		}
	}
	report(results, *rounds)
}

// round is one server's measurement.
type round struct {
	rps       float64 // replies per second
	cpuPerReq float64 // server CPU seconds per reply
	lost      int64
}

// measure starts a server, warms it up, loads it for d and stops it.
func measure(engine string, loops, clients, size int, d time.Duration) (round, error) {
	self, err := os.Executable()
	if err != nil {
		return round{}, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, self, "serve", "-engine", engine, "-loops", fmt.Sprint(loops))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe() // the server exits when it closes
	if err != nil {
		return round{}, err
	}
	defer stdin.Close()
	out, err := cmd.StdoutPipe()
	if err != nil {
		return round{}, err
	}
	if err := cmd.Start(); err != nil {
		return round{}, err
	}
	defer cmd.Wait()
	defer stdin.Close() // before Wait
	// gnet v2 logs to stdout too: skip to our line, then drain the rest.
	sc := bufio.NewScanner(out)
	addr := ""
	for addr == "" && sc.Scan() {
		if a, ok := strings.CutPrefix(sc.Text(), "LISTENING "); ok {
			addr = a
		}
	}
	if addr == "" {
		return round{}, fmt.Errorf("server did not start")
	}
	go func() {
		for sc.Scan() {
		}
	}()
	pid := cmd.Process.Pid

	load(addr, clients, size, 300*time.Millisecond) // warm-up
	cpu0, err := cpuSeconds(pid)
	if err != nil {
		return round{}, err
	}
	start := time.Now()
	replies, lost := load(addr, clients, size, d)
	elapsed := time.Since(start).Seconds()
	cpu1, err := cpuSeconds(pid)
	if err != nil {
		return round{}, err
	}
	if replies == 0 {
		return round{}, fmt.Errorf("no replies")
	}
	return round{rps: float64(replies) / elapsed, cpuPerReq: (cpu1 - cpu0) / float64(replies), lost: lost}, nil
}

// load runs the closed-loop clients against addr for d and returns the
// replies received and the datagrams given up as lost.
func load(addr string, clients, size int, d time.Duration) (replies, lost int64) {
	var nrep, nlost atomic.Int64
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("udp", addr)
			if err != nil {
				log.Print(err)
				return
			}
			defer c.Close()
			msg, buf := make([]byte, size), make([]byte, size+1)
			for time.Now().Before(deadline) {
				if _, err := c.Write(msg); err != nil {
					continue
				}
				c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
				if n, err := c.Read(buf); err != nil || n != size {
					nlost.Add(1)
					continue
				}
				nrep.Add(1)
			}
		}()
	}
	wg.Wait()
	return nrep.Load(), nlost.Load()
}

// cpuSeconds is the user+system CPU time of process pid.
func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name (in parentheses): utime is the 14th
	// field of the line, stime the 15th, in clock ticks.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	var ut, st float64
	fmt.Sscan(f[11], &ut)
	fmt.Sscan(f[12], &st)
	return (ut + st) / clkTck, nil
}

// clkTck is USER_HZ, 100 on every Linux this runs on.
const clkTck = 100

// report prints the table README.md quotes: per server the median and the
// range over the rounds; the ratio column is the median and range of the
// per-round ratios (round i of pollnet over round i of gnet v2).
func report(results map[string][]round, rounds int) {
	a, b := results["pollnet"], results["gnetv2"]
	row := func(name, format string, f func(round) float64) {
		ratios := make([]float64, rounds)
		for i := range rounds {
			ratios[i] = f(a[i]) / f(b[i])
		}
		fmt.Printf("| %s | %s | %s | %s |\n", name, spread(values(a, f), format), spread(values(b, f), format), spread(ratios, "%.2f"))
	}
	fmt.Printf("\n%d rounds; median (min-max)\n\n", rounds)
	fmt.Println("| figure | pollnet gnet/ | gnet v2.9.7 | ratio pollnet / gnet v2 |")
	fmt.Println("|---|---|---|---|")
	row("UDP echo req/s", "%.0f", func(r round) float64 { return r.rps })
	row("server CPU per datagram (us)", "%.2f", func(r round) float64 { return r.cpuPerReq * 1e6 })
}

func values(rs []round, f func(round) float64) []float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	return v
}

// spread formats the median and the range of v.
func spread(v []float64, format string) string {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return fmt.Sprintf(format+" ("+format+"-"+format+")", med, s[0], s[len(s)-1])
}
