//go:build linux

package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"strconv"
	"time"

	"github.com/pollnet/pollnet/cmd/connbench/serverproto"
)

// helloHandler is the trivial handler every server under test serves.
func helloHandler() http.Handler {
	body := []byte(serverproto.Body)
	contentLength := strconv.Itoa(len(body))
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("Content-Length", contentLength)
		_, _ = w.Write(body)
	})
}

// serverOptions are what a root-module server needs to start.
type serverOptions struct {
	addr  string
	grace time.Duration // pollnet's IdleGrace; 0 means the library default
}

// startedServer is a server that is accepting connections.
type startedServer struct {
	addr  net.Addr
	stats func() map[string]int64 // nil when the server has none
	serve func() error            // blocks serving
}

// rootServers are the servers of the root module, by name; each listens and
// returns without serving yet.
var rootServers = map[string]func(serverOptions) (*startedServer, error){
	"std": startStd,
	// The pollnet servers are registered by server_pollnet.go.
}

func startStd(o serverOptions) (*startedServer, error) {
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return nil, err
	}
	h := helloHandler()
	return &startedServer{addr: ln.Addr(), serve: func() error { return http.Serve(ln, h) }}, nil
}

// runServer is the -role=server entry point.
func runServer(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("connbench -role=server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var pf serverproto.Flags
	pf.Register(fs)
	name := fs.String("server", "std", "server to run: "+rootServerNames())
	grace := fs.Duration("grace", 0, "pollnet IdleGrace (0: library default)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	fs.String("role", "server", "")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	start, ok := rootServers[*name]
	if !ok {
		fmt.Fprintf(stderr, "connbench server: unknown -server %q (have %s)\n", *name, rootServerNames())
		return 2
	}
	s, err := start(serverOptions{addr: pf.Addr, grace: *grace})
	if err != nil {
		fmt.Fprintf(stderr, "connbench server %s: %v\n", *name, err)
		return 1
	}
	stop := func() {}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintf(stderr, "connbench server: %v\n", err)
			return 1
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "connbench server: %v\n", err)
			return 1
		}
		stop = func() { pprof.StopCPUProfile(); f.Close() }
	}
	serverproto.Supervise(pf.Max, s.stats, stop)
	serverproto.Ready(s.addr)
	err = s.serve()
	stop()
	fmt.Fprintf(stderr, "connbench server %s: %v\n", *name, err)
	return 1
}
