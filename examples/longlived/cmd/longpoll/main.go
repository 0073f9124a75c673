// Command longpoll is a long-poll endpoint on pollnet: GET /poll waits for
// the next message POSTed to /publish, or 30 s (then 204). Either way the
// connection stays open for the client's next request.
//
//	curl http://ADDR/poll http://ADDR/poll     # one TCP connection
//	curl -d hello http://ADDR/publish
package main

import (
	"flag"
	"io"
	"log"
	"net/http"
	"time"

	"github.com/pollnet/pollnet"
	"github.com/pollnet/pollnet/examples/longlived/longpoll"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	timeout := flag.Duration("timeout", 30*time.Second, "how long a poll waits")
	flag.Parse()
	polls := longpoll.New(*timeout)
	mux := http.NewServeMux()
	mux.Handle("GET /poll", polls)
	mux.HandleFunc("POST /publish", func(w http.ResponseWriter, r *http.Request) {
		msg, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		polls.Publish(string(msg))
	})
	log.Printf("long-poll on http://%s/poll, publish with POST http://%s/publish", *addr, *addr)
	log.Fatal(pollnet.ListenAndServe(*addr, mux))
}
