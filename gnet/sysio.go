//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package gnet

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// The socket I/O of the event loops: every read, write, receive, send and
// close a loop (or a datagram send from any goroutine) does on a
// connection's socket is one of these functions, and nothing else in the
// package calls the kernel for a connection's data. They are the seam for
// another I/O backend (io_uring): the readiness-driven callers are
// eventloop.read (stream input), conn.write and conn.writeOut (stream
// output), eventloop.readDatagrams and conn.sendDatagram (UDP),
// eventloop.dropInput (closing sockets) and eventloop.endConn / linger
// (shutdown and close). Each returns the raw errno; EINTR is retried here.

// sockRead reads stream input into p: n > 0 bytes, or 0 with a nil error at
// the end of the stream.
func sockRead(fd int, p []byte) (int, error) {
	for {
		n, err := unix.Read(fd, p)
		if err != unix.EINTR {
			return n, err
		}
	}
}

// sockWrite writes p (or a prefix of it) to a stream socket.
func sockWrite(fd int, p []byte) (int, error) {
	for {
		n, err := unix.Write(fd, p)
		if err != unix.EINTR {
			return max(n, 0), err
		}
	}
}

// sockWritev writes the buffers in order (or a prefix of them).
func sockWritev(fd int, iov [][]byte) (int, error) {
	if len(iov) == 1 {
		return sockWrite(fd, iov[0])
	}
	for {
		n, err := writev(fd, iov)
		if err != unix.EINTR {
			return max(n, 0), err
		}
	}
}

// sockRecv receives one datagram into p and its sender. truncated reports
// a datagram larger than p (the kernel dropped its tail).
func sockRecv(fd int, p []byte) (n int, from syscall.Sockaddr, truncated bool, err error) {
	for {
		n, _, flags, from, err := syscall.Recvmsg(fd, p, nil, 0)
		if err != syscall.EINTR {
			return n, from, flags&syscall.MSG_TRUNC != 0, err
		}
	}
}

// sockSend sends p as one datagram to the address to, or, with to nil, to
// a connected socket's peer.
func sockSend(fd int, p []byte, to syscall.Sockaddr) error {
	for {
		var err error
		if to == nil {
			_, err = unix.Write(fd, p)
		} else {
			err = syscall.Sendto(fd, p, 0, to)
		}
		if err != unix.EINTR {
			return err
		}
	}
}

// sockShutdownWrite sends a stream's FIN (its output is complete).
func sockShutdownWrite(fd int) error { return unix.Shutdown(fd, unix.SHUT_WR) }

// sockClose closes the descriptor.
func sockClose(fd int) error { return unix.Close(fd) }
