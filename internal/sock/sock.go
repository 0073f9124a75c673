// Package sock is pollnet's one socket layer, shared by both faces (the root
// package and gnet/): creating and accepting non-blocking, close-on-exec
// sockets, setting up listening and bound datagram sockets (Listen), the
// listen backlog, converting socket addresses, linger and TCP keep-alive
// options, and the accept backoff policy for descriptor exhaustion.
//
// Addresses the kernel reports are decoded from syscall.Sockaddr rather than
// x/sys/unix's: on Linux x/sys spends an extra getsockopt(SO_PROTOCOL) on
// every AF_INET address it decodes, one more syscall per accepted connection
// or received datagram.
package sock
