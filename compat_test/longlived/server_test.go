package longlivedcompat

import (
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pollnet/pollnet"
	"github.com/pollnet/pollnet/compat_test/internal/compat"
)

// serve starts h on a hibernating pollnet listener with the leak checks of
// this suite: when the test ends (the clients closed, then the server shut
// down) the listener holds nothing (Open, Parked and Waiting back to 0),
// no pollnet goroutine is left (the shared pollset of waiting connections
// stopped), and the process's fds and goroutines are back to baseline.
// Call it first in a test.
func serve(t *testing.T, h http.Handler) *compat.HTTPServer {
	t.Helper()
	compat.CheckLeaks(t)
	t.Cleanup(func() { noPollnetGoroutines(t) })
	s := compat.ServeHTTP(t, compat.Hibernating, h, nil, nil)
	t.Cleanup(func() {
		compat.WaitStats(t, s.Ln, "every socket closed, none waiting", func(st pollnet.Stats) bool {
			return st.Open == 0 && st.Parked == 0 && st.Waiting == 0
		})
	})
	return s
}

// noPollnetGoroutines waits (bounded) until no goroutine runs pollnet code.
func noPollnetGoroutines(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		if !strings.Contains(stacks, "github.com/pollnet/pollnet.") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pollnet goroutines left:\n%s", stacks)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitCond waits (bounded, never a timing assertion) for cond.
func waitCond(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: gave up after 20 s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// idleGoroutines checks that n idle connections hold no goroutine each: the
// process has at most base + slack goroutines while they wait.
func idleGoroutines(t *testing.T, base, n int) {
	t.Helper()
	const slack = 30
	deadline := time.Now().Add(20 * time.Second)
	for runtime.NumGoroutine() > base+slack {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines with %d idle connections (%d before them): one per connection?",
				runtime.NumGoroutine(), n, base)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
