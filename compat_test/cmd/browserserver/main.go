// Command browserserver serves the chat and SSE examples of
// examples/longlived on a hibernating pollnet listener, with a test page
// that a real browser (headless Chromium, see ../../chromium.sh) opens: the
// page joins the chat and says something, subscribes to the events, and
// reports what it saw to /report. The command exits 0 when the browser's
// report is right, 1 when it is wrong or does not come in time.
package main

import (
	"context"
	_ "embed"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/pollnet/pollnet"
	"github.com/pollnet/pollnet/examples/longlived/chat"
	"github.com/pollnet/pollnet/examples/longlived/gobwasws"
	"github.com/pollnet/pollnet/examples/longlived/sse"
)

//go:embed page.html
var page []byte

func main() {
	addrFile := flag.String("addrfile", "", "write the server's address to this file")
	wait := flag.Duration("wait", 60*time.Second, "how long to wait for the browser's report")
	flag.Parse()

	room := chat.New(gobwasws.Config{IdleTimeout: time.Minute, WriteTimeout: 5 * time.Second})
	broker := sse.NewBroker(5 * time.Second)
	defer broker.Close()
	reports := make(chan url.Values, 1)
	var ln net.Listener

	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	})
	mux.Handle("/chat", room)
	mux.Handle("/events", broker)
	// The page asks for the events once it is subscribed and idle.
	mux.HandleFunc("/publish", func(w http.ResponseWriter, r *http.Request) {
		for i := 1; i <= 3; i++ {
			broker.Publish(fmt.Sprint("event ", i))
		}
	})
	mux.HandleFunc("/report", func(w http.ResponseWriter, r *http.Request) {
		select {
		case reports <- r.URL.Query():
		default:
		}
	})

	// How many connections wait in OnReadable: the page asks once idle.
	mux.HandleFunc("/stats", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, ln.(*pollnet.Listener).Stats().Waiting)
	})

	lc := pollnet.ListenConfig{IdleGrace: 50 * time.Millisecond}
	var err error
	ln, err = lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	pollnet.Hibernate(srv)
	go srv.Serve(ln)
	if *addrFile != "" {
		os.WriteFile(*addrFile, []byte(ln.Addr().String()), 0o644)
	}
	log.Printf("serving the browser test page on http://%s/", ln.Addr())

	var report url.Values
	select {
	case report = <-reports:
	case <-time.After(*wait):
		fmt.Println("browser: no report in time")
		fmt.Println("browser: 0 passed, 1 failed")
		os.Exit(1)
	}
	st := ln.(*pollnet.Listener).Stats()
	checks := []struct {
		name string
		ok   bool
	}{
		{"chat: the browser's message came back through the room", report.Get("chat") == "hello from chromium"},
		{"sse: events 1, 2, 3 in order, with their ids", report.Get("sse") == "1:event 1,2:event 2,3:event 3"},
		{"the browser's WebSocket and event stream waited in OnReadable", report.Get("waiting") == "2"},
	}
	failed := 0
	for _, c := range checks {
		status := "ok"
		if !c.ok {
			status = "FAILED"
			failed++
		}
		fmt.Printf("browser: %-62s %s\n", c.name, status)
	}
	fmt.Printf("browser: report %v, listener %+v\n", report, st)
	fmt.Printf("browser: %d passed, %d failed\n", len(checks)-failed, failed)
	if failed > 0 {
		os.Exit(1)
	}
}
