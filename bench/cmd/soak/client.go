package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/pollnet/pollnet/bench/internal/latency"
)

// serverProc is the server child process, asked for stats over its stdin.
type serverProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	stats chan serverStats
	addr  string
}

func startServer(o options) (*serverProc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "-role=server", "-addr="+o.addr, "-grace="+o.grace.String(), fmt.Sprintf("-std=%v", o.std))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &serverProc{cmd: cmd, stdin: stdin, stats: make(chan serverStats, 1)}
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() {
		cmd.Process.Kill()
		return nil, errors.New("server exited before reporting its address")
	}
	addr, ok := strings.CutPrefix(lines.Text(), "ADDR ")
	if !ok {
		cmd.Process.Kill()
		return nil, fmt.Errorf("server said %q", lines.Text())
	}
	s.addr = addr
	go func() {
		for lines.Scan() {
			if js, ok := strings.CutPrefix(lines.Text(), "STATS "); ok {
				var st serverStats
				if json.Unmarshal([]byte(js), &st) == nil {
					s.stats <- st
				}
			}
		}
	}()
	return s, nil
}

// ask returns the server's current stats.
func (s *serverProc) ask() (serverStats, error) {
	if _, err := io.WriteString(s.stdin, "stats\n"); err != nil {
		return serverStats{}, err
	}
	select {
	case st := <-s.stats:
		return st, nil
	case <-time.After(60 * time.Second):
		return serverStats{}, errors.New("server did not report its stats")
	}
}

func (s *serverProc) stop() error {
	s.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		return errors.New("server did not exit")
	}
}

// runClient drives the run and reports; it fails on any unexpected error or
// leak.
func runClient(o options) error {
	srv, err := startServer(o)
	if err != nil {
		return err
	}
	defer srv.stop()
	base, err := srv.ask()
	if err != nil {
		return err
	}
	fmt.Printf("soak: %d connections for %v against %s (think %v, ramp %v)\n", o.conns, o.duration, srv.addr, o.think, o.ramp)
	fmt.Printf("server baseline: %d goroutines, %d fds, RSS %.1f MiB\n", base.Goroutines, base.FDs, mib(base.RSS))

	t := newTally()
	start := time.Now()
	end := start.Add(o.duration)
	var wg sync.WaitGroup
	for i := range o.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &worker{id: i, addr: srv.addr, rng: rand.New(rand.NewPCG(uint64(i), 42)), t: t}
			w.run(start.Add(o.ramp*time.Duration(i)/time.Duration(o.conns)), end, o.think)
		}()
	}
	peak := struct {
		serverStats
		queued int64
	}{serverStats: base}
	progress := time.NewTicker(10 * time.Second)
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
loop:
	for {
		select {
		case <-finished:
			break loop
		case <-progress.C:
			st, err := srv.ask()
			if err != nil {
				return err
			}
			peak.RSS = max(peak.RSS, st.RSS)
			peak.FDs = max(peak.FDs, st.FDs)
			peak.Goroutines = max(peak.Goroutines, st.Goroutines)
			queued := st.Pollnet.Queued // 0 for std
			peak.queued = max(peak.queued, queued)
			fmt.Printf("%4.0fs: client conns %d, requests %d, errors %d | server: held by net/http %d, hijacked %d, parked %d, woken waiting for Accept %d, goroutines %d, fds %d, RSS %.1f MiB\n",
				time.Since(start).Seconds(), t.open.Load(), t.requests.Load(), t.errors(),
				st.Held, st.Hijacked, st.Pollnet.Parked, queued, st.Goroutines, st.FDs, mib(st.RSS))
		}
	}
	progress.Stop()
	elapsed := time.Since(start)

	// Every client connection is closed now: the server must give back
	// everything it held.
	var final serverStats
	leaks := "none"
	settle := time.Now().Add(60 * time.Second)
	for {
		if final, err = srv.ask(); err != nil {
			return err
		}
		if final.FDs <= base.FDs && final.Goroutines <= base.Goroutines && final.Pollnet.Open == 0 && final.Pollnet.Parked == 0 {
			break
		}
		if time.Now().After(settle) {
			leaks = fmt.Sprintf("fds %d (baseline %d), goroutines %d (baseline %d), pollnet open %d, parked %d",
				final.FDs, base.FDs, final.Goroutines, base.Goroutines, final.Pollnet.Open, final.Pollnet.Parked)
			break
		}
		time.Sleep(500 * time.Millisecond)
	}

	w := os.Stdout
	fmt.Fprintf(w, "\n== soak summary (%v, %d concurrent connections) ==\n", elapsed.Round(time.Second), o.conns)
	fmt.Fprintf(w, "connections opened     %d\n", t.dials.Load())
	fmt.Fprintf(w, "requests checked       %d (%.0f/s), echo frames %d\n", t.requests.Load(), float64(t.requests.Load())/elapsed.Seconds(), t.echoMessages.Load())
	fmt.Fprintf(w, "bytes checked          %d (%.1f MiB)\n", t.bytesChecked.Load(), mib(t.bytesChecked.Load()))
	fmt.Fprintf(w, "server pollnet         accepted %d, parks %d, wakes %d, peer gone %d, expired %d\n",
		final.Pollnet.Accepted, final.Pollnet.Parks, final.Pollnet.Wakes, final.Pollnet.PeerGone, final.Pollnet.Expired)
	t.mu.Lock()
	lat := t.latencies.Summary()
	fmt.Fprintf(w, "keep-alive latency     p50 %s, p99 %s, p99.9 %s, max %s (%d keep-alive requests)\n",
		latency.Duration(lat.P50), latency.Duration(lat.P99), latency.Duration(lat.P999), latency.Duration(lat.Max), lat.Count)
	printCounts(w, "injected faults", t.injected, nil)
	printCounts(w, "unexpected errors", t.unexpected, t.firstErr)
	t.mu.Unlock()
	fmt.Fprintf(w, "server peak            %d goroutines, %d fds, RSS %.1f MiB, %d woken sockets waiting for Accept (sampled every 10 s)\n",
		peak.Goroutines, peak.FDs, mib(peak.RSS), peak.queued)
	fmt.Fprintf(w, "server after           %d goroutines, %d fds, RSS %.1f MiB (baseline %d, %d, %.1f MiB)\n",
		final.Goroutines, final.FDs, mib(final.RSS), base.Goroutines, base.FDs, mib(base.RSS))
	fmt.Fprintf(w, "leaks                  %s\n", leaks)

	if n := t.errors(); n > 0 {
		return fmt.Errorf("%d unexpected errors", n)
	}
	if leaks != "none" {
		return fmt.Errorf("leaks: %s", leaks)
	}
	if !o.std && (final.Pollnet.Parks == 0 || final.Pollnet.Wakes == 0) {
		return errors.New("no connection hibernated: the run did not exercise pollnet")
	}
	return nil
}

// run is a worker's life: start at its ramp slot, run scenarios with think
// times in between until the end, then close.
func (w *worker) run(startAt, end time.Time, think time.Duration) {
	time.Sleep(time.Until(startAt))
	defer w.drop(false)
	for time.Now().Before(end) {
		if w.conn == nil {
			if err := w.dial(); err != nil {
				w.t.record(err)
				time.Sleep(time.Second)
				continue
			}
		}
		if err := w.pick().run(w); err != nil {
			w.t.record(err)
			w.drop(true)
		}
		if w.conn == nil && time.Now().Before(end) {
			// Closed by the scenario: reconnect before thinking, so that
			// about -conns connections stay open all along.
			if err := w.dial(); err != nil {
				w.t.record(err)
			}
		}
		pause := min(time.Duration(w.rng.ExpFloat64()*float64(think)), 4*think, time.Until(end))
		time.Sleep(pause)
	}
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
