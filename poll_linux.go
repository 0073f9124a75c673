//go:build linux

package pollnet

import (
	"os"
	"sync/atomic"

	"github.com/pollnet/pollnet/internal/poller"
	"github.com/pollnet/pollnet/internal/sock"
	"golang.org/x/sys/unix"
)

// waiter parks a poll loop's goroutine in the Go runtime's netpoller until
// pollnet's epoll has events (an epoll fd is readable while it has ready
// events), then collects them with a zero-timeout Wait. A goroutine blocked
// in epoll_wait would hold an OS thread and pay a thread hand-off on every
// wake-up; this way a wake-up costs what any socket read costs.
type waiter struct{ f *os.File }

func newWaiter(p *poller.Poller) (waiter, error) {
	fd, err := sock.DupCloexec(p.Fd())
	if err != nil {
		return waiter{}, err
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return waiter{}, err
	}
	return waiter{f: os.NewFile(uintptr(fd), "pollnet-epoll")}, nil
}

// wait returns the next events, or 0 once stop is set (after a Wake).
func (w waiter) wait(p *poller.Poller, events []poller.Event, stop *atomic.Bool) (n int, err error) {
	rc, err := w.f.SyscallConn()
	if err != nil {
		return 0, err
	}
	rerr := rc.Read(func(uintptr) bool {
		n, err = p.Wait(events, 0)
		return n > 0 || err != nil || stop.Load()
	})
	if err == nil {
		err = rerr
	}
	return n, err
}

func (w waiter) close() { w.f.Close() }
