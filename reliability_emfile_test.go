//go:build linux

package pollnet

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// relEMFILEChild marks the child process of TestReliabilityEMFILE.
const relEMFILEChild = "POLLNET_RELIABILITY_EMFILE_CHILD"

// relEMFILEHeadroom is how many fds above its start-up count the child may
// open: its accepted connections fill them.
const relEMFILEHeadroom = 24

// TestReliabilityEMFILE runs an echo server on a pollnet listener in a child
// process whose RLIMIT_NOFILE is just above what it has open, connects more
// clients than it can accept, and checks that while it is out of fds
//   - a connection accepted earlier keeps being served,
//   - the accept loop does not spin: the child's CPU time over a 2 s window
//     stays under 0.25 s (a spinning accept loop burns a whole core, 2 s;
//     this is a spin detector with an 8x margin, not a performance bound),
//
// and that once clients go away and fds free up, every pending connection is
// accepted and served (recovery).
func TestReliabilityEMFILE(t *testing.T) {
	if os.Getenv(relEMFILEChild) == "1" {
		relEMFILEServe()
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestReliabilityEMFILE$")
	cmd.Env = append(os.Environ(), relEMFILEChild+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	defer func() {
		stdin.Close() // the child exits when its stdin closes
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("child: %v", err)
			}
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			t.Error("child did not exit")
		}
	}()
	pid := cmd.Process.Pid

	// The child reports its address and fd limit.
	lines := bufio.NewScanner(stdout)
	var addr string
	limit := 0
	for addr == "" || limit == 0 {
		if !lines.Scan() {
			t.Fatalf("child ended before reporting its address: %v", lines.Err())
		}
		if a, ok := strings.CutPrefix(lines.Text(), "ADDR "); ok {
			addr = a
		}
		if l, ok := strings.CutPrefix(lines.Text(), "LIMIT "); ok {
			limit, _ = strconv.Atoi(l)
		}
	}
	go func() { io.Copy(io.Discard, stdout); exited <- cmd.Wait() }()

	// More clients than the child can accept. Each sends one byte; the echo
	// shows it was accepted.
	const clients = 3 * relEMFILEHeadroom
	conns := make([]net.Conn, clients)
	echoed := make(chan int, clients)
	for i := range conns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		defer c.Close()
		conns[i] = c
		if i == 0 { // the survivor: accepted first, echoes on demand below
			relEcho(t, c, 's')
			continue
		}
		c.Write([]byte{'x'})
		go func() {
			c.SetReadDeadline(time.Now().Add(60 * time.Second))
			var b [1]byte
			if _, err := io.ReadFull(c, b[:]); err == nil {
				echoed <- i
			}
		}()
	}

	// Wait until the child is out of fds.
	fdCount := func() int {
		ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
		if err != nil {
			t.Fatal(err)
		}
		return len(ents)
	}
	deadline := time.Now().Add(20 * time.Second)
	for fdCount() < limit {
		if time.Now().After(deadline) {
			t.Fatalf("child never ran out of fds: %d open, limit %d", fdCount(), limit)
		}
		time.Sleep(10 * time.Millisecond)
	}
	accepted := map[int]bool{}
	collect := func(wait time.Duration) {
		timer := time.After(wait)
		for {
			select {
			case i := <-echoed:
				accepted[i] = true
			case <-timer:
				return
			}
		}
	}
	collect(200 * time.Millisecond)
	if len(accepted) >= clients-1 {
		t.Fatalf("all %d clients were accepted: the limit did not bite", len(accepted))
	}

	// Exhausted: the survivor is served, and the child stays near idle.
	relEcho(t, conns[0], 'a')
	cpu0 := relProcCPU(t, pid)
	start := time.Now()
	time.Sleep(2 * time.Second)
	cpu := relProcCPU(t, pid) - cpu0
	window := time.Since(start)
	if n := fdCount(); n < limit {
		t.Fatalf("the child was not exhausted for the whole window (%d fds, limit %d)", n, limit)
	}
	relEcho(t, conns[0], 'b')
	t.Logf("EMFILE: child CPU %.3f s over a %.2f s window while out of fds (%d of %d clients accepted, limit %d fds)",
		cpu.Seconds(), window.Seconds(), len(accepted)+1, clients, limit)
	if cpu > 250*time.Millisecond {
		t.Fatalf("child used %v of CPU in %v while out of fds: the accept loop spins", cpu, window)
	}

	// Recovery: close accepted clients until every client has been accepted.
	deadline = time.Now().Add(30 * time.Second)
	closed := map[int]bool{}
	for len(accepted) < clients-1 {
		if time.Now().After(deadline) {
			t.Fatalf("no recovery: %d of %d clients accepted after fds were freed", len(accepted)+1, clients)
		}
		for i := range accepted {
			if !closed[i] {
				conns[i].Close()
				closed[i] = true
			}
		}
		collect(50 * time.Millisecond)
	}
	relEcho(t, conns[0], 'c')
}

// relEcho sends b on c and waits for it to come back.
func relEcho(t *testing.T, c net.Conn, b byte) {
	t.Helper()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	defer c.SetDeadline(time.Time{})
	if _, err := c.Write([]byte{b}); err != nil {
		t.Fatalf("echo write: %v", err)
	}
	var got [1]byte
	if _, err := io.ReadFull(c, got[:]); err != nil || got[0] != b {
		t.Fatalf("echo: got %q, %v; want %q", got[:], err, b)
	}
}

// relProcCPU returns the user plus system CPU time of process pid, all
// threads, from /proc/pid/stat (fields 14 and 15, in USER_HZ = 100 ticks).
func relProcCPU(t *testing.T, pid int) time.Duration {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// The command name (field 2) may hold spaces: fields count from its ')'.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// relEMFILEServe is the child: an echo server on a pollnet listener with
// RLIMIT_NOFILE lowered to relEMFILEHeadroom above its open fds. It exits
// when its stdin closes (returning: the child's test passes).
func relEMFILEServe() {
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(2)
	}
	ln, err := Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail(err)
	}
	// Bring up the runtime netpoller now, so its fds are counted below.
	if r, w, err := os.Pipe(); err == nil {
		r.Close()
		w.Close()
	}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		fail(err)
	}
	limit := len(ents) - 1 + relEMFILEHeadroom // ReadDir's own fd is closed again
	var rl syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl)
	rl.Cur = uint64(limit)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		fail(err)
	}
	fmt.Printf("ADDR %s\nLIMIT %d\n", ln.Addr(), limit)

	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
	io.Copy(io.Discard, os.Stdin)
	ln.Close()
}
