//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package gnet

import "errors"

const pollerBackend = BackendKqueue

// sendState is io_uring's (uring_linux.go); there is none here.
type sendState struct{}

func (*sendState) clear() {}

var errRingPlatform = errors.New("io_uring is Linux-only")

func newRingLoop(*eventloop) (ringLoop, error)        { return nil, errRingPlatform }
func newRingAcceptor(*acceptor) (ringAcceptor, error) { return nil, errRingPlatform }
