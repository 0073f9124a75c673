//go:build linux

package uring

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The tests run on the real kernel: io_uring must work here (it does on the
// project's machines; a kernel without it fails them, loudly).

func newRing(t *testing.T, flags uint32) *Ring {
	t.Helper()
	r, err := New(Config{Entries: 64, CQEntries: 256, Flags: flags})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// reap waits (bounded) until want completions arrived and returns them.
func reap(t *testing.T, r *Ring, want int) []CQE {
	t.Helper()
	var got []CQE
	buf := make([]CQE, 64)
	deadline := time.Now().Add(10 * time.Second)
	for len(got) < want {
		if time.Now().After(deadline) {
			t.Fatalf("got %d completions, want %d: %+v", len(got), want, got)
		}
		if err := r.SubmitAndWait(100 * time.Millisecond); err != nil {
			t.Fatal(err)
		}
		n := r.Reap(buf)
		got = append(got, buf[:n]...)
	}
	return got
}

// quiet checks that no completion arrives within a short wait.
func quiet(t *testing.T, r *Ring) {
	t.Helper()
	if err := r.SubmitAndWait(50 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	var buf [8]CQE
	if n := r.Reap(buf[:]); n > 0 {
		t.Fatalf("unexpected completions: %+v", buf[:n])
	}
}

func socketPair(t *testing.T) (int, int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fds[0]); unix.Close(fds[1]) })
	return fds[0], fds[1]
}

func TestNop(t *testing.T) {
	r := newRing(t, 0)
	for i := range 3 {
		r.GetSQE().PrepNop(uint64(100 + i))
	}
	got := reap(t, r, 3)
	for i, c := range got {
		if c.UserData != uint64(100+i) || c.Res != 0 {
			t.Fatalf("completion %d: %+v", i, c)
		}
	}
}

func TestSQFull(t *testing.T) {
	r := newRing(t, 0)
	n := 0
	for r.GetSQE() != nil {
		n++
	}
	if n != 64 {
		t.Fatalf("handed out %d SQEs, want 64", n)
	}
	if err := r.Submit(); err != nil {
		t.Fatal(err)
	}
	if r.GetSQE() == nil {
		t.Fatal("no SQE free after Submit")
	}
}

// TestRecvMultishot: one armed receive delivers every message into
// provided buffers, in order, until it is cancelled; after its last
// completion (no CQEFMore) nothing more arrives however much is sent.
func TestRecvMultishot(t *testing.T) {
	for _, inc := range []bool{false, true} {
		t.Run(map[bool]string{false: "whole", true: "incremental"}[inc], func(t *testing.T) {
			r := newRing(t, 0)
			br, err := r.NewBufRing(1, 8, 4096, inc)
			if err != nil {
				t.Fatal(err)
			}
			defer br.Close()
			a, b := socketPair(t)
			r.GetSQE().PrepRecvMultishot(a, br.Group(), 7)
			var want, got bytes.Buffer
			partial := 0
			for i := range 20 {
				msg := bytes.Repeat([]byte{byte('a' + i)}, 100+i)
				want.Write(msg)
				if _, err := unix.Write(b, msg); err != nil {
					t.Fatal(err)
				}
				for got.Len() < want.Len() {
					for _, c := range reap(t, r, 1) {
						if c.UserData != 7 || c.Flags&CQEFMore == 0 || c.Flags&CQEFBuffer == 0 {
							t.Fatalf("completion %+v", c)
						}
						data, bid, out := br.Consume(&c)
						got.Write(data)
						if out {
							br.Recycle(bid)
						} else {
							partial++
						}
					}
					br.Publish()
				}
			}
			if !bytes.Equal(got.Bytes(), want.Bytes()) {
				t.Fatal("received data differs from sent")
			}
			if br.Incremental() && partial == 0 {
				t.Fatal("incremental ring: no completion left its buffer in the ring")
			}
			r.GetSQE().PrepCancel(7, 0, 8)
			var sawCancel, sawLast bool
			for !sawCancel || !sawLast {
				for _, c := range reap(t, r, 1) {
					switch {
					case c.UserData == 8:
						sawCancel = true
					case c.UserData == 7 && c.Flags&CQEFMore == 0 && c.Res == -int32(unix.ECANCELED):
						sawLast = true
					default:
						t.Fatalf("completion %+v", c)
					}
				}
			}
			unix.Write(b, []byte("after the cancel"))
			quiet(t, r)
		})
	}
}

// TestRecvEndOfStream: the peer's close ends the multishot receive with a
// zero-byte last completion.
func TestRecvEndOfStream(t *testing.T) {
	r := newRing(t, 0)
	br, err := r.NewBufRing(1, 4, 4096, true)
	if err != nil {
		t.Fatal(err)
	}
	defer br.Close()
	a, b := socketPair(t)
	r.GetSQE().PrepRecvMultishot(a, br.Group(), 1)
	unix.Shutdown(b, unix.SHUT_WR)
	c := reap(t, r, 1)[0]
	if c.Res != 0 || c.Flags&CQEFMore != 0 {
		t.Fatalf("end of stream: %+v", c)
	}
	if c.Flags&CQEFBuffer != 0 {
		if _, bid, out := br.Consume(&c); out {
			br.Recycle(bid)
		}
	}
}

// TestBufRingExhausted: with every buffer out, the receive ends with
// ENOBUFS and no data is lost: re-armed after a Recycle, it picks up where
// it stopped.
func TestBufRingExhausted(t *testing.T) {
	r := newRing(t, 0)
	br, err := r.NewBufRing(1, 2, 64, false)
	if err != nil {
		t.Fatal(err)
	}
	defer br.Close()
	a, b := socketPair(t)
	msg := bytes.Repeat([]byte("0123456789abcdef"), 16) // 256 bytes: 4 buffers' worth
	unix.Write(b, msg)
	r.GetSQE().PrepRecvMultishot(a, br.Group(), 1)
	var got []byte
	var held []uint16
	for len(got) < len(msg) {
		for _, c := range reap(t, r, 1) {
			if c.Res == -int32(unix.ENOBUFS) {
				if c.Flags&CQEFMore != 0 {
					t.Fatal("ENOBUFS with CQEFMore")
				}
				for _, bid := range held {
					br.Recycle(bid)
				}
				held = held[:0]
				br.Publish()
				r.GetSQE().PrepRecvMultishot(a, br.Group(), 1)
				continue
			}
			data, bid, out := br.Consume(&c)
			got = append(got, data...)
			if out {
				held = append(held, bid)
			}
		}
	}
	if !bytes.Equal(got, msg) {
		t.Fatalf("got %q", got)
	}
}

func TestSendAndSendmsg(t *testing.T) {
	r := newRing(t, 0)
	a, b := socketPair(t)
	one := []byte("hello, ")
	r.GetSQE().PrepSend(a, one, unix.MSG_NOSIGNAL, 1)
	parts := [][]byte{[]byte("io_"), []byte("uring")}
	iov := make([]unix.Iovec, len(parts))
	for i, p := range parts {
		iov[i].Base = &p[0]
		iov[i].SetLen(len(p))
	}
	msg := &unix.Msghdr{Iov: &iov[0]}
	msg.SetIovlen(len(iov))
	r.GetSQE().PrepSendmsg(a, msg, unix.MSG_NOSIGNAL, 2)
	for _, c := range reap(t, r, 2) {
		if c.Res <= 0 {
			t.Fatalf("send: %+v", c)
		}
	}
	runtime.KeepAlive(one)
	runtime.KeepAlive(parts)
	runtime.KeepAlive(msg)
	buf := make([]byte, 64)
	n, _ := unix.Read(b, buf)
	if string(buf[:n]) != "hello, io_uring" {
		t.Fatalf("peer read %q", buf[:n])
	}
}

func TestAcceptMultishot(t *testing.T) {
	r := newRing(t, 0)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	f, _ := ln.(*net.TCPListener).File()
	defer f.Close()
	r.GetSQE().PrepAcceptMultishot(int(f.Fd()), unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 3)
	for range 3 {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	for _, c := range reap(t, r, 3) {
		if c.UserData != 3 || c.Res < 0 || c.Flags&CQEFMore == 0 {
			t.Fatalf("accept: %+v", c)
		}
		unix.Close(int(c.Res))
	}
}

func TestReadEventfd(t *testing.T) {
	r := newRing(t, 0)
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(efd)
	buf := make([]byte, 8)
	r.GetSQE().PrepRead(efd, buf, 5)
	quiet(t, r)
	unix.Write(efd, []byte{1, 0, 0, 0, 0, 0, 0, 0})
	if c := reap(t, r, 1)[0]; c.UserData != 5 || c.Res != 8 {
		t.Fatalf("read: %+v", c)
	}
}

// TestSingleIssuerDeferTaskrun: the mode gnet's loops use. The ring is
// created disabled on one thread and enabled by the loop's locked thread,
// which alone submits from then on.
func TestSingleIssuerDeferTaskrun(t *testing.T) {
	type made struct {
		r   *Ring
		err error
	}
	ch := make(chan made)
	go func() { // another goroutine, so most likely another thread
		r, err := New(Config{Entries: 64, Flags: SetupSingleIssuer | SetupDeferTaskrun | SetupRDisabled | SetupSubmitAll})
		ch <- made{r, err}
	}()
	m := <-ch
	if m.err != nil {
		t.Fatal(m.err)
	}
	r := m.r
	defer r.Close()
	br, err := r.NewBufRing(1, 4, 4096, true)
	if err != nil {
		t.Fatal(err)
	}
	defer br.Close()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := r.Enable(); err != nil {
		t.Fatal(err)
	}
	a, b := socketPair(t)
	r.GetSQE().PrepRecvMultishot(a, br.Group(), 1)
	unix.Write(b, []byte("ping"))
	c := reap(t, r, 1)[0]
	if data, _, _ := br.Consume(&c); string(data) != "ping" {
		t.Fatalf("got %q", data)
	}
}

func TestProbe(t *testing.T) {
	r := newRing(t, 0)
	if err := r.Probe(OpRecv, OpSend, OpSendmsg, OpAccept, OpAsyncCancel, OpRead); err != nil {
		t.Fatal(err)
	}
	if err := r.Probe(250); !errors.Is(err, ErrTooOld) {
		t.Fatalf("probe of opcode 250: %v, want ErrTooOld", err)
	}
}

// TestFaults: each injected failure surfaces as the error a kernel without
// the feature gives.
func TestFaults(t *testing.T) {
	restore := InjectFaults(Faults{Setup: unix.ENOSYS})
	_, err := New(Config{Entries: 8})
	restore()
	if !errors.Is(err, unix.ENOSYS) {
		t.Fatalf("setup: %v, want ENOSYS", err)
	}
	r := newRing(t, 0)
	restore = InjectFaults(Faults{Unsupported: []uint8{OpRecv}})
	err = r.Probe(OpRecv)
	restore()
	if !errors.Is(err, ErrTooOld) {
		t.Fatalf("probe: %v, want ErrTooOld", err)
	}
	restore = InjectFaults(Faults{PbufRing: unix.EINVAL})
	_, err = r.NewBufRing(1, 4, 64, true)
	restore()
	if !errors.Is(err, unix.EINVAL) {
		t.Fatalf("buffer ring: %v, want EINVAL", err)
	}
	restore = InjectFaults(Faults{PbufRingInc: unix.EINVAL})
	_, err = r.NewBufRing(2, 4, 64, true)
	br, err2 := r.NewBufRing(2, 4, 64, false)
	restore()
	if !errors.Is(err, unix.EINVAL) || err2 != nil || br.Incremental() {
		t.Fatalf("incremental refused: %v; then whole buffers: %v", err, err2)
	}
	br.Close()
}

// TestNoLeak: closing rings and buffer rings unmaps everything.
func TestNoLeak(t *testing.T) {
	r0, m0 := Stats()
	r, err := New(Config{Entries: 16})
	if err != nil {
		t.Fatal(err)
	}
	br, err := r.NewBufRing(1, 4, 4096, true)
	if err != nil {
		t.Fatal(err)
	}
	if rings, mapped := Stats(); rings != r0+1 || mapped <= m0 {
		t.Fatalf("after New: %d rings, %d bytes", rings, mapped)
	}
	r.Close()
	br.Close()
	if rings, mapped := Stats(); rings != r0 || mapped != m0 {
		t.Fatalf("after Close: %d rings (want %d), %d bytes mapped (want %d)", rings, r0, mapped, m0)
	}
}

// TestRecvmsgMultishot: each datagram arrives whole in its own buffer,
// with its sender's address; one larger than the buffer is flagged
// truncated.
func TestRecvmsgMultishot(t *testing.T) {
	r := newRing(t, 0)
	br, err := r.NewBufRing(1, 4, 256, false)
	if err != nil {
		t.Fatal(err)
	}
	defer br.Close()
	srv, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	f, _ := srv.File()
	defer f.Close()
	cli, err := net.DialUDP("udp4", nil, srv.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	msg := &unix.Msghdr{Namelen: unix.SizeofSockaddrAny}
	r.GetSQE().PrepRecvmsgMultishot(int(f.Fd()), msg, br.Group(), 9)
	cli.Write([]byte("one"))
	cli.Write(bytes.Repeat([]byte("x"), 300)) // larger than the buffer
	cli.Write([]byte("three"))
	var got []string
	for len(got) < 3 {
		for _, c := range reap(t, r, 1) {
			if c.Flags&CQEFMore == 0 {
				t.Fatalf("receive ended: %+v", c)
			}
			data, bid, out := br.Consume(&c)
			o, name, payload, ok := ParseRecvmsg(data, msg)
			if !ok {
				t.Fatalf("short buffer: %d bytes", len(data))
			}
			if len(name) < 4 || binary.NativeEndian.Uint16(name) != unix.AF_INET {
				t.Fatalf("sender address %x", name)
			}
			if o.Flags&unix.MSG_TRUNC != 0 {
				got = append(got, "truncated")
			} else {
				got = append(got, string(payload))
			}
			if out {
				br.Recycle(bid)
			}
		}
		br.Publish()
	}
	if got[0] != "one" || got[1] != "truncated" || got[2] != "three" {
		t.Fatalf("got %q", got)
	}
}
