//go:build !linux

package main

// countFDs and residentBytes need /proc: elsewhere they report -1 (unknown),
// and the leak check relies on goroutines and pollnet's counters only.
func countFDs() int { return -1 }

func residentBytes() int64 { return -1 }
