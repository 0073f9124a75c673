// Package compat holds what the compat_test suites share: the three ways a
// server under test runs (pollnet with hibernation, pollnet without it, std),
// a leak check that every suite runs after itself (fds, goroutines, parked
// sockets), a throw-away TLS certificate, and Concurrently, the fan-out the
// suites' concurrent scenarios run on.
//
// It is test support, not a test: each library's package in compat_test/
// runs the library unchanged on top of it.
package compat
