// Package goroutine is gnet v2's pkg/pool/goroutine without its dependency on
// github.com/panjf2000/ants: a pool of reusable goroutines with the methods
// gnet programs call on it (Submit, Running, Free, Cap, Waiting, Tune,
// IsClosed, Release, ReleaseTimeout, Reboot), and Default and
// DefaultWorkerPool as in gnet v2.
//
// Like gnet v2's default, a pool never blocks: Submit starts a goroutine
// when no idle one is waiting, and fails with ErrPoolOverload once Cap
// goroutines are busy. An idle goroutine exits after the pool's expiry.
package goroutine

import (
	"errors"
	"sync"
	"time"

	"github.com/pollnet/pollnet/gnet/pkg/logging"
)

const (
	// DefaultAntsPoolSize is the capacity of Default pools.
	DefaultAntsPoolSize = 1 << 18
	// ExpiryDuration is how long an idle goroutine of a Default pool waits
	// for work before it exits.
	ExpiryDuration = 10 * time.Second
	// Nonblocking: Submit fails instead of waiting when the pool is full.
	Nonblocking = true
)

var (
	// ErrPoolClosed is returned by Submit after Release.
	ErrPoolClosed = errors.New("this pool has been closed")
	// ErrPoolOverload is returned by Submit when Cap goroutines are busy.
	ErrPoolOverload = errors.New("too many goroutines blocked on submit or Nonblocking is set")
	// ErrTimeout is returned by ReleaseTimeout when goroutines are still
	// running at the deadline.
	ErrTimeout = errors.New("operation timed out")
)

// DefaultWorkerPool is the pool gnet programs share.
var DefaultWorkerPool = Default()

// Default returns a new pool of capacity DefaultAntsPoolSize whose idle
// goroutines exit after ExpiryDuration; a task that panics is logged with
// pkg/logging.
func Default() *Pool { return New(DefaultAntsPoolSize, ExpiryDuration) }

// Pool runs tasks on a bounded set of reused goroutines. Its methods are
// safe for concurrent use.
//
// Each goroutine (a worker) owns a one-slot task channel. An idle worker is
// in p.idle with an empty channel, so Submit hands it a task without
// blocking; a worker leaves p.idle only under p.mu, either taken by Submit
// (which then sends it a task) or by its own expiry.
type Pool struct {
	mu       sync.Mutex
	capacity int
	expiry   time.Duration
	running  int       // live workers, busy or idle
	idle     []*worker // most recently parked last
	closed   bool
	drained  chan struct{} // closed when running reaches 0 after Release
}

type worker struct {
	tasks chan func() // nil task: exit (Release)
}

// New returns a pool of at most size goroutines (size <= 0: unbounded)
// whose idle goroutines exit after expiry (<= 0: ExpiryDuration).
func New(size int, expiry time.Duration) *Pool {
	if expiry <= 0 {
		expiry = ExpiryDuration
	}
	return &Pool{capacity: size, expiry: expiry}
}

// Submit runs task on an idle goroutine or a new one. It fails with
// ErrPoolClosed after Release and ErrPoolOverload when the pool is full.
func (p *Pool) Submit(task func()) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return ErrPoolClosed
	}
	if n := len(p.idle); n > 0 {
		w := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		w.tasks <- task // its slot is empty: it was idle
		return nil
	}
	if p.capacity > 0 && p.running >= p.capacity {
		p.mu.Unlock()
		return ErrPoolOverload
	}
	p.running++
	p.mu.Unlock()
	go p.work(&worker{tasks: make(chan func(), 1)}, task)
	return nil
}

// work runs tasks until the worker expires or the pool is released.
func (p *Pool) work(w *worker, task func()) {
	defer p.exit()
	timer := time.NewTimer(p.expiry)
	defer timer.Stop()
	for {
		runTask(task)
		if !p.park(w) {
			return
		}
		timer.Reset(p.expiry)
		select {
		case task = <-w.tasks:
		case <-timer.C:
			if p.expire(w) {
				return
			}
			task = <-w.tasks // Submit took w meanwhile: its task is on the way
		}
		if task == nil {
			return
		}
	}
}

func runTask(task func()) {
	defer func() {
		if r := recover(); r != nil {
			logging.Errorf("goroutine pool panic: %v", r)
		}
	}()
	task()
}

// park makes w idle; false if the pool is closed (w exits instead).
func (p *Pool) park(w *worker) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.idle = append(p.idle, w)
	return true
}

// expire removes w from the idle list; false if Submit already took it.
func (p *Pool) expire(w *worker) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, x := range p.idle {
		if x == w {
			last := len(p.idle) - 1
			copy(p.idle[i:], p.idle[i+1:])
			p.idle[last] = nil
			p.idle = p.idle[:last]
			return true
		}
	}
	return false
}

func (p *Pool) exit() {
	p.mu.Lock()
	p.running--
	if p.running == 0 && p.drained != nil {
		close(p.drained)
		p.drained = nil
	}
	p.mu.Unlock()
}

// Running returns the number of live goroutines (busy or idle).
func (p *Pool) Running() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.running
}

// Free returns how many more goroutines may start (-1: unbounded).
func (p *Pool) Free() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.capacity <= 0 {
		return -1
	}
	return p.capacity - p.running
}

// Cap returns the pool's capacity.
func (p *Pool) Cap() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.capacity
}

// Waiting returns the number of Submit calls waiting for a goroutine: always
// 0, the pool never blocks.
func (p *Pool) Waiting() int { return 0 }

// Tune changes the capacity (size <= 0 is ignored). Goroutines above a
// lowered capacity finish their tasks; no new ones start until below it.
func (p *Pool) Tune(size int) {
	if size <= 0 {
		return
	}
	p.mu.Lock()
	p.capacity = size
	p.mu.Unlock()
}

// IsClosed reports whether Release was called (and Reboot was not since).
func (p *Pool) IsClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// Release closes the pool: Submit fails from now on, idle goroutines exit at
// once and busy ones after their task. It does not wait.
func (p *Pool) Release() { p.release() }

func (p *Pool) release() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		p.closed = true
		for i, w := range p.idle {
			w.tasks <- nil
			p.idle[i] = nil
		}
		p.idle = nil
	}
	if p.running == 0 {
		return closedChan
	}
	if p.drained == nil {
		p.drained = make(chan struct{})
	}
	return p.drained
}

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// ReleaseTimeout is Release, then waits up to timeout for every goroutine
// to exit; ErrTimeout if some are still running.
func (p *Pool) ReleaseTimeout(timeout time.Duration) error {
	done := p.release()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-done:
		return nil
	case <-t.C:
		return ErrTimeout
	}
}

// Reboot reopens a released pool.
func (p *Pool) Reboot() {
	p.mu.Lock()
	p.closed = false
	p.mu.Unlock()
}
