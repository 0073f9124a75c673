//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package gnet

import (
	"fmt"
	"os"
	"testing"
)

// TestMain runs the whole suite once per backend: on the poller, then (where
// the kernel has it) with every engine on io_uring. A failure's output
// follows the header of the pass it belongs to.
func TestMain(m *testing.M) {
	fmt.Printf("=== gnet tests on the poller (%s)\n", pollerBackend)
	if code := m.Run(); code != 0 {
		os.Exit(code)
	}
	if err := ioUringUsable(); err != nil {
		fmt.Printf("=== io_uring pass not run: %v\n", err)
		os.Exit(0)
	}
	fmt.Println("=== gnet tests on io_uring")
	forceIOUring = true
	os.Exit(m.Run())
}
