package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// binaries are the programs a run starts.
type binaries struct {
	gnethttp, gnetv2http, self string
}

// build compiles the two HTTP responders into dir.
func build(repo, dir string) (binaries, error) {
	b := binaries{gnethttp: filepath.Join(dir, "gnethttp"), gnetv2http: filepath.Join(dir, "gnetv2http")}
	for _, s := range []struct{ dir, pkg, out string }{
		{repo, "./examples/gnethttp", b.gnethttp},
		{filepath.Join(repo, "bench"), "./peers/gnetv2http", b.gnetv2http},
	} {
		cmd := exec.Command("go", "build", "-o", s.out, s.pkg)
		cmd.Dir, cmd.Stderr = s.dir, os.Stderr
		if err := cmd.Run(); err != nil {
			return b, fmt.Errorf("build %s: %v", s.pkg, err)
		}
	}
	self, err := os.Executable()
	b.self = self
	return b, err
}

// command returns how to start engine's HTTP or echo server.
func (b binaries) command(engine, kind string) (string, []string) {
	if kind == "echo" {
		return b.self, []string{"serve", "-engine", engine}
	}
	switch engine {
	case "gnetv2":
		return b.gnetv2http, nil
	case "pollnet-io_uring":
		return b.gnethttp, []string{"-iouring"}
	}
	return b.gnethttp, nil
}

// server is a running server process speaking connbench's server protocol
// (LISTENING line; SIGUSR1: GC, then a STATS line; exit at stdin EOF).
type server struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
	addr  string
}

func start(b binaries, engine, kind string) (*server, error) {
	path, args := b.command(engine, kind)
	cmd := exec.Command(path, append(args, "-addr", "127.0.0.1:0")...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, stdin: stdin, lines: make(chan string, 16)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case s.lines <- sc.Text():
			default: // gnet v2 may log to stdout: nobody waits for those
			}
		}
		close(s.lines)
	}()
	timeout := time.After(30 * time.Second)
	for s.addr == "" {
		select {
		case l, ok := <-s.lines:
			if !ok {
				s.stop()
				return nil, fmt.Errorf("%s %s server exited before listening", engine, kind)
			}
			if a, ok := strings.CutPrefix(l, "LISTENING "); ok {
				s.addr = a
			}
		case <-timeout:
			s.stop()
			return nil, fmt.Errorf("%s %s server did not start", engine, kind)
		}
	}
	return s, nil
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// gc makes the server collect garbage and return memory to the system, and
// waits for its STATS line.
func (s *server) gc() error {
	if err := s.cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		return err
	}
	for {
		select {
		case l, ok := <-s.lines:
			if !ok {
				return fmt.Errorf("server exited")
			}
			if strings.HasPrefix(l, "STATS ") {
				return nil
			}
		case <-time.After(30 * time.Second):
			return fmt.Errorf("no STATS line")
		}
	}
}

func (s *server) stop() {
	s.stdin.Close()
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
}

// cpuSeconds is the user+system CPU time of process pid, all threads.
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	var ut, st float64
	fmt.Sscan(f[11], &ut)  // utime: field 14 of the line
	fmt.Sscan(f[12], &st)  // stime: field 15
	return (ut + st) / 100 // USER_HZ
}

// rssBytes is VmRSS of process pid.
func rssBytes(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			var kb float64
			fmt.Sscan(strings.TrimSpace(v), &kb)
			return kb * 1024
		}
	}
	return 0
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "gnetio:", err)
		os.Exit(1)
	}
}
