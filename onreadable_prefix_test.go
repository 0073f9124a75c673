//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"io"
	"net"
	"testing"
)

// Bytes given back with Unhijack are the Conn's to read: OnReadable on a
// Conn that still holds some must run fn, though the socket stays empty
// (net/http reads at most its buffer's size of them; a handler that then
// hijacks again and waits would otherwise never see the rest).
func TestOnReadableGivenBackBytes(t *testing.T) {
	c, client, ln := connPair(t)
	client.Write([]byte("abcd"))
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatal(err)
	}
	if err := Unhijack(c, buf[2:]); err != nil {
		t.Fatal(err)
	}
	nc, err := ln.Accept()
	if err != nil || nc != net.Conn(c) {
		t.Fatalf("Accept after Unhijack: %v %v", nc, err)
	}
	ran := onReadableChan(t, c)
	mustRun(t, ran, "bytes given back are there to read")
	if n, err := c.Read(buf); err != nil || string(buf[:n]) != "cd" {
		t.Fatalf("Read = %q, %v", buf[:n], err)
	}
}
