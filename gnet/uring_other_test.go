//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package gnet

func ioUringUsable() error { return errRingPlatform }

func ringStats() (int, int64) { return 0, 0 }
