//go:build linux

// Command servers runs one of the servers connbench measures that are built
// on net/http or std net: plain HTTP/1 (std and pollnet), WebSocket echo
// (gobwas/ws, gorilla/websocket, pollnet), server-sent events (std and
// pollnet) and HTTPS (std and pollnet). It speaks connbench's server protocol
// (github.com/pollnet/pollnet/cmd/connbench/serverproto).
//
// It is a program of its own, not a role of connbench, so that a server under
// test carries none of the orchestrator's libraries (charts, progress bars,
// histograms): its memory is the server's. The peers with their own engines
// (nbio, gnet) are separate programs under ../peers for the same reason.
//
//	servers -server=NAME [-addr=127.0.0.1:0] [-grace=D] [-cert=F -key=F] [-cpuprofile=F]
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"runtime/pprof"
	"sort"
	"strings"
	"time"

	"github.com/pollnet/pollnet/cmd/connbench/serverproto"
)

// options are what a server needs to start.
type options struct {
	addr           string
	grace          time.Duration // pollnet's IdleGrace; 0 means the library default
	cert, key      string        // PEM files, for the TLS servers
	broadcastLimit time.Duration // SSE: bound on one broadcast
}

// started is a server that is accepting connections.
type started struct {
	addr     net.Addr
	stats    func() map[string]int64 // nil when the server has none
	commands func(line string) string
	serve    func() error // blocks serving
}

// registry holds every server by name; each file registers its own in init.
// A starter listens and returns without serving yet.
var registry = map[string]func(options) (*started, error){}

func names() string {
	var n []string
	for k := range registry {
		n = append(n, k)
	}
	sort.Strings(n)
	return strings.Join(n, " ")
}

func main() {
	var pf serverproto.Flags
	pf.Register(flag.CommandLine)
	var o options
	name := flag.String("server", "std", "server to run")
	flag.DurationVar(&o.grace, "grace", 0, "pollnet IdleGrace (0: library default)")
	flag.StringVar(&o.cert, "cert", "", "TLS certificate (PEM file)")
	flag.StringVar(&o.key, "key", "", "TLS key (PEM file)")
	flag.DurationVar(&o.broadcastLimit, "broadcast-limit", time.Minute, "SSE: bound on one broadcast")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	list := flag.Bool("list", false, "print the names of the servers this build has, and exit")
	flag.Parse()
	if *list {
		fmt.Println(names())
		return
	}
	o.addr = pf.Addr
	start, ok := registry[*name]
	if !ok {
		fmt.Fprintf(os.Stderr, "servers: unknown -server %q (have %s)\n", *name, names())
		os.Exit(2)
	}
	s, err := start(o)
	if err != nil {
		fmt.Fprintf(os.Stderr, "servers %s: %v\n", *name, err)
		os.Exit(1)
	}
	stop := func() {}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "servers: %v\n", err)
			os.Exit(1)
		}
		stop = func() { pprof.StopCPUProfile(); f.Close() }
	}
	if s.commands != nil {
		serverproto.HandleCommands(s.commands)
	}
	serverproto.Supervise(pf.Max, s.stats, stop)
	serverproto.Ready(s.addr)
	err = s.serve()
	stop()
	fmt.Fprintf(os.Stderr, "servers %s: %v\n", *name, err)
	os.Exit(1)
}
