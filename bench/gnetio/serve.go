package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"

	v2 "github.com/panjf2000/gnet/v2"
	v2logging "github.com/panjf2000/gnet/v2/pkg/logging"

	pn "github.com/pollnet/pollnet/gnet"
	pnlogging "github.com/pollnet/pollnet/gnet/pkg/logging"
)

// The same echo handler on every engine.

type stream interface {
	Next(n int) ([]byte, error)
	Write(p []byte) (int, error)
}

func echo(c stream) {
	b, _ := c.Next(-1)
	c.Write(b)
}

var listening string // printed once the engine has booted

type pnEcho struct{ pn.BuiltinEventEngine }

func (*pnEcho) OnBoot(e pn.Engine) pn.Action {
	fmt.Fprintf(os.Stderr, "gnetio serve: backend %s\n", e.Backend())
	fmt.Println(listening)
	return pn.None
}
func (*pnEcho) OnTraffic(c pn.Conn) pn.Action { echo(c); return pn.None }

type v2Echo struct{ v2.BuiltinEventEngine }

func (*v2Echo) OnBoot(v2.Engine) v2.Action    { fmt.Println(listening); return v2.None }
func (*v2Echo) OnTraffic(c v2.Conn) v2.Action { echo(c); return v2.None }

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
	listening = "LISTENING " + a
	switch *engine {
	case "gnetv2":
		err = v2.Run(&v2Echo{}, "tcp://"+a, v2.WithNumEventLoop(2), v2.WithLogLevel(v2logging.ErrorLevel))
	case "pollnet-epoll", "pollnet-io_uring":
		u := *engine == "pollnet-io_uring"
		err = pn.Run(&pnEcho{}, "tcp://"+a, pn.WithNumEventLoop(2), pn.WithIOUring(u), pn.WithLogLevel(pnlogging.ErrorLevel))
	default:
		log.Fatalf("unknown engine %q", *engine)
	}
	log.Fatal(err)
}
