//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package gnet

func ioUringUsable() error { return errRingPlatform }
