//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet_test

import (
	"bufio"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"

	"github.com/pollnet/pollnet"
)

// OnReadable waits for a connection's next message without a goroutine:
// fn runs once the peer has sent something (or gone, or the read deadline
// passed), and calls OnReadable again to keep waiting.
func ExampleOnReadable() {
	ln, err := pollnet.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	c, err := ln.Accept()
	if err != nil {
		log.Fatal(err)
	}

	done := make(chan struct{})
	var onMessage func()
	onMessage = func() {
		buf := make([]byte, 64)
		n, err := c.Read(buf)
		if err != nil { // io.EOF: the peer closed
			fmt.Println("peer gone:", err == io.EOF)
			c.Close()
			close(done)
			return
		}
		fmt.Printf("got %q\n", buf[:n])
		c.Write([]byte("ok\n"))          // writes work while waiting, too
		pollnet.OnReadable(c, onMessage) // wait for the next one, no goroutine
	}
	pollnet.OnReadable(c, onMessage)

	replies := bufio.NewReader(client)
	for _, msg := range []string{"hello", "again"} {
		io.WriteString(client, msg)
		replies.ReadString('\n')
	}
	client.Close()
	<-done
	// Output:
	// got "hello"
	// got "again"
	// peer gone: true
}

// Unhijack answers a long-poll from an event and gives the connection back
// to the server: the client's next request is served on the same TCP
// connection, as on any keep-alive connection.
func ExampleUnhijack() {
	ln, err := pollnet.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	events := make(chan string, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("/poll", func(w http.ResponseWriter, r *http.Request) {
		c, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		// An event answers the poll from another goroutine. (A real
		// long-poll also waits in OnReadable, with the poll's timeout as
		// its read deadline, to learn at once that the client left:
		// examples/longlived/longpoll.)
		go func() {
			msg := <-events
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(msg), msg)
			buffered, _ := rw.Reader.Peek(rw.Reader.Buffered())
			if err := pollnet.Unhijack(c, buffered); err != nil {
				c.Close()
			}
		}()
	})
	mux.HandleFunc("/next", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "served on the same connection")
	})
	go pollnet.Serve(ln, mux)

	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	get := func(path string) string {
		fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: example\r\n\r\n", path)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			log.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	events <- "the event"
	fmt.Println(get("/poll"))
	fmt.Println(get("/next"))
	fmt.Println("connections accepted:", ln.(*pollnet.Listener).Stats().Accepted)
	// Output:
	// the event
	// served on the same connection
	// connections accepted: 1
}
