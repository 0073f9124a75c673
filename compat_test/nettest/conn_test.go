// Package nettest runs golang.org/x/net/nettest.TestConn against pollnet
// connections in each role.
package nettest

import (
	"net"
	"testing"

	"github.com/pollnet/pollnet"
	"golang.org/x/net/nettest"
)

// pipe returns a connected pair: the first end from dial, the second
// accepted by ln.
func pipe(ln net.Listener, dial func(network, addr string) (net.Conn, error)) (c1, c2 net.Conn, stop func(), err error) {
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() { c, err := ln.Accept(); ch <- res{c, err} }()
	c1, err = dial(ln.Addr().Network(), ln.Addr().String())
	if err != nil {
		ln.Close()
		return nil, nil, nil, err
	}
	r := <-ch
	if r.err != nil {
		c1.Close()
		ln.Close()
		return nil, nil, nil, r.err
	}
	stop = func() { c1.Close(); r.c.Close(); ln.Close() }
	return c1, r.c, stop, nil
}

func pollnetListen(t *testing.T, network, addr string) net.Listener {
	ln, err := pollnet.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// TestConnAcceptedByPollnet: the accepted end is a pollnet conn, the dialing
// end a std one.
func TestConnAcceptedByPollnet(t *testing.T) {
	nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
		a, b, stop, err := pipe(pollnetListen(t, "tcp", "127.0.0.1:0"), net.Dial)
		return b, a, stop, err
	})
}

// TestConnDialedByPollnet: both ends are pollnet conns.
func TestConnDialedByPollnet(t *testing.T) {
	nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
		return pipe(pollnetListen(t, "tcp", "127.0.0.1:0"), pollnet.Dial)
	})
}

// TestConnUnix: pollnet conns over a unix socket.
func TestConnUnix(t *testing.T) {
	nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
		path := t.TempDir() + "/s"
		return pipe(pollnetListen(t, "unix", path), pollnet.Dial)
	})
}
