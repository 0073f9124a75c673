//go:build linux

package main

import (
	"bufio"
	"crypto/tls"
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

	"github.com/pollnet/pollnet/bench/internal/latency"
	"github.com/pollnet/pollnet/bench/internal/procstat"
)

// The client role holds idle connections and generates load. The
// orchestrator drives it with one command per line on stdin; it answers with
// "PROGRESS done total" lines and one "RESULT {json}" (or "ERROR msg") line
// per command. Idle connections cost it no goroutine: they sit in a slice and
// a bounded pool of workers serves them.
//
// Commands (PROTO is http, https, ws or sse; see protocols):
//
//	open PROTO ADDR N   grow the held set to N connections to ADDR
//	check               one exchange on every held connection
//	trickle INTERVAL DURATION
//	                    every held connection does one exchange per INTERVAL,
//	                    staggered evenly, for DURATION
//	sse K               read broadcast events 1..K, then "end", on every held
//	                    SSE connection: each exactly once, in order
//	close               close every held connection
//	load PROTO ADDR CONNS WARMUP DURATION
//	                    closed-loop keep-alive load on CONNS new connections
type client struct {
	srcs    []*net.TCPAddr
	workers int
	timeout time.Duration
	caCert  string // PEM file of the servers' certificate (https)
	out     *lineWriter

	tlsOnce sync.Once
	tlsConf *tls.Config
	tlsErr  error

	proto *protocol
	addr  string
	held  []*heldConn // nil entries failed
}

// heldConn is an idle connection and what the client read past its handshake.
type heldConn struct {
	net.Conn
	id   int    // the connection's number, part of its WebSocket messages
	seq  int    // exchanges done (one at a time per connection)
	req  []byte // the HTTP request it sends (shared)
	rest []byte // bytes read past the handshake (SSE), not yet consumed
}

// openResult answers open, check and sse.
type openResult struct {
	Held     int     `json:"held"`
	OK       int     `json:"ok"`
	Failed   int     `json:"failed"`
	FirstErr string  `json:"first_err,omitempty"`
	Seconds  float64 `json:"seconds"`
}

// loadResult answers load and trickle. Hist is the latency histogram
// (package latency's encoding), merged by the orchestrator.
type loadResult struct {
	Conns     int     `json:"conns"`
	Requests  int     `json:"requests"`
	Errors    int     `json:"errors"`
	Skipped   int     `json:"skipped,omitempty"`
	FirstErr  string  `json:"first_err,omitempty"`
	Seconds   float64 `json:"seconds"`
	ClientCPU float64 `json:"client_cpu_seconds"` // the client's own CPU during the run
	RPS       float64 `json:"rps"`
	Hist      string  `json:"latency_histogram"`
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
	timeout := fs.Duration("timeout", 10*time.Second, "per-exchange timeout")
	caCert := fs.String("cacert", "", "PEM certificate the https servers present")
	maxLife := fs.Duration("max", 10*time.Minute, "hard upper bound on the client's lifetime")
	fs.String("role", "client", "")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	srcs, err := parseSources(*src)
	if err != nil {
		fmt.Fprintf(stderr, "connbench client: %v\n", err)
		return 2
	}
	time.AfterFunc(*maxLife, func() {
		fmt.Fprintln(os.Stderr, "connbench client: -max exceeded, exiting")
		os.Exit(3)
	})
	c := &client{srcs: srcs, workers: *workers, timeout: *timeout, caCert: *caCert, out: &lineWriter{w: stdout}}
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
	argc := map[string]int{"open": 4, "check": 1, "trickle": 3, "sse": 2, "close": 1, "load": 6}
	want, ok := argc[f[0]]
	if !ok {
		return fmt.Errorf("unknown command %q", f[0])
	}
	if len(f) != want {
		return fmt.Errorf("%s: want %d fields, got %d", f[0], want, len(f))
	}
	switch f[0] {
	case "open":
		p, err := c.protocol(f[1])
		if err != nil {
			return err
		}
		n, err := strconv.Atoi(f[3])
		if err != nil {
			return err
		}
		c.out.result(c.open(p, f[2], n))
	case "check":
		c.out.result(c.check())
	case "trickle":
		interval, err1 := time.ParseDuration(f[1])
		dur, err2 := time.ParseDuration(f[2])
		if err1 != nil || err2 != nil || interval <= 0 || dur <= 0 {
			return fmt.Errorf("trickle: bad durations %q %q", f[1], f[2])
		}
		c.out.result(c.trickle(interval, dur))
	case "sse":
		k, err := strconv.Atoi(f[1])
		if err != nil || k < 0 {
			return fmt.Errorf("sse: bad event count %q", f[1])
		}
		c.out.result(c.readEvents(k))
	case "close":
		c.closeAll()
		c.out.result(openResult{})
	case "load":
		p, err := c.protocol(f[1])
		if err != nil {
			return err
		}
		conns, err := strconv.Atoi(f[3])
		warm, err1 := time.ParseDuration(f[4])
		dur, err2 := time.ParseDuration(f[5])
		if err != nil || err1 != nil || err2 != nil || conns <= 0 || dur <= 0 || p.exchange == nil {
			return fmt.Errorf("load: bad arguments %q", strings.Join(f[1:], " "))
		}
		c.out.result(c.load(p, f[2], conns, warm, dur))
	}
	return nil
}

const ipBindAddressNoPort = 24 // IP_BIND_ADDRESS_NO_PORT (linux)

// dial opens TCP connection number i, spreading source addresses.
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

// tally counts the outcomes of a phase over many connections.
type tally struct {
	ok, failed atomic.Int64
	first      firstError
	start      time.Time
}

func newTally() *tally { return &tally{start: time.Now()} }

func (t *tally) add(err error) {
	if err != nil {
		t.failed.Add(1)
		t.first.set(err)
		return
	}
	t.ok.Add(1)
}

func (t *tally) result(held int) openResult {
	return openResult{Held: held, OK: int(t.ok.Load()), Failed: int(t.failed.Load()),
		FirstErr: t.first.get(), Seconds: time.Since(t.start).Seconds()}
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
	workersDone := c.startWorkers(func(buf []byte) {
		for {
			i := int(next.Add(1) - 1)
			if i >= to {
				return
			}
			f(i, buf)
			done.Add(1)
		}
	})
	workersDone()
	close(stop)
	c.out.printf("PROGRESS %d %d", to, to)
}

// startWorkers runs work on c.workers goroutines, each with its own 4 KiB
// buffer, and returns a function that waits until every one has returned.
func (c *client) startWorkers(work func(buf []byte)) (waitAll func()) {
	var wg sync.WaitGroup
	for range c.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work(make([]byte, 4096))
		}()
	}
	return wg.Wait
}

// open grows the held set to n connections of protocol p to addr (a new
// address or protocol starts a new set).
func (c *client) open(p *protocol, addr string, n int) openResult {
	if addr != c.addr || p != c.proto {
		c.closeAll()
		c.addr, c.proto = addr, p
	}
	t := newTally()
	from := len(c.held)
	if n > from {
		c.held = append(c.held, make([]*heldConn, n-from)...)
	}
	c.forEach(from, n, func(i int, buf []byte) {
		h, err := p.connect(c, addr, i, buf)
		t.add(err)
		if err == nil {
			_ = h.SetDeadline(time.Time{})
			c.held[i] = h
		}
	})
	return t.result(c.heldCount())
}

func (c *client) heldCount() int {
	n := 0
	for _, h := range c.held {
		if h != nil {
			n++
		}
	}
	return n
}

// check does one exchange on every held connection; a connection that fails
// is closed and no longer held.
func (c *client) check() openResult {
	t := newTally()
	if c.proto == nil || c.proto.exchange == nil {
		t.add(fmt.Errorf("check: no connections held, or %q has no exchange", c.protoName()))
		return t.result(c.heldCount())
	}
	c.forEach(0, len(c.held), func(i int, buf []byte) {
		h := c.held[i]
		if h == nil {
			return
		}
		err := c.proto.exchange(h, c.timeout, buf)
		t.add(err)
		if err != nil {
			h.Close()
			c.held[i] = nil
			return
		}
		_ = h.SetDeadline(time.Time{})
	})
	return t.result(c.heldCount())
}

func (c *client) protoName() string {
	if c.proto == nil {
		return ""
	}
	return c.proto.name
}

func (c *client) closeAll() {
	for i, h := range c.held {
		if h != nil {
			h.Close()
		}
		c.held[i] = nil
	}
	c.held = c.held[:0]
}

// trickle: every held connection does one exchange per interval, the
// connections' start times spread evenly over the interval.
func (c *client) trickle(interval, dur time.Duration) loadResult {
	var live []int
	for i, h := range c.held {
		if h != nil {
			live = append(live, i)
		}
	}
	rounds := max(int(dur/interval), 1)
	res := loadResult{Conns: len(live)}
	if len(live) == 0 || c.proto.exchange == nil {
		return res
	}
	rec := latency.New()
	jobs := make(chan int, 4096)
	busy := make([]atomic.Bool, len(c.held))
	var errs, skipped atomic.Int64
	var first firstError
	workersDone := c.startWorkers(func(buf []byte) {
		for i := range jobs {
			t0 := time.Now()
			err := c.proto.exchange(c.held[i], c.timeout, buf)
			d := time.Since(t0)
			if err != nil {
				errs.Add(1)
				first.set(err)
			} else {
				rec.Record(d)
			}
			busy[i].Store(false)
		}
	})
	start := time.Now()
	cpu0 := selfCPU()
	for r := 0; r < rounds; r++ {
		for k, i := range live {
			due := start.Add(time.Duration(r)*interval + interval*time.Duration(k)/time.Duration(len(live)))
			if wait := time.Until(due); wait > time.Millisecond {
				time.Sleep(wait)
			}
			if !busy[i].CompareAndSwap(false, true) {
				skipped.Add(1) // its previous exchange is still running
				continue
			}
			jobs <- i
		}
		c.out.printf("PROGRESS %d %d", r+1, rounds)
	}
	close(jobs)
	workersDone()
	res.ClientCPU = (selfCPU() - cpu0).Seconds()
	res.Seconds = time.Since(start).Seconds()
	res.Requests = int(rec.Count())
	res.Errors = int(errs.Load())
	res.Skipped = int(skipped.Load())
	res.FirstErr = first.get()
	res.RPS = float64(res.Requests) / res.Seconds
	res.Hist, _ = rec.Encode()
	return res
}

// load runs a closed-loop keep-alive load: conns new connections of protocol
// p, each with one request in flight at a time, for warm+dur; only requests
// that start after warm and end before warm+dur are counted (closedLoop).
func (c *client) load(p *protocol, addr string, conns int, warm, dur time.Duration) loadResult {
	res := loadResult{Conns: conns}
	hs := make([]*heldConn, conns)
	t := newTally()
	// Connect (and warm each connection with one request) before the clock starts.
	c.forEach(0, conns, func(i int, buf []byte) {
		h, err := p.connect(c, addr, i, buf)
		t.add(err)
		hs[i] = h
	})
	defer func() {
		for _, h := range hs {
			if h != nil {
				h.Close()
			}
		}
	}()
	if n := t.failed.Load(); n > 0 {
		res.Errors = int(n)
		res.FirstErr = "connect: " + t.first.get()
		return res
	}
	cpu0 := selfCPU()
	rec, nerr, err := closedLoop(hs, p.exchange, warm, dur)
	res.ClientCPU = (selfCPU() - cpu0).Seconds()
	if err != nil {
		res.FirstErr = err.Error()
	}
	res.Seconds = dur.Seconds()
	res.Requests = int(rec.Count())
	res.Errors = nerr
	res.RPS = float64(res.Requests) / res.Seconds
	res.Hist, _ = rec.Encode()
	return res
}

// selfCPU is the client process's CPU time so far.
func selfCPU() time.Duration {
	d, _ := procstat.CPU(0)
	return d
}
