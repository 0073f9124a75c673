package pollnet_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/pollnet/pollnet"
	"github.com/pollnet/pollnet/internal/testcert"
)

// exampleCert writes a self-signed certificate for 127.0.0.1 and its key to
// dir, and returns their file names and a client that trusts it (HTTP/2
// when h2, else HTTP/1.1).
func exampleCert(dir string, h2 bool) (certFile, keyFile string, client *http.Client) {
	cert, pool, err := testcert.Loopback()
	if err != nil {
		log.Fatal(err)
	}
	certFile, keyFile, err = testcert.WritePEM(dir, cert)
	if err != nil {
		log.Fatal(err)
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: h2}
	return certFile, keyFile, &http.Client{Transport: tr}
}

// getWith fetches url with client and returns the protocol and body.
func getWith(client *http.Client, url string) string {
	resp, err := client.Get(url)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.Proto + " " + string(b)
}

// ServeTLS is http.ServeTLS with idle hibernation: an idle HTTPS/1.1
// keep-alive connection parks, keeping its TLS session, and wakes on its
// next request. HTTP/2 is served as by std.
func ExampleServeTLS() {
	dir, _ := os.MkdirTemp("", "pollnet-example")
	defer os.RemoveAll(dir)
	certFile, keyFile, client := exampleCert(dir, false)

	lc := pollnet.ListenConfig{IdleGrace: 20 * time.Millisecond}
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	go pollnet.ServeTLS(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello over %s", tls.VersionName(r.TLS.Version))
	}), certFile, keyFile)

	url := "https://" + ln.Addr().String() + "/"
	fmt.Println(getWith(client, url))
	pl := ln.(*pollnet.Listener)
	for pl.Stats().Parked == 0 { // idle: the connection hibernates
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Println(getWith(client, url)) // same TCP connection and TLS session, woken

	st := pl.Stats()
	fmt.Println("accepted:", st.Accepted, "wakes:", st.Wakes)
	// Output:
	// HTTP/1.1 hello over TLS 1.3
	// HTTP/1.1 hello over TLS 1.3
	// accepted: 1 wakes: 1
}

// ServeServerTLS replaces srv.ServeTLS(ln, certFile, keyFile) for your own
// *http.Server: its TLSConfig, timeouts and hooks work as with std (the
// hooks see the *tls.Conn).
func ExampleServeServerTLS() {
	dir, _ := os.MkdirTemp("", "pollnet-example")
	defer os.RemoveAll(dir)
	certFile, keyFile, client := exampleCert(dir, true)

	ln, err := pollnet.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }),
		TLSConfig:         &tls.Config{MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 10 * time.Second, // also bounds the TLS handshake
		IdleTimeout:       time.Minute,      // also closes parked connections idle for a minute
		ConnState: func(c net.Conn, s http.ConnState) {
			if s == http.StateNew {
				_, isTLS := c.(*tls.Conn)
				fmt.Println("new connection, *tls.Conn:", isTLS)
			}
		},
	}
	go pollnet.ServeServerTLS(srv, ln, certFile, keyFile) // was: srv.ServeTLS(ln, certFile, keyFile)
	defer srv.Shutdown(context.Background())

	fmt.Println(getWith(client, "https://"+ln.Addr().String()+"/"))
	// Output:
	// new connection, *tls.Conn: true
	// HTTP/2.0 ok
}
