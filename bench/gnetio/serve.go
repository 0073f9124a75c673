package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"

	"github.com/pollnet/pollnet/bench/internal/echoserve"
)

// serveMain runs one engine's TCP echo server with two loops on -addr's
// host and a free port, prints "LISTENING addr" and exits when stdin closes.
func serveMain(args []string) {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	engine := fs.String("engine", "pollnet-epoll", "gnetv2, pollnet-epoll or pollnet-io_uring")
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	fs.Parse(args)
	ln, err := net.Listen("tcp", *addr) // pick a free port
	if err != nil {
		log.Fatal(err)
	}
	a := ln.Addr().String()
	ln.Close()
	go func() {
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	log.Fatal(echoserve.Run(*engine, "tcp://"+a, 2, func(backend string) {
		if *engine == "pollnet-io_uring" && backend != "io_uring" {
			log.Fatalf("asked for io_uring, running on %s", backend)
		}
		fmt.Println("LISTENING " + a)
	}))
}
