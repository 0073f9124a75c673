package main

import (
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"time"
)

// wrkResult is one wrk run.
type wrkResult struct {
	requests int
	rps, p99 float64 // p99 in ms
}

var (
	wrkRequests = regexp.MustCompile(`(\d+) requests in`)
	wrkRPS      = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	wrkP99      = regexp.MustCompile(`99%\s+([\d.]+)(us|ms|s)`)
)

// wrk runs wrk -t2 -cN -dS --latency against addr.
func wrk(addr string, conns int, d time.Duration) (wrkResult, error) {
	out, err := exec.Command("wrk", "-t2", fmt.Sprintf("-c%d", conns), fmt.Sprintf("-d%ds", int(d.Seconds())),
		"--latency", "http://"+addr+"/").Output()
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk: %v", err)
	}
	s := string(out)
	m1, m2, m3 := wrkRequests.FindStringSubmatch(s), wrkRPS.FindStringSubmatch(s), wrkP99.FindStringSubmatch(s)
	if m1 == nil || m2 == nil || m3 == nil {
		return wrkResult{}, fmt.Errorf("wrk output not understood:\n%s", s)
	}
	var r wrkResult
	r.requests, _ = strconv.Atoi(m1[1])
	r.rps, _ = strconv.ParseFloat(m2[1], 64)
	r.p99, _ = strconv.ParseFloat(m3[1], 64)
	r.p99 *= map[string]float64{"us": 1e-3, "ms": 1, "s": 1e3}[m3[2]]
	return r, nil
}

// httpRound measures one engine's HTTP responder at each connection count.
func httpRound(b binaries, engine string, counts []int, d time.Duration) map[string]float64 {
	s, err := start(b, engine, "http")
	must(err)
	defer s.stop()
	_, err = wrk(s.addr, 10, time.Second) // warm-up
	must(err)
	res := map[string]float64{}
	for i, c := range counts {
		cpu0 := cpuSeconds(s.pid())
		r, err := wrk(s.addr, c, d)
		must(err)
		cpu := cpuSeconds(s.pid()) - cpu0
		key := func(k int, what string) string { return fmt.Sprintf("%d%d c%d %s", i, k, c, what) }
		res[key(0, "req/s")] = r.rps
		res[key(1, "p99 (ms)")] = r.p99
		res[key(2, "server CPU per request (us)")] = cpu / float64(r.requests) * 1e6
		fmt.Printf("  %-16s c%-5d %8.0f req/s  p99 %7.2f ms  CPU %.2f us/req\n", engine, c, r.rps, r.p99, cpu/float64(r.requests)*1e6)
	}
	return res
}
