// Command prof serves the HTTP responder on gnet/ and writes a CPU profile
// (for looking at the hot path under wrk). Not part of the build: testdata.
package main

import (
	"bytes"
	"flag"
	"log"
	"os"
	"runtime/pprof"
	"time"

	"github.com/pollnet/pollnet/gnet"
)

var resp = []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 13\r\n\r\nHello, World!")

type s struct{ gnet.BuiltinEventEngine }

func (*s) OnTraffic(c gnet.Conn) gnet.Action {
	buf, _ := c.Peek(-1)
	used := 0
	for {
		i := bytes.Index(buf[used:], []byte("\r\n\r\n"))
		if i < 0 {
			break
		}
		used += i + 4
		c.Write(resp)
	}
	c.Discard(used)
	return gnet.None
}

func main() {
	addr := flag.String("addr", "127.0.0.1:18099", "")
	out := flag.String("o", "/tmp/gnet.prof", "")
	d := flag.Duration("d", 6*time.Second, "")
	flag.Parse()
	f, _ := os.Create(*out)
	pprof.StartCPUProfile(f)
	go func() {
		time.Sleep(*d)
		pprof.StopCPUProfile()
		f.Close()
		os.Exit(0)
	}()
	log.Fatal(gnet.Run(&s{}, "tcp://"+*addr, gnet.WithMulticore(true), gnet.WithNumEventLoop(2)))
}
