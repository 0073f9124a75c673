//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package poller

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func socketpair(t *testing.T) (int, int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		unix.SetNonblock(fd, true)
	}
	t.Cleanup(func() { unix.Close(fds[0]); unix.Close(fds[1]) })
	return fds[0], fds[1]
}

func newPoller(t *testing.T) *Poller {
	t.Helper()
	p, err := New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// wait returns the events of one Wait with a bounded timeout.
func wait(t *testing.T, p *Poller, timeout time.Duration) []Event {
	t.Helper()
	evs := make([]Event, 16)
	n, err := p.Wait(evs, timeout)
	if err != nil {
		t.Fatal(err)
	}
	return evs[:n]
}

func TestKeyRoundTrip(t *testing.T) {
	for _, c := range []struct {
		fd  int
		gen uint32
	}{{0, 0}, {3, 1}, {1<<31 - 1, ^uint32(0)}, {19999, 12345}} {
		fd, gen := SplitKey(MakeKey(c.fd, c.gen))
		if fd != c.fd || gen != c.gen {
			t.Fatalf("SplitKey(MakeKey(%d, %d)) = %d, %d", c.fd, c.gen, fd, gen)
		}
	}
}

func TestEdgeTriggeredReadable(t *testing.T) {
	p := newPoller(t)
	a, b := socketpair(t)
	key := MakeKey(a, 7)
	if err := p.Add(a, key, Readable); err != nil {
		t.Fatal(err)
	}
	if evs := wait(t, p, 0); len(evs) != 0 {
		t.Fatalf("events before any data: %+v", evs)
	}
	unix.Write(b, []byte("x"))
	evs := wait(t, p, 5*time.Second)
	if len(evs) != 1 || evs[0].Key != key || evs[0].Ready&Readable == 0 || evs[0].Hangup {
		t.Fatalf("events after write: %+v", evs)
	}
	// Edge-triggered: unread data does not report again.
	if evs := wait(t, p, 0); len(evs) != 0 {
		t.Fatalf("second report of the same edge: %+v", evs)
	}
	// Peer close: readable with hangup.
	unix.Close(b)
	evs = wait(t, p, 5*time.Second)
	if len(evs) != 1 || !evs[0].Hangup || evs[0].Ready&Readable == 0 {
		t.Fatalf("events after peer close: %+v", evs)
	}
}

func TestModifyAndRemove(t *testing.T) {
	p := newPoller(t)
	a, b := socketpair(t)
	if err := p.Add(a, MakeKey(a, 1), Readable); err != nil {
		t.Fatal(err)
	}
	// Asking for Writable on an empty send buffer reports it, with the new key.
	if err := p.Modify(a, MakeKey(a, 2), Readable|Writable); err != nil {
		t.Fatal(err)
	}
	evs := wait(t, p, 5*time.Second)
	if len(evs) == 0 || evs[0].Key != MakeKey(a, 2) || evs[0].Ready&Writable == 0 {
		t.Fatalf("events after Modify: %+v", evs)
	}
	if err := p.Remove(a); err != nil {
		t.Fatal(err)
	}
	unix.Write(b, []byte("x"))
	if evs := wait(t, p, 50*time.Millisecond); len(evs) != 0 {
		t.Fatalf("events after Remove: %+v", evs)
	}
}

func TestWake(t *testing.T) {
	p := newPoller(t)
	done := make(chan int)
	go func() {
		evs := make([]Event, 4)
		n, _ := p.Wait(evs, -1)
		done <- n
	}()
	for range 3 { // coalesced: several Wakes, one return
		if err := p.Wake(); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case n := <-done:
		if n != 0 {
			t.Fatalf("Wait after Wake returned %d events", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Wake did not end Wait")
	}
	// A later Wake still works after the first was consumed.
	p.Wake()
	if evs := wait(t, p, 5*time.Second); len(evs) != 0 {
		t.Fatalf("events: %+v", evs)
	}
}

func TestOneShotReportsOnceUntilRearmed(t *testing.T) {
	p := newPoller(t)
	a, b := socketpair(t)
	if err := p.Add(a, MakeKey(a, 1), Readable|OneShot); err != nil {
		t.Fatal(err)
	}
	unix.Write(b, []byte("x"))
	if evs := wait(t, p, 5*time.Second); len(evs) != 1 || evs[0].Key != MakeKey(a, 1) {
		t.Fatalf("first report: %+v", evs)
	}
	// Disabled: new data and even a hangup report nothing.
	unix.Write(b, []byte("y"))
	if evs := wait(t, p, 50*time.Millisecond); len(evs) != 0 {
		t.Fatalf("a disabled one-shot registration reported: %+v", evs)
	}
	// Re-armed on a socket that is still readable: reported at once, with the new key.
	if err := p.Modify(a, MakeKey(a, 2), Readable|OneShot); err != nil {
		t.Fatal(err)
	}
	if evs := wait(t, p, 5*time.Second); len(evs) != 1 || evs[0].Key != MakeKey(a, 2) {
		t.Fatalf("report after re-arming: %+v", evs)
	}
}
