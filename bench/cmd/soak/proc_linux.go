package main

import "github.com/pollnet/pollnet/bench/internal/procstat"

// countFDs counts this process's open file descriptors (-1: unknown).
func countFDs() int {
	n, err := procstat.FDs(0)
	if err != nil {
		return -1
	}
	return n
}

// residentBytes is this process's resident set size (-1: unknown).
func residentBytes() int64 {
	n, err := procstat.RSS(0)
	if err != nil {
		return -1
	}
	return n
}
