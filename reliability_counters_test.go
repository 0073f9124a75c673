//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"io"
	"testing"
	"time"
)

// TestReliabilityParkCountersBalance: every park ends exactly once, in a
// wake, an expiry or a departed peer, so once nothing is parked
// Parks == Wakes + Expired + PeerGone. A parked socket whose peer sends its
// next request and resets at once is queued (the peek saw data), and then
// Listener.wake cannot get its peer name (ENOTCONN) and closes it: that
// ending must be counted too (as PeerGone), or the counters drift.
func TestReliabilityParkCountersBalance(t *testing.T) {
	checkLeaks(t)
	ln := relServe(t, 5*time.Millisecond, nil)
	const n = 20
	for i := range n {
		c := relDialClient(t, ln.Addr().String())
		if err := c.token("x"); err != nil {
			t.Fatal(err)
		}
		waitStats(t, ln, "park", func(s Stats) bool { return s.Parked == 1 })
		io.WriteString(c.c, "GET /tok?t=gone HTTP/1.1\r\nHost: x\r\n\r\n")
		relReset(c.c)
		waitStats(t, ln, "socket released", func(s Stats) bool { return s.Open == 0 })
		st := ln.Stats()
		if st.Parks != st.Wakes+st.Expired+st.PeerGone {
			t.Fatalf("after %d park/reset cycles: %+v: Parks != Wakes+Expired+PeerGone", i+1, st)
		}
	}
}
