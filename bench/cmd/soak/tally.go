package main

import (
	"fmt"
	"io"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pollnet/pollnet/bench/internal/latency"
)

// tally counts what the run did and what went wrong.
type tally struct {
	dials, requests, bytesChecked, echoMessages atomic.Int64
	open                                        atomic.Int64 // client connections open now

	mu         sync.Mutex
	latencies  *latency.Recorder // of keep-alive requests (request written to response checked)
	injected   map[string]int64  // faults the soak caused on purpose
	unexpected map[string]int64  // errors by kind: must stay empty
	firstErr   map[string]string
}

func newTally() *tally {
	return &tally{latencies: latency.New(), injected: map[string]int64{}, unexpected: map[string]int64{}, firstErr: map[string]string{}}
}

func (t *tally) inject(kind string) {
	t.mu.Lock()
	t.injected[kind]++
	t.mu.Unlock()
}

// soakError is an unexpected failure of one kind (dial, read, body, ...).
type soakError struct {
	kind string
	err  error
}

func (e *soakError) Error() string { return e.kind + ": " + e.err.Error() }

func fail(kind string, err error) error { return &soakError{kind, err} }

func failf(kind, format string, a ...any) error { return &soakError{kind, fmt.Errorf(format, a...)} }

func (t *tally) record(err error) {
	kind := "other"
	if se, ok := err.(*soakError); ok {
		kind = se.kind
	}
	t.mu.Lock()
	t.unexpected[kind]++
	if _, seen := t.firstErr[kind]; !seen {
		t.firstErr[kind] = err.Error()
	}
	t.mu.Unlock()
}

func (t *tally) errors() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	var n int64
	for _, v := range t.unexpected {
		n += v
	}
	return n
}

func printCounts(w io.Writer, title string, m map[string]int64, first map[string]string) {
	keys := make([]string, 0, len(m))
	var total int64
	for k, v := range m {
		keys = append(keys, k)
		total += v
	}
	sort.Strings(keys)
	fmt.Fprintf(w, "%-22s %d\n", title, total)
	for _, k := range keys {
		fmt.Fprintf(w, "  %-20s %d", k, m[k])
		if e := first[k]; e != "" {
			fmt.Fprintf(w, "  (first: %s)", e)
		}
		fmt.Fprintln(w)
	}
}

func (t *tally) latency(d time.Duration) { t.latencies.Record(d) }
