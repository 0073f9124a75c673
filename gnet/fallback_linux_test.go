//go:build linux

package gnet

import (
	"errors"
	"net"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/pollnet/pollnet/internal/uring"
)

// TestIOUringFallback forces each way io_uring can be unavailable and
// checks that Run falls back to epoll, says why through Engine.Backend and
// Engine.IOUringErr, and serves as usual.
func TestIOUringFallback(t *testing.T) {
	cases := []struct {
		name   string
		faults uring.Faults
		cause  error  // errors.Is(IOUringErr(), cause)
		text   string // in the error's text
	}{
		{"no io_uring or seccomp ENOSYS", uring.Faults{Setup: unix.ENOSYS}, unix.ENOSYS, "no io_uring"},
		{"kernel.io_uring_disabled=2", uring.Faults{Setup: unix.EPERM, Disabled: "2"}, unix.EPERM, "io_uring_disabled=2"},
		{"kernel.io_uring_disabled=1, not in the group", uring.Faults{Setup: unix.EPERM, Disabled: "1"}, unix.EPERM, "io_uring_group"},
		{"seccomp EPERM", uring.Faults{Setup: unix.EPERM, Disabled: "0"}, unix.EPERM, "seccomp"},
		{"kernel before 6.1 (setup flags)", uring.Faults{Setup: unix.EINVAL}, unix.EINVAL, "6.1"},
		{"kernel before 5.6 (no probe)", uring.Faults{Probe: unix.EINVAL}, unix.EINVAL, "PROBE"},
		{"missing opcode", uring.Faults{Unsupported: []uint8{uring.OpRecv}}, uring.ErrTooOld, "unsupported"},
		{"kernel before 5.19 (no buffer rings)", uring.Faults{PbufRing: unix.EINVAL}, unix.EINVAL, "PBUF_RING"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			restore := uring.InjectFaults(tc.faults)
			defer restore()
			e := runEcho(t, WithIOUring(true), WithNumEventLoop(2))
			err := e.IOUringErr()
			if e.Backend() != BackendEpoll {
				t.Fatalf("backend %q, want epoll", e.Backend())
			}
			if !errors.Is(err, ErrIOUringUnavailable) || !errors.Is(err, tc.cause) || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("IOUringErr() = %v; want ErrIOUringUnavailable, %v and %q", err, tc.cause, tc.text)
			}
			t.Log(err)
		})
	}
	// Not a fallback: without incremental buffer consumption (before 6.12)
	// the loops run on io_uring with whole buffers.
	t.Run("kernel before 6.12 (whole buffers)", func(t *testing.T) {
		restore := uring.InjectFaults(uring.Faults{PbufRingInc: unix.EINVAL})
		defer restore()
		e := runEcho(t, WithIOUring(true))
		if e.Backend() != BackendIOUring || e.IOUringErr() != nil {
			t.Fatalf("backend %q, %v; want io_uring", e.Backend(), e.IOUringErr())
		}
	})
	t.Run("not asked for", func(t *testing.T) {
		defer func(v bool) { forceIOUring = v }(forceIOUring)
		forceIOUring = false
		e := runEcho(t)
		if e.Backend() != BackendEpoll || e.IOUringErr() != nil {
			t.Fatalf("backend %q, %v", e.Backend(), e.IOUringErr())
		}
	})
}

// runEcho runs an echo server with opts, checks that it echoes and stops
// it; it returns the Engine for its reports.
func runEcho(t *testing.T, opts ...Option) Engine {
	t.Helper()
	h := &bootNotifier{booted: make(chan Engine, 1)}
	addr := freeAddr(t)
	done := make(chan error, 1)
	go func() { done <- Run(h, "tcp://"+addr, opts...) }()
	var e Engine
	select {
	case e = <-h.booted:
	case err := <-done:
		t.Fatalf("Run: %v", err)
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("ping"))
	if got := readFull(t, c, 4); string(got) != "ping" {
		t.Fatalf("echo %q", got)
	}
	c.Close()
	if err := e.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	return e
}
