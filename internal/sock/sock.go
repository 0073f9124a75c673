// Package sock holds the socket system calls that both faces of pollnet (the
// root package and gnet/) make the same way on every platform: creating and
// accepting non-blocking, close-on-exec sockets, and TCP keep-alive timing.
//
// Accept returns syscall.Sockaddr rather than x/sys/unix's: on Linux x/sys
// spends an extra getsockopt(SO_PROTOCOL) on every AF_INET address it
// decodes, one more syscall per accepted connection.
package sock
