//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"errors"
	"os"
	"sync"
	"testing"
	"time"
)

// TestConnConcurrentReadsWithDeadlines: many goroutines Read one accepted
// Conn (it starts detached: a Read that finds nothing waits on the hub's
// poller) while the peer streams and the readers keep resetting a short read
// deadline, as nettest's RacyRead does. Every Read must return: data or a
// timeout. A second Read used to take the wake channel of the one already
// waiting there, which then never woke. Every wait gives its pooled channel
// back.
func TestConnConcurrentReadsWithDeadlines(t *testing.T) {
	for round := range 20 {
		sc, client := acceptedPair(t, "tcp")
		stop := make(chan struct{})
		go func() { // the peer streams small chunks, with pauses
			buf := make([]byte, 37)
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := client.Write(buf[:1+i%len(buf)]); err != nil {
					return
				}
				if i%8 == 0 {
					time.Sleep(100 * time.Microsecond)
				}
			}
		}()
		sc.SetReadDeadline(time.Now().Add(time.Millisecond))
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				b := make([]byte, 64)
				for range 50 {
					if _, err := sc.Read(b); err != nil {
						if !errors.Is(err, os.ErrDeadlineExceeded) {
							t.Errorf("Read: %v", err)
							return
						}
						sc.SetReadDeadline(time.Now().Add(time.Millisecond))
					}
				}
			})
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(time.Minute): // a hang, not a timing bound
			close(stop)
			sc.Close()
			t.Fatalf("round %d: a Read never returned", round)
		}
		close(stop)
		if sc.idle.wake.Load() != nil {
			t.Fatalf("round %d: a wake channel taken from the pool was not given back", round)
		}
	}
}
