// Command coderecho is a WebSocket echo server (github.com/coder/websocket)
// on pollnet: an idle connection holds no goroutine.
//
//	go run ./cmd/coderecho -addr 127.0.0.1:8080    # then ws://127.0.0.1:8080/echo
package main

import (
	"flag"
	"log"
	"net/http"
	"time"

	"github.com/pollnet/pollnet"
	"github.com/pollnet/pollnet/examples/longlived/coderecho"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	idle := flag.Duration("idle", 2*time.Minute, "close a connection silent this long")
	flag.Parse()
	mux := http.NewServeMux()
	mux.Handle("/echo", coderecho.Echo(*idle))
	log.Printf("WebSocket echo on ws://%s/echo", *addr)
	log.Fatal(pollnet.ListenAndServe(*addr, mux))
}
