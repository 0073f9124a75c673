// Command tlsidle measures what an idle HTTPS/1.1 keep-alive connection
// costs a server: std's srv.ServeTLS on net.Listen against pollnet's
// ServeServerTLS on pollnet.Listen, side by side in the same run.
//
// For each server and run (servers alternate) it starts the server as a
// child process, opens N TLS connections (TLS 1.3, X25519MLKEM768, ECDSA
// P-256, ALPN http/1.1) from source addresses 127.0.0.2, 127.0.0.3, ...,
// sends one request on each, lets them idle, makes the server collect
// garbage and return freed memory, and reads the server's RSS
// (/proc/PID/status) and goroutines. Then every connection sends a second
// request on the same TLS session, which must be answered: a figure from a
// server that dropped connections is worthless.
//
//	go run ./tlsidle -n 8000 -runs 3          (from bench/)
//
// With -heap DIR it also writes each server's heap profile at N, for
// `go tool pprof -top -sample_index=inuse_space`; -memprofilerate 1 makes
// the profile exact (every allocation sampled): what a parked TLS
// connection keeps. connbench's tls scenario measures the same idle figure
// and the keep-alive load over TLS.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pollnet/pollnet"
	"github.com/pollnet/pollnet/internal/testcert"
)

func main() {
	role := flag.String("role", "driver", "driver or server (internal)")
	kind := flag.String("server", "", "server kind (role server): std or pollnet")
	n := flag.Int("n", 8000, "idle connections")
	runs := flag.Int("runs", 3, "runs per server")
	servers := flag.String("servers", "std,pollnet", "servers to measure, alternating")
	heapDir := flag.String("heap", "", "write each server's heap profile at N into this directory")
	settle := flag.Duration("settle", 2*time.Second, "idle time before measuring")
	memRate := flag.Int("memprofilerate", 0, "the servers' runtime.MemProfileRate (1: every allocation, for an exact -heap; 0: Go's default)")
	flag.Parse()
	if *role == "server" {
		if *memRate > 0 {
			runtime.MemProfileRate = *memRate
		}
		serve(*kind)
		return
	}
	drive(*n, *runs, strings.Split(*servers, ","), *heapDir, *settle, *memRate)
}

// ---- server ----

// serverStats is what the server's admin endpoint reports.
type serverStats struct {
	Goroutines int
	HeapInuse  uint64
	HeapAlloc  uint64
	StackInuse uint64
	Sys        uint64
	Parked     int64
	Open       int64
	Parks      uint64
	Wakes      uint64
}

func serve(kind string) {
	cert := selfSigned()
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "Hello, World!")
		}),
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}},
		ErrorLog:  log.New(os.Stderr, "server: ", 0),
	}
	var ln net.Listener
	var err error
	if kind == "pollnet" {
		ln, err = pollnet.Listen("tcp", "127.0.0.1:0")
	} else {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		log.Fatal(err)
	}
	admin, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/stats", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("gc") != "" {
			runtime.GC()
			debug.FreeOSMemory()
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		st := serverStats{Goroutines: runtime.NumGoroutine(), HeapInuse: ms.HeapInuse,
			HeapAlloc: ms.HeapAlloc, StackInuse: ms.StackInuse, Sys: ms.Sys}
		if pl, ok := ln.(*pollnet.Listener); ok {
			s := pl.Stats()
			st.Parked, st.Open, st.Parks, st.Wakes = s.Parked, s.Open, s.Parks, s.Wakes
		}
		json.NewEncoder(w).Encode(st)
	})
	mux.HandleFunc("/heap", func(w http.ResponseWriter, r *http.Request) {
		runtime.GC()
		pprof.Lookup("heap").WriteTo(w, 0)
	})
	go http.Serve(admin, mux)
	fmt.Printf("LISTENING %s %s\n", ln.Addr(), admin.Addr())
	go func() { io.Copy(io.Discard, os.Stdin); os.Exit(0) }() // the driver went away
	if kind == "pollnet" {
		err = pollnet.ServeServerTLS(srv, ln, "", "")
	} else {
		err = srv.ServeTLS(ln, "", "")
	}
	log.Fatal(err)
}

// selfSigned is the servers' certificate: ECDSA P-256, for 127.0.0.1.
func selfSigned() tls.Certificate {
	cert, _, err := testcert.Loopback()
	if err != nil {
		log.Fatal(err)
	}
	return cert
}

// ---- driver ----

type result struct {
	server           string
	rssPerConn       float64 // bytes
	heapPerConn      float64
	stackPerConn     float64
	goroutines       int
	parked           int64
	answered, failed int
}

func drive(n, runs int, servers []string, heapDir string, settle time.Duration, memRate int) {
	var results []result
	for run := 1; run <= runs; run++ {
		for _, s := range servers {
			r, err := measure(s, n, run, heapDir, settle, memRate)
			if err != nil {
				log.Fatalf("%s run %d: %v", s, run, err)
			}
			fmt.Printf("run %d %-8s RSS/conn %6.0f B  heap/conn %6.0f B  stack/conn %6.0f B  goroutines %5d  parked %5d  second request ok %d/%d\n",
				run, s, r.rssPerConn, r.heapPerConn, r.stackPerConn, r.goroutines, r.parked, r.answered, n)
			results = append(results, r)
		}
	}
	fmt.Printf("\nN = %d, %d runs (%s, GOMAXPROCS %d)\n", n, runs, runtime.Version(), runtime.GOMAXPROCS(0))
	per := map[string][]float64{}
	for _, r := range results {
		per[r.server] = append(per[r.server], r.rssPerConn)
	}
	for _, s := range servers {
		v := slices.Sorted(slices.Values(per[s]))
		fmt.Printf("%-8s RSS per idle connection: median %.1f KB, range %.1f-%.1f KB (1 KB = 1000 B)\n", s, median(v)/1000, v[0]/1000, v[len(v)-1]/1000)
	}
	if len(servers) == 2 {
		a, b := per[servers[1]], per[servers[0]]
		var ratios []float64
		for i := range min(len(a), len(b)) {
			ratios = append(ratios, a[i]/b[i])
		}
		slices.Sort(ratios)
		fmt.Printf("%s / %s per run: median %.2fx, range %.2f-%.2fx\n", servers[1], servers[0], median(ratios), ratios[0], ratios[len(ratios)-1])
	}
}

func median(v []float64) float64 {
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func measure(kind string, n, run int, heapDir string, settle time.Duration, memRate int) (result, error) {
	r := result{server: kind}
	self, err := os.Executable()
	if err != nil {
		return r, err
	}
	cmd := exec.Command(self, "-role", "server", "-server", kind, "-memprofilerate", strconv.Itoa(memRate))
	cmd.Stderr = os.Stderr
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		return r, err
	}
	defer func() { stdin.Close(); cmd.Process.Kill(); cmd.Wait() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		return r, fmt.Errorf("server did not start: %v", err)
	}
	f := strings.Fields(line)
	addr, admin := f[1], f[2]
	pid := cmd.Process.Pid

	// Warm up: one connection through handshake and request, closed.
	warm := dial(addr, 0)
	if warm == nil {
		return r, fmt.Errorf("warm-up dial failed")
	}
	warm.Close()
	stats(admin, true)
	time.Sleep(settle)
	stats(admin, true)
	rss0 := rss(pid)
	st0 := stats(admin, true)

	conns := make([]*clientConn, n)
	parallel(n, func(i int) { conns[i] = dial(addr, i) })
	for i, c := range conns {
		if c == nil {
			return r, fmt.Errorf("connection %d failed", i)
		}
	}
	time.Sleep(settle)
	stats(admin, true)
	time.Sleep(settle)
	st := stats(admin, true)
	rss1 := rss(pid)
	if heapDir != "" {
		saveHeap(admin, filepath.Join(heapDir, fmt.Sprintf("%s-run%d.pprof", kind, run)))
	}
	r.rssPerConn = float64(rss1-rss0) / float64(n)
	r.heapPerConn = float64(int64(st.HeapInuse)-int64(st0.HeapInuse)) / float64(n)
	r.stackPerConn = float64(int64(st.StackInuse)-int64(st0.StackInuse)) / float64(n)
	r.goroutines, r.parked = st.Goroutines, st.Parked

	// The second request, on every connection's TLS session.
	var ok, bad atomic.Int64
	parallel(n, func(i int) {
		if conns[i].get() == nil {
			ok.Add(1)
		} else {
			bad.Add(1)
		}
		conns[i].Close()
	})
	r.answered, r.failed = int(ok.Load()), int(bad.Load())
	return r, nil
}

// parallel runs fn(0) ... fn(n-1) on 32 goroutines.
func parallel(n int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				fn(i)
			}
		}()
	}
	wg.Wait()
}

// clientConn is one idle HTTPS/1.1 keep-alive connection.
type clientConn struct {
	*tls.Conn
	br *bufio.Reader
}

var clientConfig = &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}}

// dial opens connection i from 127.0.0.(2 + i/10000) and makes its first request.
func dial(addr string, i int) *clientConn {
	d := net.Dialer{Timeout: 30 * time.Second, LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i/10000))}}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		log.Printf("dial %d: %v", i, err)
		return nil
	}
	tc := tls.Client(nc, clientConfig)
	if err := tc.HandshakeContext(ctx); err != nil {
		log.Printf("handshake %d: %v", i, err)
		nc.Close()
		return nil
	}
	c := &clientConn{Conn: tc, br: bufio.NewReader(tc)}
	if err := c.get(); err != nil {
		log.Printf("request %d: %v", i, err)
		c.Close()
		return nil
	}
	return c
}

// get sends GET / and reads the response.
func (c *clientConn) get() error {
	c.SetDeadline(time.Now().Add(60 * time.Second))
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: bench\r\n\r\n"); err != nil {
		return err
	}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != 200 || string(body) != "Hello, World!" {
		return fmt.Errorf("got %s %q", resp.Status, body)
	}
	return nil
}

func stats(admin string, gc bool) serverStats {
	url := "http://" + admin + "/stats"
	if gc {
		url += "?gc=1"
	}
	resp, err := http.Get(url)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	var st serverStats
	json.NewDecoder(resp.Body).Decode(&st)
	return st
}

func saveHeap(admin, path string) {
	resp, err := http.Get("http://" + admin + "/heap")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	io.Copy(&buf, resp.Body)
	os.WriteFile(path, buf.Bytes(), 0o644)
}

// rss returns a process's resident set size in bytes.
func rss(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		log.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			kb, _ := strconv.ParseInt(strings.Fields(l)[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}
