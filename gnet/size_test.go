//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package gnet

import (
	"testing"
	"unsafe"
)

// TestConnRecordSize keeps the per-connection record compact: an idle
// connection costs this record plus a pointer in its loop's fd table.
func TestConnRecordSize(t *testing.T) {
	n := unsafe.Sizeof(conn{})
	t.Logf("conn record: %d bytes", n)
	if n > 128 {
		t.Fatalf("conn grew to %d bytes (bound 128)", n)
	}
}
