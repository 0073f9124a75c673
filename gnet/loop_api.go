//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package gnet

import (
	"context"
	"net"
	"time"
)

// The EventLoop interface. Register, Enroll and Execute are safe from any
// goroutine; Close is loop-only.

// Register dials addr (tcp, udp or unix) in a new goroutine and enrolls the
// connection here.
func (l *eventloop) Register(ctx context.Context, addr net.Addr) (<-chan RegisteredResult, error) {
	if l.eng.stopped.Load() {
		return nil, ErrEngineInShutdown
	}
	if addr == nil {
		return nil, ErrInvalidNetworkAddress
	}
	return l.enrollAsync(ctx, func() (net.Conn, error) { return net.Dial(addr.Network(), addr.String()) })
}

// Enroll takes over nc (tcp, udp or unix) in a new goroutine and registers
// it here.
func (l *eventloop) Enroll(ctx context.Context, nc net.Conn) (<-chan RegisteredResult, error) {
	if l.eng.stopped.Load() {
		return nil, ErrEngineInShutdown
	}
	if nc == nil {
		return nil, ErrInvalidNetConn
	}
	return l.enrollAsync(ctx, func() (net.Conn, error) { return nc, nil })
}

// enrollAsync gets a net.Conn from get in a new goroutine, enrolls it and
// delivers the result on the returned channel.
func (l *eventloop) enrollAsync(ctx context.Context, get func() (net.Conn, error)) (<-chan RegisteredResult, error) {
	ch := make(chan RegisteredResult, 1)
	go func() {
		nc, err := get()
		if err != nil {
			ch <- RegisteredResult{Err: err}
			return
		}
		c, err := l.enrollSync(nc, FromContext(ctx))
		ch <- RegisteredResult{Conn: c, Err: err}
	}()
	return ch, nil
}

// Execute runs runnable on the loop.
func (l *eventloop) Execute(ctx context.Context, runnable Runnable) error {
	if l.eng.stopped.Load() {
		return ErrEngineInShutdown
	}
	if runnable == nil {
		return ErrNilRunnable
	}
	return l.post(func() { runnable.Run(ctx) })
}

// Schedule returns ErrUnsupportedOp, as gnet v2 does.
func (l *eventloop) Schedule(context.Context, Runnable, time.Duration) error {
	return ErrUnsupportedOp
}

// Close closes c (loop-only); pending output is delivered first.
func (l *eventloop) Close(c Conn) error {
	cc, ok := c.(*conn)
	if !ok || cc.loop != l {
		return ErrUnsupportedOp
	}
	l.closeConn(cc, nil, true)
	return nil
}

// enrollSync takes over nc's socket (a duplicate descriptor; nc is closed),
// registers it on l and returns once OnOpen has run.
func (l *eventloop) enrollSync(nc net.Conn, ctx any) (Conn, error) {
	defer nc.Close()
	c, err := connFromNetConn(l, nc)
	if err != nil {
		return nil, err
	}
	c.ctx = ctx
	done := make(chan error, 1)
	l.load.Add(1)
	if err := l.post(func() { done <- l.open(c) }); err != nil {
		l.load.Add(-1)
		sockClose(int(c.fd))
		return nil, err
	}
	if err := <-done; err != nil {
		return nil, err
	}
	return c, nil
}
