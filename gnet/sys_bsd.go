//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package gnet

// bindToDevice is Linux-only.
func bindToDevice(int, string) error { return ErrUnsupportedOp }

// setAffinity is a documented no-op outside Linux.
func setAffinity(int) {}
