//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package gnet_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/pollnet/pollnet/gnet"
)

// echoServer is a gnet v2 style echo server: only the import differs.
type echoServer struct {
	gnet.BuiltinEventEngine
	ready chan gnet.Engine
}

func (es *echoServer) OnBoot(eng gnet.Engine) gnet.Action {
	es.ready <- eng
	return gnet.None
}

func (es *echoServer) OnTraffic(c gnet.Conn) gnet.Action {
	buf, _ := c.Next(-1)
	c.Write(buf)
	return gnet.None
}

func Example() {
	ln, _ := net.Listen("tcp", "127.0.0.1:0") // find a free port
	addr := ln.Addr().String()
	ln.Close()

	es := &echoServer{ready: make(chan gnet.Engine, 1)}
	done := make(chan error, 1)
	go func() { done <- gnet.Run(es, "tcp://"+addr, gnet.WithMulticore(true)) }()
	eng := <-es.ready

	c, _ := net.Dial("tcp", addr)
	c.Write([]byte("hello, gnet"))
	buf := make([]byte, 11)
	io.ReadFull(c, buf)
	fmt.Println(string(buf))
	c.Close()

	eng.Stop(context.Background())
	fmt.Println("Run returned:", <-done)
	// Output:
	// hello, gnet
	// Run returned: <nil>
}

// ExampleWithIOUring runs the echo server on io_uring where the kernel
// allows it (Linux 6.1+), else on the poller; the Engine says which, and
// why not io_uring.
func ExampleWithIOUring() {
	ln, _ := net.Listen("tcp", "127.0.0.1:0") // find a free port
	addr := ln.Addr().String()
	ln.Close()

	es := &echoServer{ready: make(chan gnet.Engine, 1)}
	done := make(chan error, 1)
	go func() { done <- gnet.Run(es, "tcp://"+addr, gnet.WithIOUring(true)) }()
	eng := <-es.ready
	if eng.Backend() != gnet.BackendIOUring {
		// eng.IOUringErr() wraps gnet.ErrIOUringUnavailable and the cause.
		_ = errors.Is(eng.IOUringErr(), gnet.ErrIOUringUnavailable)
	}

	c, _ := net.Dial("tcp", addr)
	c.Write([]byte("hello, ring"))
	buf := make([]byte, 11)
	io.ReadFull(c, buf)
	fmt.Println(string(buf))
	c.Close()

	eng.Stop(context.Background())
	fmt.Println("Run returned:", <-done)
	// Output:
	// hello, ring
	// Run returned: <nil>
}
