//go:build linux

package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// The client role holds idle connections and generates load. It is driven by
// the orchestrator through one command per line on stdin and answers with
// "PROGRESS done total" lines and one "RESULT {json}" (or "ERROR msg") line
// per command. Idle connections cost it no goroutine and no buffer: they are
// net.Conns in a slice, served by a bounded pool of workers.

const ipBindAddressNoPort = 24 // IP_BIND_ADDRESS_NO_PORT (linux)

// Commands:
//
//	open ADDR N      hold N idle connections to ADDR, each after one request
//	check            one more request on every held connection
//	trickle INTERVAL DURATION
//	                 every held connection sends one request per INTERVAL,
//	                 staggered evenly, for DURATION
//	close            close every held connection
//	load ADDR CONNS WARMUP DURATION
//	                 closed-loop keep-alive load on CONNS new connections
//	quit
type client struct {
	srcs    []*net.TCPAddr
	workers int
	timeout time.Duration
	out     *lineWriter

	addr  string
	req   []byte
	conns []net.Conn // held idle connections; nil entries failed
}

// openResult answers open and check.
type openResult struct {
	Held     int     `json:"held"`
	OK       int     `json:"ok"`
	Failed   int     `json:"failed"`
	FirstErr string  `json:"first_err,omitempty"`
	Seconds  float64 `json:"seconds"`
}

// loadResult answers load and trickle.
type loadResult struct {
	Conns    int     `json:"conns"`
	Requests int     `json:"requests"`
	Errors   int     `json:"errors"`
	Skipped  int     `json:"skipped,omitempty"`
	FirstErr string  `json:"first_err,omitempty"`
	Seconds  float64 `json:"seconds"`
	// ClientCPU is the client's own CPU time during the run (both modes).
	ClientCPU float64        `json:"client_cpu_seconds"`
	RPS       float64        `json:"rps"`
	Latency   latencySummary `json:"latency"`
}

type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lineWriter) printf(format string, a ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, format+"\n", a...)
}

func (l *lineWriter) result(v any) {
	b, _ := json.Marshal(v)
	l.printf("RESULT %s", b)
}

// runClient is the -role=client entry point.
func runClient(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("connbench -role=client", flag.ContinueOnError)
	fs.SetOutput(stderr)
	src := fs.String("src", "", "comma list of loopback source IPs")
	workers := fs.Int("workers", 64, "concurrent workers for idle connections")
	timeout := fs.Duration("timeout", 10*time.Second, "per-request timeout")
	max := fs.Duration("max", 10*time.Minute, "hard upper bound on the client's lifetime")
	fs.String("role", "client", "")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	srcs, err := parseSources(*src)
	if err != nil {
		fmt.Fprintf(stderr, "connbench client: %v\n", err)
		return 2
	}
	time.AfterFunc(*max, func() {
		fmt.Fprintln(os.Stderr, "connbench client: -max exceeded, exiting")
		os.Exit(3)
	})
	c := &client{srcs: srcs, workers: *workers, timeout: *timeout, out: &lineWriter{w: stdout}}
	sc := bufio.NewScanner(stdin)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if f[0] == "quit" {
			break
		}
		if err := c.command(f); err != nil {
			c.out.printf("ERROR %s", strings.ReplaceAll(err.Error(), "\n", " "))
		}
	}
	c.closeAll()
	return 0
}

func parseSources(list string) ([]*net.TCPAddr, error) {
	var srcs []*net.TCPAddr
	if list == "" {
		return nil, nil
	}
	for _, s := range strings.Split(list, ",") {
		ip := net.ParseIP(strings.TrimSpace(s))
		if ip == nil || !ip.IsLoopback() {
			return nil, fmt.Errorf("source %q is not a loopback IP", s)
		}
		srcs = append(srcs, &net.TCPAddr{IP: ip})
	}
	return srcs, nil
}

func (c *client) command(f []string) error {
	argc := map[string]int{"open": 3, "check": 1, "trickle": 3, "close": 1, "load": 5}
	want, ok := argc[f[0]]
	if !ok {
		return fmt.Errorf("unknown command %q", f[0])
	}
	if len(f) != want {
		return fmt.Errorf("%s: want %d fields, got %d", f[0], want, len(f))
	}
	switch f[0] {
	case "open":
		n, err := strconv.Atoi(f[2])
		if err != nil {
			return err
		}
		c.out.result(c.open(f[1], n))
	case "check":
		c.out.result(c.check())
	case "trickle":
		interval, err1 := time.ParseDuration(f[1])
		dur, err2 := time.ParseDuration(f[2])
		if err1 != nil || err2 != nil || interval <= 0 || dur <= 0 {
			return fmt.Errorf("trickle: bad durations %q %q", f[1], f[2])
		}
		c.out.result(c.trickle(interval, dur))
	case "close":
		c.closeAll()
		c.out.result(openResult{})
	case "load":
		conns, err := strconv.Atoi(f[2])
		warm, err1 := time.ParseDuration(f[3])
		dur, err2 := time.ParseDuration(f[4])
		if err != nil || err1 != nil || err2 != nil || conns <= 0 || dur <= 0 {
			return fmt.Errorf("load: bad arguments %q", strings.Join(f[1:], " "))
		}
		c.out.result(c.load(f[1], conns, warm, dur))
	}
	return nil
}

// dial opens connection number i, spreading source addresses.
func (c *client) dial(addr string, i int) (net.Conn, error) {
	d := net.Dialer{Timeout: c.timeout}
	if len(c.srcs) > 0 {
		d.LocalAddr = c.srcs[i%len(c.srcs)]
		// Choose the source port at connect() time from the full 4-tuple
		// instead of reserving one per source IP at bind().
		d.Control = func(network, address string, rc syscall.RawConn) error {
			var serr error
			if err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, ipBindAddressNoPort, 1)
			}); err != nil {
				return err
			}
			return serr
		}
	}
	return d.Dial("tcp", addr)
}

// firstError keeps the first error message of a phase.
type firstError struct{ v atomic.Value }

func (f *firstError) set(err error) { f.v.CompareAndSwap(nil, err.Error()) }
func (f *firstError) get() string {
	s, _ := f.v.Load().(string)
	return s
}

// forEach runs f(i, buf) for i in [from, to) on workers goroutines, printing
// progress every 250 ms.
func (c *client) forEach(from, to int, f func(i int, buf []byte)) {
	var next atomic.Int64
	next.Store(int64(from))
	var done atomic.Int64
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				c.out.printf("PROGRESS %d %d", from+int(done.Load()), to)
			}
		}
	}()
	var wg sync.WaitGroup
	for w := 0; w < c.workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 4096)
			for {
				i := int(next.Add(1) - 1)
				if i >= to {
					return
				}
				f(i, buf)
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	close(stop)
	c.out.printf("PROGRESS %d %d", to, to)
}

// open grows the held set to n connections to addr.
func (c *client) open(addr string, n int) openResult {
	if addr != c.addr {
		c.closeAll()
		c.addr = addr
		c.req = buildRequest(addr)
	}
	start := time.Now()
	from := len(c.conns)
	if n > from {
		c.conns = append(c.conns, make([]net.Conn, n-from)...)
	}
	var ok, failed atomic.Int64
	var first firstError
	c.forEach(from, n, func(i int, buf []byte) {
		conn, err := c.dial(addr, i)
		if err == nil {
			err = roundTrip(conn, c.req, buf, c.timeout)
			if err != nil {
				conn.Close()
			}
		}
		if err != nil {
			failed.Add(1)
			first.set(err)
			return
		}
		_ = conn.SetDeadline(time.Time{})
		c.conns[i] = conn
		ok.Add(1)
	})
	return openResult{Held: c.held(), OK: int(ok.Load()), Failed: int(failed.Load()),
		FirstErr: first.get(), Seconds: time.Since(start).Seconds()}
}

func (c *client) held() int {
	n := 0
	for _, conn := range c.conns {
		if conn != nil {
			n++
		}
	}
	return n
}

// check sends one more request on every held connection.
func (c *client) check() openResult {
	start := time.Now()
	var ok, failed atomic.Int64
	var first firstError
	c.forEach(0, len(c.conns), func(i int, buf []byte) {
		conn := c.conns[i]
		if conn == nil {
			return
		}
		if err := roundTrip(conn, c.req, buf, c.timeout); err != nil {
			failed.Add(1)
			first.set(fmt.Errorf("connection %d: %w", i, err))
			conn.Close()
			c.conns[i] = nil
			return
		}
		_ = conn.SetDeadline(time.Time{})
		ok.Add(1)
	})
	return openResult{Held: c.held(), OK: int(ok.Load()), Failed: int(failed.Load()),
		FirstErr: first.get(), Seconds: time.Since(start).Seconds()}
}

func (c *client) closeAll() {
	for i, conn := range c.conns {
		if conn != nil {
			conn.Close()
		}
		c.conns[i] = nil
	}
	c.conns = c.conns[:0]
}

// trickle: every held connection sends one request per interval, the
// connections' start times spread evenly over the interval.
func (c *client) trickle(interval, dur time.Duration) loadResult {
	var live []int
	for i, conn := range c.conns {
		if conn != nil {
			live = append(live, i)
		}
	}
	rounds := int(dur / interval)
	if rounds < 1 {
		rounds = 1
	}
	res := loadResult{Conns: len(live)}
	if len(live) == 0 {
		return res
	}
	jobs := make(chan int, 4096)
	busy := make([]atomic.Bool, len(c.conns))
	var mu sync.Mutex
	var all []time.Duration
	var errs, skipped atomic.Int64
	var first firstError
	var wg sync.WaitGroup
	for w := 0; w < c.workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 4096)
			var lat []time.Duration
			for i := range jobs {
				conn := c.conns[i]
				t0 := time.Now()
				err := roundTrip(conn, c.req, buf, c.timeout)
				d := time.Since(t0)
				if err != nil {
					errs.Add(1)
					first.set(err)
				} else {
					lat = append(lat, d)
				}
				busy[i].Store(false)
			}
			mu.Lock()
			all = append(all, lat...)
			mu.Unlock()
		}()
	}
	start := time.Now()
	cpu0 := selfCPU()
	for r := 0; r < rounds; r++ {
		for k, i := range live {
			due := start.Add(time.Duration(r)*interval + interval*time.Duration(k)/time.Duration(len(live)))
			if wait := time.Until(due); wait > time.Millisecond {
				time.Sleep(wait)
			}
			if !busy[i].CompareAndSwap(false, true) {
				skipped.Add(1) // its previous request is still running
				continue
			}
			jobs <- i
		}
		c.out.printf("PROGRESS %d %d", r+1, rounds)
	}
	close(jobs)
	wg.Wait()
	res.ClientCPU = (selfCPU() - cpu0).Seconds()
	res.Seconds = time.Since(start).Seconds()
	res.Requests = len(all)
	res.Errors = int(errs.Load())
	res.Skipped = int(skipped.Load())
	res.FirstErr = first.get()
	res.RPS = float64(res.Requests) / res.Seconds
	res.Latency = summarize(all)
	return res
}

// load runs a closed-loop keep-alive load: conns new connections, each with one
// request in flight at a time, for warm+dur; only requests that start after
// warm and end before warm+dur are counted (closedLoop).
func (c *client) load(addr string, conns int, warm, dur time.Duration) loadResult {
	req := buildRequest(addr)
	res := loadResult{Conns: conns}
	cs := make([]net.Conn, conns)
	var first firstError
	var errs atomic.Int64
	// Dial (and warm each connection with one request) before the clock starts.
	c.forEach(0, conns, func(i int, buf []byte) {
		conn, err := c.dial(addr, i)
		if err == nil {
			if err = roundTrip(conn, req, buf, c.timeout); err != nil {
				conn.Close()
			}
		}
		if err != nil {
			errs.Add(1)
			first.set(err)
			return
		}
		cs[i] = conn
	})
	defer func() {
		for _, conn := range cs {
			if conn != nil {
				conn.Close()
			}
		}
	}()
	if n := errs.Load(); n > 0 {
		res.Errors = int(n)
		res.FirstErr = "dial/first request: " + first.get()
		return res
	}
	cpu0 := selfCPU()
	all, nerr, err := closedLoop(cs, req, warm, dur)
	res.ClientCPU = (selfCPU() - cpu0).Seconds()
	if err != nil {
		errs.Add(int64(nerr))
		first.set(err)
	}
	res.Seconds = dur.Seconds()
	res.Requests = len(all)
	res.Errors = int(errs.Load())
	res.FirstErr = first.get()
	res.RPS = float64(res.Requests) / res.Seconds
	res.Latency = summarize(all)
	return res
}

// selfCPU is this process's user+system CPU time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
