//go:build linux

package gnet

import "golang.org/x/sys/unix"

func bindToDevice(fd int, iface string) error { return unix.BindToDevice(fd, iface) }

// setAffinity pins the calling OS thread (locked by the caller) to cpu.
func setAffinity(cpu int) {
	var set unix.CPUSet
	set.Set(cpu)
	unix.SchedSetaffinity(0, &set)
}
