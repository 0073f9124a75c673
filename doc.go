// Package pollnet is a drop-in replacement for net.Listener and net.Conn whose
// idle connections cost almost nothing.
//
// Change one line and existing servers run on it:
//
//	ln, err := pollnet.Listen("tcp", ":8080") // was: net.Listen("tcp", ":8080")
//	http.Serve(ln, handler)                   // unchanged
//
//	pollnet.ListenAndServe(":8080", mux)      // was: http.ListenAndServe(":8080", mux)
//
// # How it works
//
// Active connections wait in the Go runtime's own netpoller, exactly as std
// net's do, so reads, writes and deadlines behave and perform like std's. What
// pollnet adds is its own small set of kernel pollers (epoll on Linux, kqueue on
// the BSDs and macOS), which hold the accept path and parked sockets.
//
// With pollnet.Serve, ListenAndServe or Hibernate, an idle HTTP/1.x keep-alive
// connection hibernates after a grace period (ListenConfig.IdleGrace): net/http's
// goroutine ends and gives back its buffers, the socket waits on a pollnet
// poller in a record of a few dozen bytes, and the next request on the same TCP
// connection is handed out again by Accept as a new *Conn. Clients never notice.
// Parking is decided by a conservative rule (see hibernate.go) that never parks
// when a byte could be lost or reordered: HTTP/2, hijacked connections,
// pipelined requests and non-HTTP protocols simply run as with std.
//
// ServeTLS, ListenAndServeTLS and ServeServerTLS do the same for HTTPS/1.1:
// pollnet runs the TLS handshake itself and hands net/http a plaintext view of
// each HTTP/1.x connection, so that an idle one hibernates keeping its
// *tls.Conn, and its next request is decrypted as if nothing happened. TLS
// served by net/http itself (srv.ServeTLS, tls.NewListener) never parks.
//
// Because a woken socket comes back through Accept, net/http runs its
// ConnState, ConnContext and BaseContext hooks again for each wake-up.
//
// # Platforms
//
// Linux (epoll) and darwin, freebsd, netbsd, openbsd, dragonfly (kqueue) use
// pollnet's pollers. On every other platform (Windows, ...) Listen and Dial fall
// back to std net: everything works, without hibernation, and Stats counts only
// accepted and open connections.
package pollnet
