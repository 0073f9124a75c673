package gnet

import "errors"

// Backend names the kernel interface an engine's event loops run on.
type Backend string

// The backends. An engine runs on its platform's poller (epoll or kqueue)
// unless WithIOUring(true) is given and io_uring is usable (Linux 6.1 or
// later, not disabled by kernel.io_uring_disabled or a seccomp filter).
const (
	BackendEpoll   Backend = "epoll"
	BackendKqueue  Backend = "kqueue"
	BackendIOUring Backend = "io_uring"
)

// ErrIOUringUnavailable is wrapped by the error Engine.IOUringErr returns
// when WithIOUring(true) was asked for and the engine fell back to the poller.
var ErrIOUringUnavailable = errors.New("gnet: io_uring unavailable, running on the poller")

// Backend reports what the engine's loops run on ("" for a zero Engine).
// It is set before OnBoot and never changes.
func (e Engine) Backend() Backend {
	if e.eng == nil {
		return ""
	}
	b, _ := e.eng.backendInfo()
	return b
}

// IOUringErr returns why an engine given WithIOUring(true) runs on the
// poller instead: an error wrapping ErrIOUringUnavailable and the cause
// (errors.Is works for unix.ENOSYS, unix.EPERM, unix.EINVAL...). It is nil
// when the engine runs on io_uring or was not asked to.
func (e Engine) IOUringErr() error {
	if e.eng == nil {
		return nil
	}
	_, err := e.eng.backendInfo()
	return err
}
