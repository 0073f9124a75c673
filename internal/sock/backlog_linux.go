//go:build linux

package sock

import (
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// MaxListenerBacklog is the kernel's somaxconn, read as std net reads it.
func MaxListenerBacklog() int {
	b, err := os.ReadFile("/proc/sys/net/core/somaxconn")
	if err != nil {
		return unix.SOMAXCONN
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || n <= 0 {
		return unix.SOMAXCONN
	}
	// listen(2) takes an int, but kernels before 4.1 store the backlog in a
	// uint16: clamp as std does.
	return min(n, 1<<16-1)
}
