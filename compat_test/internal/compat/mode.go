package compat

import (
	"context"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/pollnet/pollnet"
)

// Grace is the IdleGrace of hibernating listeners in these suites: short, so
// that idle pauses in a test really park sockets.
const Grace = 30 * time.Millisecond

// IdlePause is how long tests stay idle to let connections hibernate: several
// times Grace. Tests never assert on it; they wait on Stats for parks.
const IdlePause = 200 * time.Millisecond

// Mode is how a server under test listens and serves.
type Mode int

const (
	// Hibernating: a pollnet listener with IdleGrace = Grace, and net/http
	// servers get pollnet.Hibernate. Idle HTTP/1 keep-alive conns park.
	Hibernating Mode = iota
	// PollnetPlain: a pollnet listener served unchanged (srv.Serve(ln)),
	// no hook: nothing ever parks.
	PollnetPlain
	// Std: net.Listen, for comparison.
	Std
)

// PollnetModes are the two ways a pollnet listener is used.
var PollnetModes = []Mode{Hibernating, PollnetPlain}

func (m Mode) String() string {
	switch m {
	case Hibernating:
		return "hibernation-on"
	case PollnetPlain:
		return "hibernation-off"
	case Std:
		return "std"
	}
	return "unknown-mode"
}

// Listen opens a loopback TCP listener for m. The caller closes it (servers'
// Shutdown/Stop do). For the pollnet modes the result is a *pollnet.Listener.
func Listen(t testing.TB, m Mode) net.Listener {
	t.Helper()
	var ln net.Listener
	var err error
	switch m {
	case Hibernating:
		lc := pollnet.ListenConfig{IdleGrace: Grace}
		ln, err = lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	case PollnetPlain:
		ln, err = pollnet.Listen("tcp", "127.0.0.1:0")
	default:
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatalf("listen (%v): %v", m, err)
	}
	return ln
}

// Stats returns ln's pollnet counters, or the zero Stats for a std listener.
func Stats(ln net.Listener) pollnet.Stats {
	if pl, ok := ln.(*pollnet.Listener); ok {
		return pl.Stats()
	}
	return pollnet.Stats{}
}

// WaitStats waits (bounded by 20 s, never a timing assertion) until cond
// holds for ln's Stats, and fails the test with the last Stats if it does not.
func WaitStats(t testing.TB, ln net.Listener, what string, cond func(pollnet.Stats) bool) pollnet.Stats {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		s := Stats(ln)
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: stats %+v", what, s)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// WaitDrained waits until a pollnet listener holds no socket at all (no
// active, parked or queued one): what must follow once every client has
// closed its connections. A no-op for std listeners.
func WaitDrained(t testing.TB, ln net.Listener) {
	t.Helper()
	if _, ok := ln.(*pollnet.Listener); !ok {
		return
	}
	WaitStats(t, ln, "every socket closed (Open == 0, Parked == 0)", func(s pollnet.Stats) bool {
		// In-process clients that drop a connection without closing it
		// (h2spec does, on some failing cases) leave the server's end
		// legitimately open until the client's socket is finalized: collect
		// garbage so that such a socket closes and the server sees EOF.
		runtime.GC()
		return s.Open == 0 && s.Parked == 0
	})
}
