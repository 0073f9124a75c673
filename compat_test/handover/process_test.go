package handovercompat

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pollnet/pollnet"
)

// child is a re-executed copy of this test binary serving on an inherited
// listening socket (runChild).
type child struct {
	cmd    *exec.Cmd
	lines  chan string // its stdout, line by line; closed at EOF
	stderr *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startChild starts the child with listener as its fd 3 and waits until it
// serves. With activation, it is started the way systemd does: LISTEN_FDS=1
// and LISTEN_PID set to its own pid (by a shell that then execs it, keeping
// its pid).
func startChild(t *testing.T, kind string, listener *os.File, hibernate, activation bool) *child {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var cmd *exec.Cmd
	if activation {
		cmd = exec.Command("/bin/sh", "-c", `LISTEN_PID=$$; export LISTEN_PID; exec "$0" "$@"`, exe, "-test.run=^$")
	} else {
		cmd = exec.Command(exe, "-test.run=^$")
	}
	hib := "0"
	if hibernate {
		hib = "1"
	}
	cmd.Env = append(os.Environ(), childEnv+"="+kind, hibernateEnv+"="+hib)
	if activation {
		cmd.Env = append(cmd.Env, "LISTEN_FDS=1")
	}
	cmd.ExtraFiles = []*os.File{listener}
	c := &child{cmd: cmd, lines: make(chan string, 16), stderr: &syncBuffer{}}
	cmd.Stderr = c.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil { // the test failed before stop
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	if line := c.next(t); line != "ready" {
		t.Fatalf("child said %q, want ready; stderr:\n%s", line, c.stderr)
	}
	return c
}

// next returns the child's next stdout line (bounded wait).
func (c *child) next(t *testing.T) string {
	t.Helper()
	select {
	case line, ok := <-c.lines:
		if !ok {
			t.Fatalf("child's stdout closed; stderr:\n%s", c.stderr)
		}
		return line
	case <-time.After(60 * time.Second):
		t.Fatalf("child silent; stderr:\n%s", c.stderr)
	}
	return ""
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// stop sends SIGTERM, and returns the child's listener's final Stats after
// its graceful shutdown; the child must exit 0.
func (c *child) stop(t *testing.T) pollnet.Stats {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	line := c.next(t)
	var s pollnet.Stats
	if js, ok := strings.CutPrefix(line, "stats "); !ok || json.Unmarshal([]byte(js), &s) != nil {
		t.Fatalf("child said %q, want its stats; stderr:\n%s", line, c.stderr)
	}
	if err := c.cmd.Wait(); err != nil {
		t.Fatalf("child: %v; stderr:\n%s", err, c.stderr)
	}
	return s
}
