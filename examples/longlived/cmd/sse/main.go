// Command sse is a server-sent events broadcaster on pollnet: it publishes
// the time every second to every subscriber. Open http://ADDR/ in a
// browser, or: curl -N http://ADDR/events
package main

import (
	"flag"
	"log"
	"net/http"
	"time"

	"github.com/pollnet/pollnet"
	"github.com/pollnet/pollnet/examples/longlived/sse"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	flag.Parse()
	broker := sse.NewBroker(2 * time.Second)
	go func() {
		for t := range time.Tick(time.Second) {
			broker.Publish(t.Format(time.RFC3339))
		}
	}()
	mux := http.NewServeMux()
	mux.Handle("/events", broker)
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) { w.Write(sse.Page) })
	log.Printf("events on http://%s/events (page: http://%s/)", *addr, *addr)
	log.Fatal(pollnet.ListenAndServe(*addr, mux))
}
