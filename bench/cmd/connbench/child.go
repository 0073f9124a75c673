//go:build linux

package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
)

// child is a process the orchestrator started: its own process group, killed
// with the orchestrator (Pdeathsig) and by killAll on every exit path.
type child struct {
	name   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string // stdout, line by line; closed at EOF
	stderr *tail
	done   chan struct{} // closed when the process has exited
	err    error         // Wait's error, valid after done
}

// tail keeps the last bytes written to it (a child's stderr, for errors).
type tail struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > 4096 {
		t.buf = append([]byte(nil), t.buf[len(t.buf)-4096:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.buf))
}

var (
	childrenMu sync.Mutex
	children   = map[*child]bool{}

	spawnOnce sync.Once
	spawnReqs chan spawnReq
)

type spawnReq struct {
	cmd  *exec.Cmd
	done chan error
}

// spawner starts every child from one OS thread that never exits: Pdeathsig
// fires when the thread that started a child exits, not the process.
func spawner() {
	runtime.LockOSThread()
	for r := range spawnReqs {
		r.done <- r.cmd.Start()
	}
}

// startChild starts path with args. Its stdin stays open until stop: children
// exit by themselves when it closes.
func startChild(name, path string, args ...string) (*child, error) {
	spawnOnce.Do(func() {
		spawnReqs = make(chan spawnReq)
		go spawner()
	})
	cmd := exec.Command(path, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	c := &child{name: name, cmd: cmd, lines: make(chan string, 4096), stderr: &tail{}, done: make(chan struct{})}
	cmd.Stderr = c.stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	c.stdin = stdin
	req := spawnReq{cmd: cmd, done: make(chan error)}
	spawnReqs <- req
	if err := <-req.done; err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	childrenMu.Lock()
	children[c] = true
	childrenMu.Unlock()
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64*1024), 1<<20)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
		c.err = cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// exitError describes why a child is gone, with the end of its stderr.
func (c *child) exitError() error {
	msg := fmt.Sprintf("%s exited", c.name)
	select {
	case <-c.done:
		if c.err != nil {
			msg += ": " + c.err.Error()
		}
	default:
		msg += " (closed its stdout)"
	}
	if s := c.stderr.String(); s != "" {
		msg += "\n  stderr: " + strings.ReplaceAll(s, "\n", "\n  stderr: ")
	}
	return errors.New(msg)
}

var errTimeout = errors.New("timed out")

// nextLine returns the next stdout line starting with one of prefixes,
// handing every PROGRESS line to progress (if not nil) and skipping others.
func (c *child) nextLine(timeout time.Duration, progress func(string), prefixes ...string) (string, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		select {
		case line, ok := <-c.lines:
			if !ok {
				<-c.done
				return "", c.exitError()
			}
			if strings.HasPrefix(line, "PROGRESS ") {
				if progress != nil {
					progress(strings.TrimPrefix(line, "PROGRESS "))
				}
				continue
			}
			for _, p := range prefixes {
				if strings.HasPrefix(line, p) {
					return line, nil
				}
			}
		case <-deadline.C:
			return "", fmt.Errorf("%s: no %q line within %v: %w", c.name, prefixes, timeout, errTimeout)
		}
	}
}

// stats sends sig (SIGUSR1: GC first, SIGUSR2: no GC) to the child and
// returns its next STATS line.
func (c *child) stats(sig syscall.Signal, timeout time.Duration) (string, error) {
	if err := c.cmd.Process.Signal(sig); err != nil {
		return "", fmt.Errorf("%s: %w", c.name, err)
	}
	return c.nextLine(timeout, nil, "STATS ")
}

// stop closes the child's stdin, gives it grace to exit, then kills its
// process group.
func (c *child) stop(grace time.Duration) {
	c.stdin.Close()
	select {
	case <-c.done:
	case <-time.After(grace):
	}
	_ = syscall.Kill(-c.pid(), syscall.SIGKILL)
	go func() { // drain so the reader goroutine can finish
		for range c.lines {
		}
	}()
	select {
	case <-c.done:
	case <-time.After(2 * time.Second):
	}
	childrenMu.Lock()
	delete(children, c)
	childrenMu.Unlock()
}

var (
	tempMu   sync.Mutex
	tempDirs []string
)

// removeAtExit registers a temporary directory that removeTemp deletes: on
// the paths that leave through os.Exit (signals, -timeout), where deferred
// calls do not run.
func removeAtExit(dir string) {
	tempMu.Lock()
	defer tempMu.Unlock()
	tempDirs = append(tempDirs, dir)
}

// removeTemp deletes the directories registered with removeAtExit.
func removeTemp() {
	tempMu.Lock()
	defer tempMu.Unlock()
	for _, d := range tempDirs {
		os.RemoveAll(d)
	}
	tempDirs = nil
}

// killAll kills the process group of every child still running.
func killAll() {
	childrenMu.Lock()
	defer childrenMu.Unlock()
	for c := range children {
		_ = syscall.Kill(-c.pid(), syscall.SIGKILL)
		delete(children, c)
	}
}
