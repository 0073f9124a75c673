// Command chat is a broadcast chat room over WebSockets (github.com/gobwas/ws)
// on pollnet. Open http://ADDR/ in several browser tabs.
//
//	go run ./cmd/chat -addr 127.0.0.1:8080
package main

import (
	"flag"
	"log"
	"net/http"
	"time"

	"github.com/pollnet/pollnet"
	"github.com/pollnet/pollnet/examples/longlived/chat"
	"github.com/pollnet/pollnet/examples/longlived/gobwasws"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	idle := flag.Duration("idle", time.Minute, "ping a member silent this long; close it after as long again")
	flag.Parse()
	room := chat.New(gobwasws.Config{IdleTimeout: *idle, WriteTimeout: 5 * time.Second})
	mux := http.NewServeMux()
	mux.Handle("/chat", room)
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) { w.Write(chat.Page) })
	log.Printf("chat on http://%s/", *addr)
	log.Fatal(pollnet.ListenAndServe(*addr, mux))
}
