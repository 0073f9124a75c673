// Command hello is the demo server of README.md: net/http on pollnet, with
// idle hibernation. It prints the listener's counters every few seconds so
// you can watch idle keep-alive connections park and wake.
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/pollnet/pollnet"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	every := flag.Duration("stats", 5*time.Second, "how often to print the listener's counters (0: never)")
	flag.Parse()

	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "Hello from pollnet, %s\n", r.RemoteAddr)
	})

	ln, err := pollnet.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("serving on http://%s (try: curl http://%s/ http://%s/)", ln.Addr(), ln.Addr(), ln.Addr())
	if *every > 0 {
		go func() {
			for range time.Tick(*every) {
				log.Printf("%+v", ln.(*pollnet.Listener).Stats())
			}
		}()
	}
	log.Fatal(pollnet.Serve(ln, mux))
}
