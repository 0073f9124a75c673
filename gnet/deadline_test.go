//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package gnet

import (
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// closeErrs reports every OnClose error.
type closeErrs struct {
	echo
	errs   chan error
	onOpen func(Conn)
}

func (h *closeErrs) OnOpen(c Conn) ([]byte, Action) {
	if h.onOpen != nil {
		h.onOpen(c)
	}
	return h.echo.OnOpen(c)
}
func (h *closeErrs) OnClose(c Conn, err error) Action {
	h.echo.OnClose(c, err)
	h.errs <- err
	return None
}

func expectDeadline(t *testing.T, h *closeErrs, nc net.Conn) error {
	t.Helper()
	err := recvErr(t, h.errs, "the connection to close")
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("OnClose error %v does not wrap os.ErrDeadlineExceeded", err)
	}
	nc.SetReadDeadline(time.Now().Add(long))
	if _, rerr := io.ReadAll(nc); rerr != nil {
		t.Fatalf("client saw %v, want a clean close", rerr)
	}
	return err
}

func TestReadDeadline(t *testing.T) {
	h := &closeErrs{errs: make(chan error, 4), onOpen: func(c Conn) {
		c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	}}
	s := startServer(t, h, "tcp")
	nc := s.dial()
	defer nc.Close()
	err := expectDeadline(t, h, nc)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("%v is not a net.Error with Timeout", err)
	}
}

// TestDeadlineFromOtherGoroutine sets a deadline in the past from outside
// the loop.
func TestDeadlineFromOtherGoroutine(t *testing.T) {
	p := &pusher{conns: make(chan Conn, 1), closeErrs: make(chan error, 1)}
	s := startServer(t, p, "tcp")
	nc := s.dial()
	defer nc.Close()
	c := <-p.conns
	if err := c.SetDeadline(time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := recvErr(t, p.closeErrs, "the close"); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("OnClose: %v", err)
	}
	// Clearing a deadline keeps the connection alive: a fresh one.
	nc2 := s.dial()
	defer nc2.Close()
	c2 := <-p.conns
	c2.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	c2.SetReadDeadline(time.Time{})
	nc2.Write([]byte("ping"))
	c2.Wake(nil)
	readFull(t, nc2, 1) // the Wake reply: still open
}

func TestIdleTimeout(t *testing.T) {
	h := &closeErrs{errs: make(chan error, 4)}
	s := startServer(t, h, "tcp", WithIdleTimeout(100*time.Millisecond))
	nc := s.dial()
	defer nc.Close()
	nc.Write([]byte("hi"))
	readFull(t, nc, 2)
	if err := expectDeadline(t, h, nc); !errors.Is(err, ErrIdleTimeout) {
		t.Fatalf("got %v, want ErrIdleTimeout", err)
	}
}

// TestWriteDeadline: a peer that never reads makes a passed write deadline
// close the connection.
func TestWriteDeadline(t *testing.T) {
	h := &closeErrs{errs: make(chan error, 4), onOpen: func(c Conn) {
		c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
		c.Write(make([]byte, 32<<20)) // far more than the socket buffers hold
	}}
	s := startServer(t, h, "tcp")
	nc := s.dial()
	defer nc.Close()
	if err := recvErr(t, h.errs, "the close"); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("OnClose: %v", err)
	}
}
