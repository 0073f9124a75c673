// Command wsecho is a WebSocket echo server (github.com/gobwas/ws) on
// pollnet: an idle connection holds no goroutine and no buffer.
//
//	go run ./cmd/wsecho -addr 127.0.0.1:8080    # then ws://127.0.0.1:8080/echo
package main

import (
	"flag"
	"log"
	"net/http"
	"time"

	"github.com/pollnet/pollnet"
	"github.com/pollnet/pollnet/examples/longlived/gobwasws"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	idle := flag.Duration("idle", time.Minute, "ping a connection silent this long; close it after as long again")
	flag.Parse()
	mux := http.NewServeMux()
	mux.Handle("/echo", gobwasws.Echo(gobwasws.Config{IdleTimeout: *idle, WriteTimeout: 10 * time.Second}))
	log.Printf("WebSocket echo on ws://%s/echo", *addr)
	log.Fatal(pollnet.ListenAndServe(*addr, mux))
}
