// Package procstat reads what the bench tools measure of a process from
// /proc, through github.com/prometheus/procfs: resident memory, CPU time and
// open file descriptors, and the machine's load average. Linux only; on other
// systems every call returns an error.
package procstat

import (
	"time"

	"github.com/prometheus/procfs"
)

func proc(pid int) (procfs.Proc, error) {
	if pid == 0 {
		return procfs.Self()
	}
	return procfs.NewProc(pid)
}

// RSS is the resident set size (VmRSS) of process pid (0: this process), in bytes.
func RSS(pid int) (int64, error) {
	p, err := proc(pid)
	if err != nil {
		return 0, err
	}
	st, err := p.NewStatus()
	if err != nil {
		return 0, err
	}
	return int64(st.VmRSS), nil
}

// CPU is the user+system CPU time process pid (0: this process) has used,
// all threads, at /proc's resolution (1/USER_HZ: 10 ms).
func CPU(pid int) (time.Duration, error) {
	p, err := proc(pid)
	if err != nil {
		return 0, err
	}
	st, err := p.Stat()
	if err != nil {
		return 0, err
	}
	return time.Duration(st.CPUTime() * float64(time.Second)), nil
}

// FDs is the number of open file descriptors of process pid (0: this process).
func FDs(pid int) (int, error) {
	p, err := proc(pid)
	if err != nil {
		return 0, err
	}
	return p.FileDescriptorsLen()
}

// LoadAvg is the machine's 1-minute load average.
func LoadAvg() (float64, error) {
	fs, err := procfs.NewDefaultFS()
	if err != nil {
		return 0, err
	}
	l, err := fs.LoadAvg()
	if err != nil {
		return 0, err
	}
	return l.Load1, nil
}
