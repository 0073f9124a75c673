// Command nbhttp is connbench's nbio peer: nbio's net/http-compatible server
// (github.com/lesismal/nbio/nbhttp, non-blocking mode: connections are served
// by nbio's pollers) serving the same "Hello, World!" handler as the other
// servers, or with -websocket nbio's WebSocket echo server
// (github.com/lesismal/nbio/nbhttp/websocket). It speaks connbench's server
// protocol (github.com/pollnet/pollnet/cmd/connbench/serverproto).
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
	"github.com/lesismal/nbio/nbhttp/websocket"
	"github.com/pollnet/pollnet/cmd/connbench/serverproto"
)

func main() {
	var pf serverproto.Flags
	pf.Register(flag.CommandLine)
	websocketEcho := flag.Bool("websocket", false, "serve a WebSocket echo instead of the hello handler")
	flag.Parse()

	body := []byte(serverproto.Body)
	contentLength := strconv.Itoa(len(body))
	var handler http.Handler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("Content-Length", contentLength)
		_, _ = w.Write(body)
	})

	if *websocketEcho {
		handler = echoHandler()
	}
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

// echoHandler upgrades every request with nbio's upgrader; nbio's pollers
// then deliver each message to OnMessage, which echoes it.
func echoHandler() http.Handler {
	u := websocket.NewUpgrader()
	u.OnMessage(func(c *websocket.Conn, mt websocket.MessageType, data []byte) {
		_ = c.WriteMessage(mt, data)
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = u.Upgrade(w, r, nil)
	})
}
