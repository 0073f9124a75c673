package sock

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	var b Backoff
	want := []time.Duration{5, 10, 20, 40, 80, 160, 320, 500, 500}
	for i, w := range want {
		if got := b.Next(); got != w*time.Millisecond {
			t.Fatalf("failure %d: wait %v, want %v", i+1, got, w*time.Millisecond)
		}
	}
	b.Reset()
	if b.Current() != 0 || b.Next() != BackoffMin {
		t.Fatal("Reset did not restart at BackoffMin")
	}
}
