//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"io"
	"net"
	"testing"
	"time"
)

// unhijackedWithBytes returns a Conn whose client sent "abcd": the Conn read
// it all and gave "cd" back with Unhijack, and Accept handed it out again.
func unhijackedWithBytes(t *testing.T) (*Conn, net.Conn, *Listener) {
	t.Helper()
	c, client, ln := connPair(t)
	client.Write([]byte("abcd"))
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatal(err)
	}
	if err := Unhijack(c, buf[2:]); err != nil {
		t.Fatal(err)
	}
	if nc, err := ln.Accept(); err != nil || nc != net.Conn(c) {
		t.Fatalf("Accept after Unhijack: %v %v", nc, err)
	}
	return c, client, ln
}

// Bytes given back with Unhijack are the Conn's to read: OnReadable on a
// Conn that still holds some must run fn, though the socket stays empty
// (net/http reads at most its buffer's size of them; a handler that then
// hijacks again and waits would otherwise never see the rest).
func TestOnReadableGivenBackBytes(t *testing.T) {
	c, _, _ := unhijackedWithBytes(t)
	buf := make([]byte, 4)
	ran := onReadableChan(t, c)
	mustRun(t, ran, "bytes given back are there to read")
	if n, err := c.Read(buf); err != nil || string(buf[:n]) != "cd" {
		t.Fatalf("Read = %q, %v", buf[:n], err)
	}
}

// Bytes given back with Unhijack come first even once the socket is
// attached again (here by SyscallConn; a Write that blocks does the same).
func TestUnhijackGivenBackBytesAfterAttach(t *testing.T) {
	c, client, _ := unhijackedWithBytes(t)
	if _, err := c.SyscallConn(); err != nil { // attaches the socket for good
		t.Fatal(err)
	}
	client.Write([]byte("ef"))
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(io.LimitReader(c, 4))
	if err != nil || string(got) != "cdef" {
		t.Fatalf("read %q, %v; want \"cdef\"", got, err)
	}
}

// An Unhijack of a Conn that still holds bytes given back by an earlier one
// puts the new bytes before them: none is lost or reordered.
func TestUnhijackTwiceKeepsOrder(t *testing.T) {
	c, client, ln := unhijackedWithBytes(t) // "cd" given back
	buf := make([]byte, 1)
	if n, err := c.Read(buf); n != 1 || err != nil || buf[0] != 'c' {
		t.Fatalf("Read = %q, %v", buf[:n], err)
	}
	if err := Unhijack(c, buf); err != nil { // "c" again, "d" still held
		t.Fatal(err)
	}
	if _, err := ln.Accept(); err != nil {
		t.Fatal(err)
	}
	client.Write([]byte("e"))
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(io.LimitReader(c, 3))
	if err != nil || string(got) != "cde" {
		t.Fatalf("read %q, %v; want \"cde\"", got, err)
	}
}
