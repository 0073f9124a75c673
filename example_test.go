package pollnet_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/pollnet/pollnet"
)

// get fetches url and returns its body.
func get(url string) string {
	resp, err := http.Get(url)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// The one-line change: a pollnet listener under any server that takes a
// net.Listener.
func ExampleListen() {
	ln, err := pollnet.Listen("tcp", "127.0.0.1:0") // was: net.Listen
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello")
	})}
	go srv.Serve(ln)
	defer srv.Close()

	fmt.Println(get("http://" + ln.Addr().String() + "/"))
	// Output: hello
}

// Serve is http.Serve with idle hibernation: an idle keep-alive connection
// parks after the grace period and wakes on its next request.
func ExampleServe() {
	lc := pollnet.ListenConfig{IdleGrace: 20 * time.Millisecond}
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	go pollnet.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello")
	}))

	pl := ln.(*pollnet.Listener)
	url := "http://" + ln.Addr().String() + "/"
	fmt.Println(get(url))
	for pl.Stats().Parked == 0 { // idle: the connection hibernates
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Println(get(url)) // same TCP connection, woken

	st := pl.Stats()
	fmt.Println("accepted:", st.Accepted, "wakes:", st.Wakes)
	// Output:
	// hello
	// hello
	// accepted: 1 wakes: 1
}

// Hibernate adds hibernation to your own *http.Server, keeping any
// ConnState hook you set.
func ExampleHibernate() {
	ln, err := pollnet.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{
		Handler:     http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }),
		IdleTimeout: time.Minute, // also closes parked connections idle for a minute
	}
	pollnet.Hibernate(srv)
	go srv.Serve(ln)
	defer srv.Shutdown(context.Background())

	fmt.Println(get("http://" + ln.Addr().String() + "/"))
	// Output: ok
}

// Dial returns a *pollnet.Conn, for clients and proxies.
func ExampleDial() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			io.WriteString(c, "welcome")
			c.Close()
		}
	}()

	c, err := pollnet.Dial("tcp", ln.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	b, _ := io.ReadAll(c)
	fmt.Println(string(b))
	// Output: welcome
}
