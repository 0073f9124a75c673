package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// syscallRun counts the HTTP server's system calls per request under wrk
// at each connection count: strace -c -f attached for the run. strace slows
// the server down a lot, so only the ratios per request mean anything.
func syscallRun(b binaries, engine string, counts []int, d time.Duration) {
	s, err := start(b, engine, "http")
	must(err)
	defer s.stop()
	_, err = wrk(s.addr, 10, time.Second)
	must(err)
	for _, c := range counts {
		out := filepath.Join(os.TempDir(), fmt.Sprintf("gnetio-strace-%s-%d.txt", engine, c))
		st := exec.Command("strace", "-c", "-f", "-o", out, "-p", strconv.Itoa(s.pid()))
		must(st.Start())
		time.Sleep(500 * time.Millisecond) // attached to every thread
		r, err := wrk(s.addr, c, d)
		must(err)
		st.Process.Signal(syscall.SIGINT)
		st.Wait()
		calls, err := straceCalls(out)
		must(err)
		os.Remove(out)
		total := 0
		for _, n := range calls {
			total += n
		}
		names := make([]string, 0, len(calls))
		for k := range calls {
			names = append(names, k)
		}
		sort.Slice(names, func(i, j int) bool { return calls[names[i]] > calls[names[j]] })
		var top []string
		for _, k := range names[:min(6, len(names))] {
			top = append(top, fmt.Sprintf("%s %.3f", k, float64(calls[k])/float64(r.requests)))
		}
		fmt.Printf("syscalls %-16s c%-5d %d requests (under strace): %.3f calls per request: %s\n",
			engine, c, r.requests, float64(total)/float64(r.requests), strings.Join(top, ", "))
	}
}

// straceCalls reads the call counts of an strace -c summary.
func straceCalls(path string) (map[string]int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	calls := map[string]int{}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		// % time, seconds, usecs/call, calls, [errors], syscall
		if len(f) < 5 || strings.HasPrefix(l, "%") || strings.HasPrefix(l, "-") || f[len(f)-1] == "total" {
			continue
		}
		n, err := strconv.Atoi(f[3])
		if err != nil {
			continue
		}
		calls[f[len(f)-1]] += n
	}
	return calls, nil
}
