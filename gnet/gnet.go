// Package gnet is an event-driven networking engine on pollnet's kernel
// pollers (epoll on Linux, kqueue on the BSDs and macOS), source-compatible
// with the core of github.com/panjf2000/gnet/v2 (v2.9.7): a gnet v2 program
// switches by changing one import line:
//
//	import "github.com/pollnet/pollnet/gnet" // was: "github.com/panjf2000/gnet/v2"
//
// Connections are served by callbacks (EventHandler) on a small set of event
// loops, one goroutine each, with no goroutine per connection. Beyond gnet v2,
// this package bounds outbound buffers (a connection whose peer reads slowly
// stops being read until its outbound data drains), enforces deadlines and
// idle timeouts on one timer heap per loop, never truncates output on Close,
// reads edge-triggered sockets fairly (a per-event budget plus a remembered
// backlog), backs off on EMFILE instead of spinning, and keeps idle
// connections free of buffers.
//
// # Concurrency
//
// Every callback of an EventHandler except OnBoot, OnShutdown and OnTick runs
// on the event loop that owns the connection. The Conn methods split in two:
//
//   - Loop-only (call them from a callback of that connection's loop, or from a
//     Runnable given to its EventLoop's Execute): Read, WriteTo, Next, Peek,
//     Discard, InboundBuffered, Write, Writev, ReadFrom, Flush,
//     OutboundBuffered, SendTo, Context, SetContext.
//   - Safe from any goroutine, at any time, also after the connection closed:
//     AsyncWrite, AsyncWritev, Wake, Close, CloseWithCallback, SetDeadline,
//     SetReadDeadline, SetWriteDeadline, LocalAddr, RemoteAddr, EventLoop, Fd,
//     Dup, SetReadBuffer, SetWriteBuffer, SetLinger, SetKeepAlivePeriod,
//     SetKeepAlive, SetNoDelay. The socket-option methods return net.ErrClosed
//     once the connection is closed (they never touch a reused descriptor).
//
// Engine methods (CountConnections, Validate, Stop, Dup, Register) are safe
// from any goroutine at any time, including during start-up and shutdown.
//
// # Platforms
//
// Linux, macOS, FreeBSD, NetBSD, OpenBSD and DragonFly BSD are supported. On
// other platforms (Windows included) the package builds, but Run, Rotate and
// Client.Start return ErrUnsupportedPlatform.
//
// UDP is not supported: Run and Rotate return ErrUnsupportedProtocol for
// udp, udp4 and udp6 addresses.
package gnet

import (
	"context"
	"io"
	"net"
	"time"

	errorx "github.com/pollnet/pollnet/gnet/pkg/errors"
)

// Action is what the engine does after a callback returns.
type Action int

const (
	// None: carry on.
	None Action = iota
	// Close closes the connection (after its pending output is delivered).
	Close
	// Shutdown shuts the whole engine down: Run returns.
	Shutdown
)

// Errors returned by the engine: the values of this module's pkg/errors
// (gnet v2's pkg/errors names and texts), exported here as well so that a
// program can compare with either.
var (
	ErrEmptyEngine              = errorx.ErrEmptyEngine
	ErrEngineShutdown           = errorx.ErrEngineShutdown
	ErrEngineInShutdown         = errorx.ErrEngineInShutdown
	ErrAcceptSocket             = errorx.ErrAcceptSocket
	ErrTooManyEventLoopThreads  = errorx.ErrTooManyEventLoopThreads
	ErrUnsupportedProtocol      = errorx.ErrUnsupportedProtocol
	ErrUnsupportedTCPProtocol   = errorx.ErrUnsupportedTCPProtocol
	ErrUnsupportedUDPProtocol   = errorx.ErrUnsupportedUDPProtocol
	ErrUnsupportedUDSProtocol   = errorx.ErrUnsupportedUDSProtocol
	ErrUnsupportedOp            = errorx.ErrUnsupportedOp
	ErrNegativeSize             = errorx.ErrNegativeSize
	ErrNoIPv4AddressOnInterface = errorx.ErrNoIPv4AddressOnInterface
	ErrInvalidNetworkAddress    = errorx.ErrInvalidNetworkAddress
	ErrInvalidNetConn           = errorx.ErrInvalidNetConn
	ErrNilRunnable              = errorx.ErrNilRunnable
	ErrUnsupportedPlatform      = errorx.ErrUnsupportedPlatform
	ErrOutboundFull             = errorx.ErrOutboundFull
	ErrIdleTimeout              = errorx.ErrIdleTimeout
)

// Reader is the inbound half of a Conn. All its methods are loop-only.
type Reader interface {
	io.Reader
	io.WriterTo

	// Next returns the next n bytes and advances past them. n <= 0 means all
	// buffered bytes. If fewer than n are buffered it returns
	// io.ErrShortBuffer and consumes nothing. The slice is valid until the
	// callback returns.
	Next(n int) (buf []byte, err error)
	// Peek is Next without advancing.
	Peek(n int) (buf []byte, err error)
	// Discard skips n bytes (all of them if n <= 0 or n exceeds what is
	// buffered) and returns how many it skipped.
	Discard(n int) (discarded int, err error)
	// InboundBuffered returns how many bytes can be read right now.
	InboundBuffered() int
}

// Writer is the outbound half of a Conn. Write, ReadFrom, Writev, Flush,
// OutboundBuffered and SendTo are loop-only; AsyncWrite and AsyncWritev are
// safe from any goroutine.
type Writer interface {
	io.Writer
	io.ReaderFrom

	// SendTo is for UDP in gnet v2; here it returns ErrUnsupportedOp.
	SendTo(buf []byte, addr net.Addr) (n int, err error)
	// Writev writes the buffers in order, as one Write of their concatenation.
	Writev(bs [][]byte) (n int, err error)
	// Flush tries to write out pending output now.
	Flush() error
	// OutboundBuffered returns how many bytes wait to be written.
	OutboundBuffered() int
	// AsyncWrite writes buf on the connection's loop, then calls callback (if
	// not nil) on that loop with the outcome. buf must not be modified until
	// the callback runs.
	AsyncWrite(buf []byte, callback AsyncCallback) (err error)
	// AsyncWritev is AsyncWrite for several buffers.
	AsyncWritev(bs [][]byte, callback AsyncCallback) (err error)
}

// AsyncCallback is called on the connection's loop when an asynchronous
// operation finishes; err is its outcome.
type AsyncCallback func(c Conn, err error) error

// Socket gives access to the connection's socket. All methods are safe from
// any goroutine.
type Socket interface {
	// Fd returns the socket descriptor; do not close it.
	Fd() int
	// Dup returns a duplicate of the descriptor, owned by the caller.
	Dup() (int, error)
	// SetReadBuffer sets SO_RCVBUF.
	SetReadBuffer(size int) error
	// SetWriteBuffer sets SO_SNDBUF.
	SetWriteBuffer(size int) error
	// SetLinger sets SO_LINGER (secs < 0 turns it off).
	SetLinger(secs int) error
	// SetKeepAlivePeriod turns TCP keep-alive on with the given period.
	SetKeepAlivePeriod(d time.Duration) error
	// SetKeepAlive sets TCP keep-alive with its idle time, interval and count.
	SetKeepAlive(enabled bool, idle, intvl time.Duration, cnt int) error
	// SetNoDelay sets TCP_NODELAY.
	SetNoDelay(noDelay bool) error
}

// Runnable is a task given to EventLoop.Execute.
type Runnable interface {
	// Run runs the task on the loop.
	Run(ctx context.Context) error
}

// RunnableFunc adapts a function to Runnable.
type RunnableFunc func(ctx context.Context) error

// Run calls fn(ctx).
func (fn RunnableFunc) Run(ctx context.Context) error { return fn(ctx) }

// RegisteredResult is what Register and Enroll deliver on their channel.
type RegisteredResult struct {
	Conn Conn
	Err  error
}

// EventLoop is one event loop. All methods are safe from any goroutine,
// except Close, which is loop-only.
type EventLoop interface {
	// Register dials addr and puts the connection on this loop.
	Register(ctx context.Context, addr net.Addr) (<-chan RegisteredResult, error)
	// Enroll puts an existing connection on this loop (it takes over a
	// duplicate of c's descriptor and closes c).
	Enroll(ctx context.Context, c net.Conn) (<-chan RegisteredResult, error)
	// Execute runs runnable on this loop.
	Execute(ctx context.Context, runnable Runnable) error
	// Schedule is unsupported, as in gnet v2: it returns ErrUnsupportedOp.
	Schedule(ctx context.Context, runnable Runnable, delay time.Duration) error
	// Close closes c now (loop-only). Pending output is still delivered.
	Close(Conn) error
}

// Conn is one connection. See the package documentation for which methods
// are loop-only and which are safe from any goroutine.
type Conn interface {
	Reader
	Writer
	Socket

	// Context returns the user value set by SetContext (loop-only).
	Context() (ctx any)
	// EventLoop returns the loop that owns the connection.
	EventLoop() EventLoop
	// SetContext stores a user value (loop-only).
	SetContext(ctx any)
	// LocalAddr returns the local address.
	LocalAddr() net.Addr
	// RemoteAddr returns the remote address.
	RemoteAddr() net.Addr
	// Wake makes the loop call OnTraffic for this connection, then callback.
	Wake(callback AsyncCallback) error
	// CloseWithCallback closes the connection (after its pending output is
	// delivered) and then calls callback on the loop.
	CloseWithCallback(callback AsyncCallback) error
	// Close closes the connection after its pending output is delivered
	// (flush, then FIN). Input not yet read is dropped. OnClose fires once,
	// when the output is written; the socket then lingers until the peer
	// ends its stream (at most 2 s), so the kernel never resets it.
	Close() error
	// SetDeadline sets both the read and the write deadline.
	SetDeadline(time.Time) error
	// SetReadDeadline: when t passes, the connection is closed and OnClose
	// receives an error wrapping os.ErrDeadlineExceeded. Zero clears it.
	SetReadDeadline(time.Time) error
	// SetWriteDeadline: when t passes while output is still pending, the
	// connection is closed and OnClose receives an error wrapping
	// os.ErrDeadlineExceeded. Zero clears it.
	SetWriteDeadline(time.Time) error
}

type (
	// EventHandler is the set of callbacks the engine calls.
	EventHandler interface {
		// OnBoot fires once when the engine is ready, before any connection.
		// Returning Shutdown makes Run return nil at once.
		OnBoot(eng Engine) (action Action)
		// OnShutdown fires once when the engine starts shutting down, before
		// the connections are closed.
		OnShutdown(eng Engine)
		// OnOpen fires when a connection opens; out is written to it.
		OnOpen(c Conn) (out []byte, action Action)
		// OnClose fires exactly once per opened connection, when it closes.
		// err is nil for a local close, otherwise the cause (for a passed
		// deadline or idle timeout it wraps os.ErrDeadlineExceeded).
		OnClose(c Conn, err error) (action Action)
		// OnTraffic fires when data has arrived (or on Wake).
		OnTraffic(c Conn) (action Action)
		// OnTick fires on its own goroutine when WithTicker(true) is set; it
		// returns the delay until the next tick.
		OnTick() (delay time.Duration, action Action)
	}

	// BuiltinEventEngine implements EventHandler with no-op callbacks; embed
	// it to implement only the callbacks you need.
	BuiltinEventEngine struct{}
)

// OnBoot does nothing.
func (*BuiltinEventEngine) OnBoot(_ Engine) (action Action) { return }

// OnShutdown does nothing.
func (*BuiltinEventEngine) OnShutdown(_ Engine) {}

// OnOpen does nothing.
func (*BuiltinEventEngine) OnOpen(_ Conn) (out []byte, action Action) { return }

// OnClose does nothing.
func (*BuiltinEventEngine) OnClose(_ Conn, _ error) (action Action) { return }

// OnTraffic does nothing.
func (*BuiltinEventEngine) OnTraffic(_ Conn) (action Action) { return }

// OnTick does nothing.
func (*BuiltinEventEngine) OnTick() (delay time.Duration, action Action) { return }

// MaxStreamBufferCap is the default read buffer size of an event loop (and
// the default of WithReadBufferCap / WithWriteBufferCap).
var MaxStreamBufferCap = 64 * 1024
