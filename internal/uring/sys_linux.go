//go:build linux

package uring

import (
	"os"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Faults makes this package fail the way a kernel without (usable) io_uring
// does, so that callers can test their fallback paths on a kernel that has
// it. Set by tests through InjectFaults; never set in production.
type Faults struct {
	Setup       unix.Errno // io_uring_setup fails with this (ENOSYS, EPERM, EINVAL)
	Probe       unix.Errno // IORING_REGISTER_PROBE fails with this (EINVAL before 5.6)
	PbufRing    unix.Errno // IORING_REGISTER_PBUF_RING fails with this (EINVAL before 5.19)
	PbufRingInc unix.Errno // ... only when asked for incremental consumption (before 6.12)
	Unsupported []uint8    // opcodes the probe reports as unsupported
	Disabled    string     // pretended value of kernel.io_uring_disabled ("" reads the real one)
}

var (
	faultsMu sync.Mutex
	faults   Faults
)

// InjectFaults installs f until the returned function is called.
func InjectFaults(f Faults) (restore func()) {
	faultsMu.Lock()
	faults = f
	faultsMu.Unlock()
	return func() {
		faultsMu.Lock()
		faults = Faults{}
		faultsMu.Unlock()
	}
}

func currentFaults() Faults {
	faultsMu.Lock()
	defer faultsMu.Unlock()
	return faults
}

func disabledSysctl() string {
	if v := currentFaults().Disabled; v != "" {
		return v
	}
	b, _ := os.ReadFile("/proc/sys/kernel/io_uring_disabled")
	return strings.TrimSpace(string(b))
}

func sysSetup(entries uint32, p *params) (int, error) {
	if e := currentFaults().Setup; e != 0 {
		return -1, e
	}
	fd, _, errno := unix.Syscall(unix.SYS_IO_URING_SETUP, uintptr(entries), uintptr(unsafe.Pointer(p)), 0)
	if errno != 0 {
		return -1, errno
	}
	return int(fd), nil
}

func sysRegister(fd int, op uint32, arg unsafe.Pointer, n uint32) error {
	f := currentFaults()
	switch {
	case op == registerProbe && f.Probe != 0:
		return f.Probe
	case op == registerPbufRing && f.PbufRing != 0:
		return f.PbufRing
	case op == registerPbufRing && f.PbufRingInc != 0 && (*bufReg)(arg).flags&pbufRingInc != 0:
		return f.PbufRingInc
	}
	_, _, errno := unix.Syscall6(unix.SYS_IO_URING_REGISTER, uintptr(fd), uintptr(op), uintptr(arg), uintptr(n), 0, 0)
	if errno != 0 {
		return errno
	}
	if op == registerProbe {
		pr := (*probe)(arg)
		for _, o := range f.Unsupported {
			pr.ops[o].flags &^= opSupported
		}
	}
	return nil
}
