//go:build linux

// Command idlemem measures what an idle long-lived connection costs a
// server: it starts each server of servers.go in a child process, opens N
// idle WebSockets (or SSE subscriptions) to it, and reads the child's RSS
// from /proc before connecting and with the N connections idle, both after
// a GC, and its goroutines. Then every connection exchanges one message
// (each WebSocket echo checked; each SSE subscriber must receive one event
// exactly once): a figure from a server that lost connections is worthless.
//
//	go run ./cmd/idlemem -n 18000 -runs 3
//
// Client source addresses are spread over 127.0.0.2, 127.0.0.3, ... so that
// N can go up to the open-file limit of one process (keep it under 19,000).
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"syscall"
	"time"
)

func main() {
	n := flag.Int("n", 18000, "idle connections per server")
	runs := flag.Int("runs", 3, "measurements of each server (alternating)")
	only := flag.String("servers", "", "comma-separated server names (default: all)")
	serve := flag.String("serve", "", "child mode: serve this server and wait for signals")
	flag.Parse()
	if *serve != "" {
		child(*serve)
		return
	}
	names := []string{}
	for _, s := range servers {
		if *only == "" || strings.Contains(","+*only+",", ","+s.name+",") {
			names = append(names, s.name)
		}
	}
	results := map[string][]result{}
	for run := 1; run <= *runs; run++ {
		for _, name := range names {
			r, err := measure(name, *n)
			if err != nil {
				log.Fatalf("%s: %v", name, err)
			}
			log.Printf("run %d %-28s %7.0f B/conn  goroutines %6d  checked %d/%d", run, name, r.perConn, r.goroutines, r.ok, *n)
			results[name] = append(results[name], r)
		}
	}
	fmt.Printf("\nN = %d idle connections, %d runs (server RSS after GC, per connection; median [min-max])\n\n", *n, *runs)
	fmt.Println("| server | RSS per idle conn | goroutines | vs gobwas-raw+goroutine/std |")
	fmt.Println("|---|---|---|---|")
	ref := median(results["gobwas-raw+goroutine/std"])
	for _, name := range names {
		rs := results[name]
		ratio := "-"
		if ref > 0 {
			ratio = fmt.Sprintf("%.2fx", median(rs)/ref)
		}
		lo, hi := spread(rs)
		fmt.Printf("| %s | %.0f B [%.0f-%.0f] | %d | %s |\n", name, median(rs), lo, hi, rs[len(rs)-1].goroutines, ratio)
	}
}

type result struct {
	perConn    float64
	goroutines int
	ok         int
}

func median(rs []result) float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = r.perConn
	}
	sort.Float64s(v)
	if len(v) == 0 {
		return 0
	}
	return v[len(v)/2]
}

func spread(rs []result) (lo, hi float64) {
	lo, hi = rs[0].perConn, rs[0].perConn
	for _, r := range rs {
		lo, hi = min(lo, r.perConn), max(hi, r.perConn)
	}
	return lo, hi
}

// measure runs one server in a child process and measures it.
func measure(name string, n int) (result, error) {
	srv, err := serverNamed(name)
	if err != nil {
		return result{}, err
	}
	cmd := exec.Command(os.Args[0], "-serve", name)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return result{}, err
	}
	if err := cmd.Start(); err != nil {
		return result{}, err
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	lines := bufio.NewScanner(out)
	next := func() string {
		if !lines.Scan() {
			return ""
		}
		return lines.Text()
	}
	addr := strings.TrimPrefix(next(), "listening ")
	// ask sends a signal and waits for the child's answer line.
	ask := func(sig syscall.Signal) string {
		cmd.Process.Signal(sig)
		return next()
	}
	ask(syscall.SIGUSR1)
	before := rss(cmd.Process.Pid)
	conns, err := connect(srv, addr, n)
	if err != nil {
		return result{}, err
	}
	defer conns.close()
	time.Sleep(2 * time.Second) // let the accept and upgrade bursts settle
	var g int
	fmt.Sscanf(ask(syscall.SIGUSR1), "goroutines %d", &g)
	time.Sleep(500 * time.Millisecond)
	with := rss(cmd.Process.Pid)
	var ok int
	if srv.sse {
		ask(syscall.SIGUSR2) // publish one event
		ok = conns.checkEvent()
	} else {
		ok = conns.checkEcho()
	}
	if ok != n {
		return result{}, fmt.Errorf("only %d of %d connections answered", ok, n)
	}
	return result{perConn: float64(with-before) / float64(n), goroutines: g, ok: ok}, nil
}

// rss returns a process's resident set size in bytes.
func rss(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		log.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			var kb int64
			fmt.Sscanf(strings.TrimPrefix(line, "VmRSS:"), "%d", &kb)
			return kb << 10
		}
	}
	log.Fatal("no VmRSS")
	return 0
}

// child serves one server on loopback. SIGUSR1: collect garbage, return
// freed memory to the OS, print the goroutine count. SIGUSR2: publish an
// event (SSE servers).
func child(name string) {
	srv, err := serverNamed(name)
	if err != nil {
		log.Fatal(err)
	}
	ln, serve, err := srv.listen("127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	var publish func(string)
	if srv.handler == nil {
		go serveRawGobwas(ln)
	} else {
		var h http.Handler
		h, publish = srv.handler()
		go serve(ln, h)
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGUSR1, syscall.SIGUSR2)
	fmt.Println("listening", ln.Addr())
	for sig := range sigs {
		switch sig {
		case syscall.SIGUSR1:
			runtime.GC()
			debug.FreeOSMemory()
			fmt.Println("goroutines", runtime.NumGoroutine())
		case syscall.SIGUSR2:
			if publish != nil {
				publish("tick")
			}
			fmt.Println("published")
		}
	}
}
