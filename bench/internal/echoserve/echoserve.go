// Package echoserve is the echo server the bench commands measure: the same
// handler (OnTraffic: Next(-1), Write) on gnet v2 and on pollnet's gnet/,
// for any protocol both engines serve.
package echoserve

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

type stream interface {
	Next(n int) ([]byte, error)
	Write(p []byte) (int, error)
}

func echo(c stream) {
	b, _ := c.Next(-1)
	c.Write(b)
}

type pnEcho struct {
	pn.BuiltinEventEngine
	booted func(backend string)
}

func (h *pnEcho) OnBoot(e pn.Engine) pn.Action { h.booted(string(e.Backend())); return pn.None }
func (*pnEcho) OnTraffic(c pn.Conn) pn.Action  { echo(c); return pn.None }

type v2Echo struct {
	v2.BuiltinEventEngine
	booted func(backend string)
}

func (h *v2Echo) OnBoot(v2.Engine) v2.Action  { h.booted("epoll"); return v2.None }
func (*v2Echo) OnTraffic(c v2.Conn) v2.Action { echo(c); return v2.None }

// Run serves echo on protoAddr ("tcp://...", "udp://...") with loops event
// loops until the process exits. engine is "gnetv2", "pollnet" (or
// "pollnet-epoll") or "pollnet-io_uring"; booted gets the backend the
// engine runs on once it accepts traffic.
func Run(engine, protoAddr string, loops int, booted func(backend string)) error {
	switch engine {
	case "gnetv2":
		return v2.Run(&v2Echo{booted: booted}, protoAddr, v2.WithNumEventLoop(loops), v2.WithLogLevel(v2logging.ErrorLevel))
	case "pollnet", "pollnet-epoll", "pollnet-io_uring":
		return pn.Run(&pnEcho{booted: booted}, protoAddr, pn.WithNumEventLoop(loops),
			pn.WithIOUring(engine == "pollnet-io_uring"), pn.WithLogLevel(pnlogging.ErrorLevel))
	}
	return fmt.Errorf("unknown engine %q", engine)
}

// Main is a bench command's `serve` mode: it runs the echo server of
// -engine with -loops event loops on -addr (by default a free loopback
// port) of network
// ("tcp" or "udp"), prints "LISTENING addr" once the engine has booted
// (and, for pollnet-io_uring, runs on io_uring), and exits when stdin
// closes (the parent is gone).
func Main(args []string, network string) {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	engine := fs.String("engine", "pollnet", "gnetv2, pollnet (pollnet-epoll) or pollnet-io_uring")
	loops := fs.Int("loops", 2, "event loops")
	listen := fs.String("addr", "127.0.0.1:0", "listen address (port 0: a free one)")
	fs.Parse(args)
	var addr string
	if network == "udp" {
		pc, err := net.ListenPacket("udp", *listen)
		if err != nil {
			log.Fatal(err)
		}
		addr = pc.LocalAddr().String()
		pc.Close()
	} else {
		ln, err := net.Listen("tcp", *listen)
		if err != nil {
			log.Fatal(err)
		}
		addr = ln.Addr().String()
		ln.Close()
	}
	go func() {
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	log.Fatal(Run(*engine, network+"://"+addr, *loops, func(backend string) {
		if *engine == "pollnet-io_uring" && backend != "io_uring" {
			log.Fatalf("asked for io_uring, running on %s", backend)
		}
		fmt.Println("LISTENING " + addr)
	}))
}
