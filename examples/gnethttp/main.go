//go:build unix

// Command gnetv2http is connbench's gnet peer: a raw HTTP/1.1 keep-alive
// responder on gnet v2 (github.com/panjf2000/gnet/v2), no net/http. It answers
// every request with the same "Hello, World!" response as the other servers
// (Date, Content-Type and Content-Length headers). It assumes requests without
// a body, which is what connbench sends. It speaks connbench's server protocol
// (github.com/pollnet/pollnet/cmd/connbench/serverproto).
//
// Its twin on pollnet's gnet/ is examples/gnethttp in the root module: the same
// program with the gnet import switched.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pollnet/pollnet/cmd/connbench/serverproto"
	"github.com/pollnet/pollnet/gnet"
	"github.com/pollnet/pollnet/gnet/pkg/logging"
)

type server struct {
	gnet.BuiltinEventEngine
	eng      gnet.Engine
	booted   chan struct{}
	response atomic.Pointer[[]byte] // rebuilt every second for its Date header
}

func (s *server) OnBoot(eng gnet.Engine) gnet.Action {
	s.eng = eng
	close(s.booted)
	return gnet.None
}

// OnTraffic answers every complete request in the inbound buffer.
func (s *server) OnTraffic(c gnet.Conn) gnet.Action {
	buf, _ := c.Peek(-1)
	resp := *s.response.Load()
	consumed, n := 0, 0
	for {
		end := bytes.Index(buf[consumed:], []byte("\r\n\r\n"))
		if end < 0 {
			break
		}
		consumed += end + 4
		n++
	}
	if n == 0 {
		if len(buf) > 64*1024 {
			return gnet.Close // no request line ends: not HTTP
		}
		return gnet.None
	}
	_, _ = c.Discard(consumed)
	if n == 1 {
		_, _ = c.Write(resp)
	} else {
		_, _ = c.Write(bytes.Repeat(resp, n))
	}
	return gnet.None
}

func buildResponse(now time.Time) *[]byte {
	b := []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nDate: " +
		now.UTC().Format(time.RFC1123[:len(time.RFC1123)-3]+"GMT") +
		"\r\nContent-Length: " + strconv.Itoa(len(serverproto.Body)) + "\r\n\r\n" + serverproto.Body)
	return &b
}

// boundAddr returns the address of the engine's listening socket.
func boundAddr(eng gnet.Engine) (net.Addr, error) {
	fd, err := eng.Dup()
	if err != nil {
		return nil, err
	}
	defer syscall.Close(fd)
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		return nil, err
	}
	switch sa := sa.(type) {
	case *syscall.SockaddrInet4:
		return &net.TCPAddr{IP: net.IP(sa.Addr[:]), Port: sa.Port}, nil
	case *syscall.SockaddrInet6:
		return &net.TCPAddr{IP: net.IP(sa.Addr[:]), Port: sa.Port}, nil
	}
	return nil, fmt.Errorf("unexpected socket address %T", sa)
}

func main() {
	var pf serverproto.Flags
	pf.Register(flag.CommandLine)
	flag.Parse()

	s := &server{booted: make(chan struct{})}
	s.response.Store(buildResponse(time.Now()))
	go func() {
		for now := range time.Tick(time.Second) {
			s.response.Store(buildResponse(now))
		}
	}()
	errc := make(chan error, 1)
	go func() {
		errc <- gnet.Run(s, "tcp://"+pf.Addr, backendOption(),
			gnet.WithMulticore(true), gnet.WithNumEventLoop(runtime.GOMAXPROCS(0)),
			gnet.WithTCPNoDelay(gnet.TCPNoDelay), gnet.WithLogLevel(logging.ErrorLevel))
	}()
	select {
	case <-s.booted:
	case err := <-errc:
		fmt.Fprintf(os.Stderr, "gnetv2http: %v\n", err)
		os.Exit(1)
	}
	checkBackend(s.eng)
	addr, err := boundAddr(s.eng)
	if err != nil {
		fmt.Fprintf(os.Stderr, "gnetv2http: %v\n", err)
		os.Exit(1)
	}
	stats := func() map[string]int64 { return map[string]int64{"open": int64(s.eng.CountConnections())} }
	serverproto.Supervise(pf.Max, stats, func() { _ = s.eng.Stop(context.Background()) })
	serverproto.Ready(addr)
	err = <-errc
	fmt.Fprintf(os.Stderr, "gnetv2http: %v\n", err)
	os.Exit(1)
}
