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

// backendReport is a handler that only says what its engine runs on.
type backendReport struct{ gnet.BuiltinEventEngine }

func (*backendReport) OnBoot(eng gnet.Engine) gnet.Action {
	switch {
	case eng.Backend() == gnet.BackendIOUring:
		fmt.Println("known backend") // Linux 6.1+, io_uring allowed
	case errors.Is(eng.IOUringErr(), gnet.ErrIOUringUnavailable):
		fmt.Println("known backend") // the poller; IOUringErr says why
	}
	return gnet.Shutdown
}

// ExampleWithIOUring runs an engine on io_uring where the kernel allows it
// (Linux 6.1+), else on the poller; the Engine says which, and why not
// io_uring.
func ExampleWithIOUring() {
	err := gnet.Run(&backendReport{}, "tcp://127.0.0.1:0", gnet.WithIOUring(true))
	fmt.Println("Run returned:", err)
	// Output:
	// known backend
	// Run returned: <nil>
}
