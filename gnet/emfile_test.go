//go:build linux

package gnet

import (
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pollnet/pollnet/internal/sock"
)

// fillFDs takes every free descriptor number (duplicates of one /dev/null
// descriptor) and returns the function that frees them again. The limit
// itself must not change under a running engine: io_uring's accept reads
// RLIMIT_NOFILE when it is armed, not when it runs. Nothing else in the
// test process may open descriptors meanwhile.
func fillFDs(t *testing.T) (restore func()) {
	t.Helper()
	null, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	fds := []int{null}
	for {
		fd, err := unix.Dup(null)
		if err == unix.EMFILE {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		fds = append(fds, fd)
	}
	return func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}
}

// capFDs keeps RLIMIT_NOFILE at most 20,000 (this machine's) for the test,
// so fillFDs stays quick; call it before the engine starts.
func capFDs(t *testing.T) {
	var old unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	if old.Cur <= 20000 {
		return
	}
	lim := old
	lim.Cur = 20000
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Setrlimit(unix.RLIMIT_NOFILE, &old) })
}

// preDial creates n client sockets: connect (dialTo) needs no new
// descriptor, so it still works once fillFDs took them all.
func preDial(t *testing.T, n int) []int {
	t.Helper()
	fds := make([]int, n)
	for i := range fds {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		fds[i] = fd
	}
	return fds
}

func dialTo(fd int, addr string) error {
	ap := netip.MustParseAddrPort(addr)
	return unix.Connect(fd, &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()})
}

// fileConn turns a connected socket into a net.Conn (after the limit is
// lifted: it takes a descriptor).
func fileConn(t *testing.T, fd int) net.Conn {
	t.Helper()
	f := os.NewFile(uintptr(fd), "client")
	defer f.Close()
	c, err := net.FileConn(f)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestEMFILERealLimit: real descriptor exhaustion on either backend. With
// the limit reached, accepting fails with EMFILE; the acceptor backs off
// instead of spinning; once descriptors are available again the waiting
// connections open without a new connection arriving.
func TestEMFILERealLimit(t *testing.T) {
	capFDs(t)
	hk := useHooks(t)
	h := &echo{}
	s := startServer(t, h, "tcp")
	fds := preDial(t, 3)
	e0 := hk.acceptErrors.Load()
	restore := fillFDs(t)
	for _, fd := range fds {
		if err := dialTo(fd, s.addr); err != nil {
			restore()
			t.Fatal(err)
		}
	}
	start := time.Now()
	deadline := start.Add(long)
	for hk.acceptErrors.Load() == e0 && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	attempts, elapsed := hk.acceptErrors.Load()-e0, time.Since(start)
	restore()
	if attempts == 0 {
		t.Fatal("no EMFILE: the limit did not bite")
	}
	bound := int64(10 + elapsed/sock.BackoffMax + 10) // as in TestEMFILEBackoff
	t.Logf("%d failed accepts in %v (bound %d)", attempts, elapsed, bound)
	if attempts > bound {
		t.Fatalf("%d attempts: the acceptor spins", attempts)
	}
	wait(t, "the waiting connections to open", func() bool { return h.opened.Load() == 3 })
	for _, fd := range fds {
		c := fileConn(t, fd)
		c.Write([]byte("x"))
		readFull(t, c, 1)
		c.Close()
	}
}

// TestEMFILERealLimitManyListeners: one listener out of descriptors while
// another has nothing to accept keeps its retry (the review bug of
// TestEMFILEBackoffManyListeners, with a real EMFILE).
func TestEMFILERealLimitManyListeners(t *testing.T) {
	capFDs(t)
	hk := useHooks(t)
	a0, a1 := freeAddr(t), freeAddr(t)
	h := &bootNotifier{booted: make(chan Engine, 1)}
	done := make(chan error, 1)
	go func() { done <- Rotate(h, []string{"tcp://" + a0, "tcp://" + a1}) }()
	e := <-h.booted
	if e.Backend() != testBackend() {
		t.Fatalf("backend %q", e.Backend())
	}
	fd := preDial(t, 1)[0]
	e0 := hk.acceptErrors.Load()
	restore := fillFDs(t)
	if err := dialTo(fd, a0); err != nil {
		restore()
		t.Fatal(err)
	}
	deadline := time.Now().Add(long)
	for hk.acceptErrors.Load() == e0 && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	restore()
	if hk.acceptErrors.Load() == e0 {
		t.Fatal("no EMFILE: the limit did not bite")
	}
	wait(t, "the connection refused by EMFILE to open", func() bool { return h.opened.Load() == 1 })
	unix.Close(fd)
	if err := e.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
