// Command gnetecho is a gnet v2 style echo server on pollnet's gnet/.
// Switching it to github.com/panjf2000/gnet/v2 takes only the import line.
package main

import (
	"flag"
	"log"

	"github.com/pollnet/pollnet/gnet"
)

type echoServer struct {
	gnet.BuiltinEventEngine
	addr      string
	multicore bool
}

func (es *echoServer) OnBoot(eng gnet.Engine) gnet.Action {
	log.Printf("echo server with multi-core=%t is listening on %s", es.multicore, es.addr)
	return gnet.None
}

func (es *echoServer) OnTraffic(c gnet.Conn) gnet.Action {
	buf, _ := c.Next(-1)
	c.Write(buf)
	return gnet.None
}

func main() {
	addr := flag.String("addr", "tcp://127.0.0.1:9000", "protocol://address to listen on")
	multicore := flag.Bool("multicore", true, "one event loop per CPU")
	flag.Parse()
	es := &echoServer{addr: *addr, multicore: *multicore}
	log.Fatal(gnet.Run(es, es.addr, gnet.WithMulticore(*multicore)))
}
