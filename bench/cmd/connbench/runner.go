//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pollnet/pollnet/bench/internal/procstat"
)

// sources are the client's source addresses: loopback only, spread so that
// ephemeral ports never run out.
const sources = "127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5,127.0.0.6,127.0.0.7,127.0.0.8,127.0.0.9"

// runner drives the benchmark: it starts servers and clients and records
// what it measures into the current run's metrics.
type runner struct {
	cfg      *config
	self     string // this binary: the client role
	binDir   string // the server programs
	tlsFiles [2]string
	con      *console
	run      int     // 1-based
	m        metrics // the current run's
	errors   []string
}

func (r *runner) logf(format string, a ...any) { r.con.logf(format, a...) }

// fail records an error of the current run for the report.
func (r *runner) fail(server, format string, a ...any) {
	msg := fmt.Sprintf("run %d: %s: %s", r.run, server, fmt.Sprintf(format, a...))
	r.errors = append(r.errors, msg)
	r.logf("%s", msg)
}

// server is a running server under test.
type server struct {
	spec serverSpec
	proc *child
	addr string
}

// startServer starts spec and waits for its LISTENING line.
func (r *runner) startServer(spec serverSpec, phase string) (*server, error) {
	args := append([]string(nil), spec.args...)
	if spec.profiles {
		args = append(args, "-cpuprofile="+profilePath(r.cfg.out, fmt.Sprintf("%s.run%d", spec.name, r.run), phase))
	}
	p, err := startChild(spec.name, spec.path, args...)
	if err != nil {
		return nil, err
	}
	line, err := p.nextLine(15*time.Second, nil, "LISTENING ")
	if err != nil {
		p.stop(time.Second)
		return nil, fmt.Errorf("server %s did not start: %w", spec.name, err)
	}
	return &server{spec: spec, proc: p, addr: strings.TrimSpace(strings.TrimPrefix(line, "LISTENING "))}, nil
}

// stats asks the server for its STATS line, after a GC when gc is set.
func (s *server) stats(gc bool) (map[string]int64, error) {
	sig := syscall.SIGUSR2
	if gc {
		sig = syscall.SIGUSR1
	}
	line, err := s.proc.stats(sig, 30*time.Second)
	if err != nil {
		return nil, err
	}
	return parseStatsLine(line)
}

// command sends a serverproto command to the server and returns its REPLY.
func (s *server) command(line string, timeout time.Duration) (string, error) {
	if _, err := fmt.Fprintln(s.proc.stdin, line); err != nil {
		return "", fmt.Errorf("%s: %w", s.spec.name, err)
	}
	reply, err := s.proc.nextLine(timeout, nil, "REPLY ")
	if err != nil {
		return "", err
	}
	reply = strings.TrimPrefix(reply, "REPLY ")
	if msg, ok := strings.CutPrefix(reply, "ERROR "); ok {
		return "", fmt.Errorf("%s: %q: %s", s.spec.name, line, msg)
	}
	return reply, nil
}

// cpu returns the server's CPU time so far.
func (s *server) cpu() time.Duration {
	d, _ := procstat.CPU(s.proc.pid())
	return d
}

// startClient starts a client role process.
func (r *runner) startClient(name string) (*child, error) {
	return startChild(name, r.self, "-role=client", "-src="+sources, "-cacert="+r.tlsFiles[0],
		"-max="+r.cfg.timeout.String())
}

// call sends one command to a client and decodes its RESULT into v, showing
// its progress under label.
func (r *runner) call(client *child, v any, label string, timeout time.Duration, format string, a ...any) error {
	cmd := fmt.Sprintf(format, a...)
	if _, err := fmt.Fprintln(client.stdin, cmd); err != nil {
		return fmt.Errorf("%s: %w", client.name, err)
	}
	bar := r.con.bar(label)
	defer bar.done()
	line, err := client.nextLine(timeout, func(p string) {
		f := strings.Fields(p)
		if len(f) == 2 {
			done, _ := strconv.ParseInt(f[0], 10, 64)
			total, _ := strconv.ParseInt(f[1], 10, 64)
			bar.update(done, total)
		}
	}, "RESULT ", "ERROR ")
	if err != nil {
		return err
	}
	if msg, ok := strings.CutPrefix(line, "ERROR "); ok {
		return fmt.Errorf("client %q: %s", cmd, msg)
	}
	return json.Unmarshal([]byte(strings.TrimPrefix(line, "RESULT ")), v)
}

// parseStatsLine parses "STATS goroutines=5 parked=3 ..." into a map.
func parseStatsLine(line string) (map[string]int64, error) {
	rest, ok := strings.CutPrefix(line, "STATS ")
	if !ok {
		return nil, fmt.Errorf("not a STATS line: %q", line)
	}
	m := map[string]int64{}
	for _, f := range strings.Fields(rest) {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("bad field %q in %q", f, line)
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("bad value in %q: %v", f, err)
		}
		m[k] = n
	}
	if _, ok := m["goroutines"]; !ok {
		return nil, fmt.Errorf("no goroutines field in %q", line)
	}
	return m, nil
}

// waitIdle waits, for a server that gives idle connections back to pollnet
// (hibernation, OnReadable), until at least want of them are (or a bound
// passes), and returns how many are (-1: the server keeps its connections).
func (r *runner) waitIdle(s *server, want int) int64 {
	key := s.spec.waitFor
	if key == "" {
		return -1
	}
	bound := 5*time.Second + r.cfg.grace
	deadline := time.Now().Add(bound)
	for {
		st, err := s.stats(false)
		if err != nil {
			return -1
		}
		n, ok := st[key]
		if !ok || n >= int64(want) || time.Now().After(deadline) {
			if ok && n < int64(want) {
				r.logf("%s: only %d of %d connections %s after %v", s.spec.name, n, want, key, bound)
			}
			return n
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// measureRSS collects garbage in the server (if it speaks the protocol),
// lets it settle and reads its RSS. It returns the STATS of the GC.
func (r *runner) measureRSS(s *server) (int64, map[string]int64, error) {
	st, err := s.stats(true)
	if err != nil {
		return 0, nil, err
	}
	time.Sleep(100 * time.Millisecond)
	rss, err := procstat.RSS(s.proc.pid())
	return rss, st, err
}

// mib formats a byte count in MiB.
func mib(b int64) string { return strconv.FormatFloat(float64(b)/(1<<20), 'f', 1, 64) + " MiB" }

// perRequestMicros is CPU seconds per request, in microseconds.
func perRequestMicros(seconds float64, requests int) float64 {
	if requests == 0 {
		return 0
	}
	return seconds / float64(requests) * 1e6
}
