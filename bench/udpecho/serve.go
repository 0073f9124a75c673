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

// serveMain runs one engine's echo server on a free loopback port, prints
// "LISTENING addr" and exits when stdin closes (the parent is gone).
func serveMain(args []string) {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	engine := fs.String("engine", "pollnet", "pollnet or gnetv2")
	loops := fs.Int("loops", 2, "event loops")
	fs.Parse(args)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0") // pick a free port
	if err != nil {
		log.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	go func() {
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	log.Fatal(echoserve.Run(*engine, "udp://"+addr, *loops, func(string) { fmt.Println("LISTENING " + addr) }))
}
