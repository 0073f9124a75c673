package goroutine

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestSubmitRunsEveryTask(t *testing.T) {
	p := New(8, time.Hour)
	var n atomic.Int32
	var wg sync.WaitGroup
	for range 1000 {
		wg.Add(1)
		for p.Submit(func() { n.Add(1); wg.Done() }) == ErrPoolOverload {
			time.Sleep(time.Millisecond) // all 8 busy: retry
		}
	}
	wg.Wait()
	if n.Load() != 1000 {
		t.Fatalf("%d tasks ran", n.Load())
	}
	if r := p.Running(); r < 1 || r > 8 {
		t.Fatalf("Running() = %d with capacity 8", r)
	}
	if err := p.ReleaseTimeout(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	if p.Running() != 0 || !p.IsClosed() {
		t.Fatalf("after ReleaseTimeout: running %d, closed %v", p.Running(), p.IsClosed())
	}
	if err := p.Submit(func() {}); err != ErrPoolClosed {
		t.Fatalf("Submit after Release: %v", err)
	}
	p.Reboot()
	done := make(chan struct{})
	if err := p.Submit(func() { close(done) }); err != nil {
		t.Fatal(err)
	}
	<-done
	p.Release()
}

func TestOverloadAndTune(t *testing.T) {
	p := New(1, time.Hour)
	defer p.Release()
	block := make(chan struct{})
	if err := p.Submit(func() { <-block }); err != nil {
		t.Fatal(err)
	}
	if err := p.Submit(func() {}); err != ErrPoolOverload {
		t.Fatalf("second Submit on a full pool: %v", err)
	}
	if p.Free() != 0 || p.Cap() != 1 || p.Waiting() != 0 {
		t.Fatalf("Free %d Cap %d Waiting %d", p.Free(), p.Cap(), p.Waiting())
	}
	p.Tune(2)
	ran := make(chan struct{})
	if err := p.Submit(func() { close(ran) }); err != nil {
		t.Fatalf("after Tune(2): %v", err)
	}
	<-ran
	close(block)
}

func TestIdleGoroutinesExpire(t *testing.T) {
	p := New(4, 10*time.Millisecond)
	defer p.Release()
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		p.Submit(func() { time.Sleep(5 * time.Millisecond); wg.Done() })
	}
	wg.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for p.Running() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d idle goroutines never expired", p.Running())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPanicIsContained(t *testing.T) {
	p := New(1, time.Hour)
	defer p.Release()
	p.Submit(func() { panic("boom") })
	done := make(chan struct{})
	for p.Submit(func() { close(done) }) != nil {
		time.Sleep(time.Millisecond)
	}
	<-done
}
