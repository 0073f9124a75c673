//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"sync/atomic"

	"github.com/pollnet/pollnet/internal/poller"
)

// pollLoop is one goroutine waiting on one kernel poller for a listener's
// events: readiness of the listening socket (key generation 0, on the first
// loop only) and of parked sockets (key generation >= 1).
type pollLoop struct {
	p    *poller.Poller
	ln   *Listener
	wait waiter // how the goroutine waits for the poller (pollwait_*.go)
	stop atomic.Bool
	done chan struct{}
}

func startPollLoop(ln *Listener) (*pollLoop, error) {
	p, err := poller.New()
	if err != nil {
		return nil, err
	}
	w, err := newWaiter(p)
	if err != nil {
		p.Close()
		return nil, err
	}
	l := &pollLoop{p: p, ln: ln, wait: w, done: make(chan struct{})}
	go l.run()
	return l, nil
}

func (l *pollLoop) run() {
	defer close(l.done)
	events := make([]poller.Event, 256)
	for !l.stop.Load() {
		n, err := l.wait.wait(l.p, events, &l.stop)
		if err != nil {
			return // only a broken poller fails here; Close still works
		}
		for _, ev := range events[:n] {
			fd, gen := poller.SplitKey(ev.Key)
			if gen == 0 {
				l.ln.signal(l.ln.incoming)
				continue
			}
			l.ln.lot.onReadable(fd, gen, ev.Hangup)
		}
	}
}

// shutdown stops the loop, waits for it, and closes its poller.
func (l *pollLoop) shutdown() {
	l.stop.Store(true)
	l.p.Wake()
	<-l.done
	l.wait.close()
	l.p.Close()
}
