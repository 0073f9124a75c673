package pollnet

import (
	"crypto/tls"
	"errors"
	"net"
	"os"
	"syscall"
)

// OnReadable arranges for fn to run, in a new goroutine, once c has data to
// read, has reached end of stream or has failed, or once a read deadline set
// on c passes. It is one-shot: fn calls OnReadable again to keep waiting.
//
// On a *Conn (also the net.Conn that http.Hijacker returns for a request
// served on a pollnet listener, under Serve, ListenAndServe, Hibernate or
// plain http.Serve) the wait costs no goroutine, no buffer and no Go runtime
// poller registration: only the socket and a small record on a pollnet
// poller. This is how idle WebSockets, server-sent event streams and
// long-polls cost almost nothing. Meanwhile, from any goroutine:
//   - Write works and does not end the wait; a write the kernel takes at once
//     costs one system call, so broadcasting to many waiting connections is
//     cheap. A write that cannot complete (the peer reads slowly) blocks only
//     its caller, as Write always does, and honours the write deadline.
//   - SetReadDeadline moves the wait's deadline: when it passes, fn runs and
//     its Read returns the timeout error (a net.Error whose Timeout() is
//     true, wrapping os.ErrDeadlineExceeded). This is how idle connections
//     are timed out.
//   - Close ends the wait: fn does not run. A peer's FIN or reset runs fn,
//     whose Read then returns io.EOF or the error.
//   - Read ends the wait (fn does not run): the program reads on its own.
//
// Bytes already buffered above the socket when OnReadable is called (a
// hijack's bufio.Reader, a WebSocket library's reader) are the program's to
// consume first: OnReadable only watches the socket.
//
// Waiting connections are independent of the listener that accepted them,
// like std's hijacked connections: closing the listener (Server.Shutdown)
// leaves them waiting until the program closes them.
//
// Any other net.Conn that implements syscall.Conn (std's, and every
// connection on platforms without pollnet's pollers) works too, with a
// goroutine that waits for readability without consuming a byte: same
// semantics, no saving. A *tls.Conn waits on the connection under it; fn's
// Read may then wait for the rest of a TLS record. Beware that crypto/tls
// reads ahead: records it already holds do not make the socket readable, so
// wait on a *tls.Conn only once a Read has found nothing (a Read after a
// read deadline in the past returns what crypto/tls holds, or a timeout).
// The connection a handler hijacks under ServeServerTLS does that itself:
// fn runs at once when data is held above the socket.
func OnReadable(c net.Conn, fn func()) error {
	if fn == nil {
		return errNilFunc
	}
	if v, ok := c.(interface{ waitReadable(func()) error }); ok { // ServeServerTLS's view
		return v.waitReadable(fn)
	}
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	if handled, err := onReadablePolled(c, fn); handled {
		return err
	}
	return waitWithGoroutine(c, fn)
}

var (
	errNilFunc   = errors.New("pollnet: OnReadable needs a function")
	errNoRawConn = errors.New("pollnet: OnReadable needs a connection that implements syscall.Conn")
)

// waitWithGoroutine is OnReadable for connections not on pollnet's pollers:
// a goroutine waits in the runtime poller until the socket is readable,
// peeking, never reading.
func waitWithGoroutine(c net.Conn, fn func()) error {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return errNoRawConn
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	go func() {
		first := true
		err := rc.Read(func(fd uintptr) bool {
			ready := rawReadable(fd, first)
			first = false
			return ready
		})
		if errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrClosed) {
			return // the program closed c: the wait is over, fn does not run
		}
		fn()
	}()
	return nil
}
