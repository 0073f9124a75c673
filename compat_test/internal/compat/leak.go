package compat

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"
)

// processWide are goroutines that libraries start once per process and keep
// for its life by design (not per server or per connection), so they are not
// leaks of a suite. Each entry is a function name that appears in the stack.
var processWide = []string{
	"github.com/valyala/fasthttp.updateServerDate",           // fasthttp's Date header ticker (sync.Once)
	"github.com/valyala/fasthttp.(*TCPDialer).tcpAddrsClean", // the default dialer's DNS cache cleaner (sync.Once)
	"os/signal.loop", // os/signal's dispatcher, started by Notify
}

// CheckLeaks records the process's open fds and goroutines now, and at the
// end of the test (after every cleanup registered later, so after servers
// shut down) waits up to 20 s for both to be back to that baseline; it fails
// the test listing whatever is left. Call it first in a test.
func CheckLeaks(t testing.TB) {
	t.Helper()
	warmUpNetpoll()
	fds := openFDs(t)
	gs := goroutineIDs()
	t.Cleanup(func() {
		if t.Failed() {
			return // the failure is what matters; leftovers would only be noise
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			extraFDs := newFDs(fds, openFDs(t))
			extraGs := newGoroutines(gs)
			if len(extraFDs) == 0 && len(extraGs) == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("leak: %d fds and %d goroutines above baseline\nfds: %v\ngoroutines:\n%s",
					len(extraFDs), len(extraGs), extraFDs, strings.Join(extraGs, "\n\n"))
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// warmUpNetpoll makes sure the runtime's netpoller (its epoll fd and
// eventfd, kept for the process's life) exists before a baseline is taken.
func warmUpNetpoll() {
	if ln, err := net.Listen("tcp", "127.0.0.1:0"); err == nil {
		ln.Close()
	}
}

// openFDs maps each open fd number to what it refers to.
func openFDs(t testing.TB) map[string]string {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("leak check needs /proc/self/fd: %v", err)
	}
	m := make(map[string]string, len(ents))
	for _, e := range ents {
		target, _ := os.Readlink("/proc/self/fd/" + e.Name())
		m[e.Name()] = target
	}
	return m
}

// newFDs lists fds open now that were not open (to the same target) before.
// The fd ReadDir itself used is gone by the time it returns.
func newFDs(before, now map[string]string) []string {
	var extra []string
	for fd, target := range now {
		if before[fd] != target {
			extra = append(extra, fd+" -> "+target)
		}
	}
	sort.Strings(extra)
	return extra
}

// goroutineIDs returns the ids of all goroutines now.
func goroutineIDs() map[string]bool {
	ids := map[string]bool{}
	for _, g := range goroutineStacks() {
		ids[goroutineID(g)] = true
	}
	return ids
}

// newGoroutines returns the stacks of goroutines that were not in baseline
// and are not process-wide by design.
func newGoroutines(baseline map[string]bool) []string {
	var extra []string
	for _, g := range goroutineStacks() {
		if baseline[goroutineID(g)] || isProcessWide(g) {
			continue
		}
		extra = append(extra, g)
	}
	return extra
}

func isProcessWide(stack string) bool {
	for _, f := range processWide {
		if strings.Contains(stack, f) {
			return true
		}
	}
	return false
}

func goroutineStacks() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var stacks []string
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		if s := strings.TrimSpace(string(g)); strings.HasPrefix(s, "goroutine ") {
			stacks = append(stacks, s)
		}
	}
	return stacks
}

// goroutineID returns "123" from "goroutine 123 [running]:...".
func goroutineID(stack string) string {
	var id int
	fmt.Sscanf(stack, "goroutine %d ", &id)
	return fmt.Sprint(id)
}
