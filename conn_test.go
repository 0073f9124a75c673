//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// acceptedPair returns a pollnet conn accepted by a pollnet listener and the
// std client conn connected to it.
func acceptedPair(t *testing.T, network string) (*Conn, net.Conn) {
	t.Helper()
	addr := "127.0.0.1:0"
	if network == "unix" {
		addr = filepath.Join(t.TempDir(), "s")
	}
	ln, err := Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	client, err := net.Dial(network, ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	sc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sc.Close() })
	return sc.(*Conn), client
}

func TestConnAddresses(t *testing.T) {
	sc, client := acceptedPair(t, "tcp")
	if sc.LocalAddr().String() != client.RemoteAddr().String() || sc.RemoteAddr().String() != client.LocalAddr().String() {
		t.Fatalf("addresses: server %v <- %v, client %v -> %v", sc.LocalAddr(), sc.RemoteAddr(), client.LocalAddr(), client.RemoteAddr())
	}
	if _, ok := sc.RemoteAddr().(*net.TCPAddr); !ok {
		t.Fatalf("RemoteAddr is %T, want *net.TCPAddr", sc.RemoteAddr())
	}
}

func TestConnTimeoutError(t *testing.T) {
	sc, _ := acceptedPair(t, "tcp")
	sc.SetReadDeadline(time.Now().Add(-time.Second))
	_, err := sc.Read(make([]byte, 10))
	var ne net.Error
	var oe *net.OpError
	if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &oe) || oe.Op != "read" {
		t.Fatalf("read after past deadline: %#v, want a *net.OpError timeout wrapping os.ErrDeadlineExceeded", err)
	}
}

func TestConnClosedErrors(t *testing.T) {
	sc, _ := acceptedPair(t, "tcp")
	blocked := make(chan error)
	go func() {
		_, err := sc.Read(make([]byte, 10))
		blocked <- err
	}()
	time.Sleep(20 * time.Millisecond) // let the Read block (the test holds either way)
	if err := sc.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-blocked; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("pending Read after Close: %v, want net.ErrClosed", err)
	}
	for name, call := range map[string]func() error{
		"Read":             func() error { _, err := sc.Read(make([]byte, 1)); return err },
		"Write":            func() error { _, err := sc.Write([]byte("x")); return err },
		"Close":            sc.Close,
		"SetDeadline":      func() error { return sc.SetDeadline(time.Now()) },
		"SetReadDeadline":  func() error { return sc.SetReadDeadline(time.Now()) },
		"SetWriteDeadline": func() error { return sc.SetWriteDeadline(time.Now()) },
		"CloseWrite":       sc.CloseWrite,
		"SetNoDelay":       func() error { return sc.SetNoDelay(true) },
		"ReadFrom":         func() error { _, err := sc.ReadFrom(bytes.NewReader([]byte("x"))); return err },
	} {
		if err := call(); !errors.Is(err, net.ErrClosed) {
			t.Errorf("%s after Close: %v, want net.ErrClosed", name, err)
		}
	}
}

func TestConnCloseWriteHalfClose(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			sc, client := acceptedPair(t, network)
			if _, err := sc.Write([]byte("bye")); err != nil {
				t.Fatal(err)
			}
			if err := sc.CloseWrite(); err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(client)
			if err != nil || string(got) != "bye" {
				t.Fatalf("client read %q, %v", got, err)
			}
			// The read side still works after CloseWrite.
			client.Write([]byte("late"))
			buf := make([]byte, 4)
			if _, err := io.ReadFull(sc, buf); err != nil || string(buf) != "late" {
				t.Fatalf("server read %q, %v after CloseWrite", buf, err)
			}
		})
	}
}

func TestConnSocketOptions(t *testing.T) {
	sc, _ := acceptedPair(t, "tcp")
	for name, err := range map[string]error{
		"SetNoDelay":         sc.SetNoDelay(false),
		"SetKeepAlive":       sc.SetKeepAlive(true),
		"SetKeepAlivePeriod": sc.SetKeepAlivePeriod(30 * time.Second),
		"SetKeepAliveConfig": sc.SetKeepAliveConfig(net.KeepAliveConfig{Enable: true, Idle: time.Minute, Interval: 10 * time.Second, Count: 3}),
		"SetLinger":          sc.SetLinger(5),
		"SetReadBuffer":      sc.SetReadBuffer(64 << 10),
		"SetWriteBuffer":     sc.SetWriteBuffer(64 << 10),
	} {
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	if err := rc.Control(func(fd uintptr) {}); err != nil {
		t.Fatal(err)
	}
}

// TestConnReadFromFile checks the sendfile path, whole and ranged.
func TestConnReadFromFile(t *testing.T) {
	data := make([]byte, 3<<20+17)
	rand.Read(data)
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		off, limit int64 // limit < 0: whole rest of file, no LimitedReader
	}{{"whole", 0, -1}, {"range", 1000, 1 << 20}, {"tail", int64(len(data)) - 10, 100}} {
		t.Run(tc.name, func(t *testing.T) {
			sc, client := acceptedPair(t, "tcp")
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			f.Seek(tc.off, io.SeekStart)
			want := data[tc.off:]
			var src io.Reader = f
			if tc.limit >= 0 {
				src = &io.LimitedReader{R: f, N: tc.limit}
				want = want[:min(int64(len(want)), tc.limit)]
			}
			got := make(chan []byte)
			go func() { b, _ := io.ReadAll(client); got <- b }()
			n, err := sc.ReadFrom(src)
			if err != nil || n != int64(len(want)) {
				t.Fatalf("ReadFrom = %d, %v; want %d", n, err, len(want))
			}
			sc.CloseWrite()
			if b := <-got; !bytes.Equal(b, want) {
				t.Fatalf("client got %d bytes, want %d (content differs: %v)", len(b), len(want), len(b) == len(want))
			}
			if lr, ok := src.(*io.LimitedReader); ok && lr.N != tc.limit-int64(len(want)) {
				t.Fatalf("LimitedReader.N = %d after copy", lr.N)
			}
		})
	}
}

// TestConnReadFromWriteDeadline: a peer that never reads stops sendfile at
// the write deadline with a timeout error.
func TestConnReadFromWriteDeadline(t *testing.T) {
	sc, _ := acceptedPair(t, "tcp")
	path := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(path, make([]byte, 64<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(path)
	defer f.Close()
	sc.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	n, err := sc.ReadFrom(f)
	if !errors.Is(err, os.ErrDeadlineExceeded) || n >= 64<<20 {
		t.Fatalf("ReadFrom to a non-reading peer: %d, %v; want a deadline error", n, err)
	}
}

func TestDialContext(t *testing.T) {
	ln := listenTest(t, ListenConfig{})
	go serveEcho(ln)
	c, err := Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, ok := c.(*Conn); !ok {
		t.Fatalf("Dial returned %T", c)
	}
	c.Write([]byte("ping"))
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("echo %q, %v", buf, err)
	}
	if c.LocalAddr().String() == "" || c.RemoteAddr().String() != ln.Addr().String() {
		t.Fatalf("addresses %v -> %v", c.LocalAddr(), c.RemoteAddr())
	}

	// A refused connection is an *net.OpError with Op "dial".
	l2, _ := net.Listen("tcp", "127.0.0.1:0")
	refused := l2.Addr().String()
	l2.Close()
	_, err = Dial("tcp", refused)
	var oe *net.OpError
	if !errors.As(err, &oe) || oe.Op != "dial" {
		t.Fatalf("dial to closed port: %v", err)
	}

	// An already cancelled context fails at once.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var d Dialer
	if _, err := d.DialContext(ctx, "tcp", ln.Addr().String()); !errors.Is(err, context.Canceled) {
		t.Fatalf("dial with cancelled context: %v", err)
	}
	if _, err := d.DialContext(context.Background(), "udp", ln.Addr().String()); err == nil {
		t.Fatal("dial udp: want an unsupported-network error")
	}
}
