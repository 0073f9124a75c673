//go:build !unix

package pollnet

// rawReadable asks the runtime poller to wait once: syscall.RawConn.Read
// calls it again when the connection is readable (on Windows after a
// zero-byte receive, which consumes nothing).
func rawReadable(_ uintptr, first bool) bool { return !first }
