// Command soak runs pollnet through a long mixed workload and checks that
// nothing is lost and nothing leaks.
//
// It starts itself a second time as the server process (a pollnet listener,
// net/http with hibernation, and a hijacked echo), so that client and server
// each stay under the per-process fd limit, then drives -conns concurrent
// client connections for -duration with a mix of keep-alive requests (which
// hibernate between requests), trickled requests, pipelined requests, uploads
// with checksums (some with Expect: 100-continue), hijacked echo sessions
// (websocket-style handshake, length-prefixed frames) and injected abrupt
// closes. Every response body is checked. At the end it closes every client
// connection and checks that the server's fds, goroutines and pollnet
// counters return to their baseline and reports its RSS.
//
//	go run ./cmd/soak -conns 15000 -duration 5m
//
// It prints a summary and exits 1 on any unexpected error or leak.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"
)

type options struct {
	conns    int
	duration time.Duration
	think    time.Duration
	ramp     time.Duration
	grace    time.Duration
	addr     string
	std      bool
}

func main() {
	var o options
	role := flag.String("role", "client", "client (drives the run) or server (started by the client)")
	flag.IntVar(&o.conns, "conns", 15000, "concurrent client connections")
	flag.DurationVar(&o.duration, "duration", 5*time.Minute, "length of the mixed run")
	flag.DurationVar(&o.think, "think", 5*time.Second, "mean pause between a connection's operations (connections hibernate meanwhile)")
	flag.DurationVar(&o.ramp, "ramp", 0, "time to open all connections (0: a tenth of -duration, at most 30 s)")
	flag.DurationVar(&o.grace, "grace", 0, "server's pollnet IdleGrace (0: pollnet's default)")
	flag.StringVar(&o.addr, "addr", "127.0.0.1:0", "server listen address")
	flag.BoolVar(&o.std, "std", false, "serve with std net.Listen instead of pollnet (for comparison)")
	flag.Parse()
	if o.ramp == 0 {
		o.ramp = min(o.duration/10, 30*time.Second)
	}
	var err error
	switch *role {
	case "server":
		err = runServer(o)
	case "client":
		err = runClient(o)
	default:
		err = fmt.Errorf("unknown -role %q", *role)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}
