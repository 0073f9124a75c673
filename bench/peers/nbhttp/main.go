// Command nbhttp is connbench's nbio peer: nbio's net/http-compatible server
// (github.com/lesismal/nbio/nbhttp) serving the same "Hello, World!" handler as
// the root module's servers. It speaks connbench's server protocol
// (github.com/pollnet/pollnet/cmd/connbench/serverproto).
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"

	"github.com/lesismal/nbio/nbhttp"
	"github.com/pollnet/pollnet/cmd/connbench/serverproto"
)

func main() {
	var pf serverproto.Flags
	pf.Register(flag.CommandLine)
	flag.Parse()

	body := []byte(serverproto.Body)
	contentLength := strconv.Itoa(len(body))
	handler := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("Content-Length", contentLength)
		_, _ = w.Write(body)
	})

	var (
		mu   sync.Mutex
		addr net.Addr
	)
	engine := nbhttp.NewEngine(nbhttp.Config{
		Network: "tcp",
		Addrs:   []string{pf.Addr},
		Handler: handler,
		// Record the real address when the engine listens on port 0.
		Listen: func(network, address string) (net.Listener, error) {
			ln, err := net.Listen(network, address)
			if err == nil {
				mu.Lock()
				addr = ln.Addr()
				mu.Unlock()
			}
			return ln, err
		},
	})
	if err := engine.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "nbhttp: %v\n", err)
		os.Exit(1)
	}
	stats := func() map[string]int64 { return map[string]int64{"open": int64(engine.Online())} }
	serverproto.Supervise(pf.Max, stats, engine.Stop)
	mu.Lock()
	serverproto.Ready(addr)
	mu.Unlock()
	select {}
}
