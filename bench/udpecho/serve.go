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

// The same echo handler on both engines.

type datagram interface {
	Next(n int) ([]byte, error)
	Write(p []byte) (int, error)
}

func echo(c datagram) {
	b, _ := c.Next(-1)
	c.Write(b)
}

// listening is printed once the engine has booted.
var listening string

type pnEcho struct{ pn.BuiltinEventEngine }

func (*pnEcho) OnBoot(pn.Engine) pn.Action    { fmt.Println(listening); return pn.None }
func (*pnEcho) OnTraffic(c pn.Conn) pn.Action { echo(c); return pn.None }

type v2Echo struct{ v2.BuiltinEventEngine }

func (*v2Echo) OnBoot(v2.Engine) v2.Action    { fmt.Println(listening); return v2.None }
func (*v2Echo) OnTraffic(c v2.Conn) v2.Action { echo(c); return v2.None }

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
	proto := "udp://" + addr
	go func() {
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	listening = "LISTENING " + addr
	switch *engine {
	case "pollnet":
		err = pn.Run(&pnEcho{}, proto, pn.WithNumEventLoop(*loops), pn.WithLogLevel(pnlogging.ErrorLevel))
	case "gnetv2":
		err = v2.Run(&v2Echo{}, proto, v2.WithNumEventLoop(*loops), v2.WithLogLevel(v2logging.ErrorLevel))
	default:
		log.Fatalf("unknown engine %q", *engine)
	}
	log.Fatal(err)
}
