package gnet

import (
	"time"

	"github.com/pollnet/pollnet/gnet/pkg/logging"
)

// Option sets one field of Options.
type Option func(opts *Options)

// TCPSocketOpt selects Nagle's algorithm on TCP sockets.
type TCPSocketOpt int

const (
	// TCPNoDelay disables Nagle's algorithm (TCP_NODELAY on); the default.
	TCPNoDelay TCPSocketOpt = iota
	// TCPDelay leaves Nagle's algorithm on.
	TCPDelay
)

// LoadBalancing picks the event loop for a new connection.
type LoadBalancing int

const (
	// RoundRobin assigns loops in turn.
	RoundRobin LoadBalancing = iota
	// LeastConnections picks the loop with the fewest connections.
	LeastConnections
	// SourceAddrHash picks the loop by a hash of the remote address.
	SourceAddrHash
)

// Logger receives the engine's diagnostics (gnet v2's logging.Logger).
type Logger = logging.Logger

// Default backpressure marks (see WithWriteHighWaterMark).
const (
	DefaultWriteHighWaterMark = 1 << 20
	DefaultWriteLowWaterMark  = 256 << 10
)

// Options holds every engine setting. The fields up to EdgeTriggeredIOChunk
// mirror gnet v2's; the ones after it are pollnet's additions.
type Options struct {
	// LB is the load-balancing algorithm.
	LB LoadBalancing
	// ReuseAddr sets SO_REUSEADDR on listeners (TCP listeners always get it,
	// as with Go's net package).
	ReuseAddr bool
	// ReusePort sets SO_REUSEPORT on TCP listeners, so several processes can
	// share a port. Within one engine there is always one listener socket
	// per address (see README: difference table).
	ReusePort bool
	// MulticastInterfaceIndex is accepted for source compatibility (UDP only).
	MulticastInterfaceIndex int
	// BindToDevice binds listeners to a network interface (Linux only).
	BindToDevice string
	// Multicore starts one loop per CPU.
	Multicore bool
	// NumEventLoop sets the number of loops (overrides Multicore).
	NumEventLoop int
	// ReadBufferCap is each loop's read buffer size (default 64 KiB).
	ReadBufferCap int
	// WriteBufferCap is the size of one outbound chunk (default 64 KiB).
	// The outbound buffer is a list of chunks, bounded by the water marks.
	WriteBufferCap int
	// LockOSThread locks each loop to an OS thread.
	LockOSThread bool
	// Ticker turns OnTick on.
	Ticker bool
	// TCPKeepAlive turns TCP keep-alive on with this idle time.
	TCPKeepAlive time.Duration
	// TCPKeepInterval is the keep-alive probe interval (default TCPKeepAlive/5).
	TCPKeepInterval time.Duration
	// TCPKeepCount is the keep-alive probe count (default 5).
	TCPKeepCount int
	// TCPNoDelay: TCPNoDelay (default) or TCPDelay.
	TCPNoDelay TCPSocketOpt
	// SocketRecvBuffer sets SO_RCVBUF on connections.
	SocketRecvBuffer int
	// SocketSendBuffer sets SO_SNDBUF on connections.
	SocketSendBuffer int
	// LogPath is accepted for source compatibility and ignored: use Logger.
	LogPath string
	// LogLevel is accepted for source compatibility and ignored.
	LogLevel logging.Level
	// Logger receives diagnostics; nil means none.
	Logger Logger
	// EdgeTriggeredIO raises the per-event read budget of a connection from
	// one read buffer to EdgeTriggeredIOChunk bytes (the poller is always
	// edge-triggered here; this only changes how much one event may read).
	EdgeTriggeredIO bool
	// EdgeTriggeredIOChunk is that budget (default 1 MiB; rounded up to a
	// power of two). Setting it implies EdgeTriggeredIO.
	EdgeTriggeredIOChunk int

	// IdleTimeout closes a connection that has neither read nor written for
	// this long; OnClose gets ErrIdleTimeout (wraps os.ErrDeadlineExceeded).
	IdleTimeout time.Duration
	// CPUAffinity pins loop i to CPU i mod NumCPU when LockOSThread is also
	// set (Linux; a no-op elsewhere).
	CPUAffinity bool
	// WriteHighWaterMark: when a connection's pending output exceeds it,
	// the engine stops reading from that connection (default 1 MiB).
	WriteHighWaterMark int
	// WriteLowWaterMark: reading resumes once pending output drops to it
	// (default 256 KiB, at most WriteHighWaterMark).
	WriteLowWaterMark int
	// OutboundHardCap: a Write, Writev or AsyncWrite that would take pending
	// output past it fails with ErrOutboundFull and queues nothing. 0 (the
	// default) means no cap, so gnet v2 programs keep working.
	OutboundHardCap int
	// IOUring runs the loops on io_uring instead of epoll (Linux 6.1 or
	// later); where io_uring is unusable the engine falls back to the
	// poller and says so through Engine.Backend and Engine.IOUringErr.
	IOUring bool
}

// WithOptions replaces all options.
func WithOptions(options Options) Option { return func(o *Options) { *o = options } }

// WithMulticore starts one loop per CPU.
func WithMulticore(multicore bool) Option { return func(o *Options) { o.Multicore = multicore } }

// WithLockOSThread locks each loop to an OS thread.
func WithLockOSThread(lock bool) Option { return func(o *Options) { o.LockOSThread = lock } }

// WithReadBufferCap sets each loop's read buffer size.
func WithReadBufferCap(n int) Option { return func(o *Options) { o.ReadBufferCap = n } }

// WithWriteBufferCap sets the outbound chunk size.
func WithWriteBufferCap(n int) Option { return func(o *Options) { o.WriteBufferCap = n } }

// WithLoadBalancing sets the load-balancing algorithm.
func WithLoadBalancing(lb LoadBalancing) Option { return func(o *Options) { o.LB = lb } }

// WithNumEventLoop sets the number of loops.
func WithNumEventLoop(n int) Option { return func(o *Options) { o.NumEventLoop = n } }

// WithReusePort sets SO_REUSEPORT on TCP listeners.
func WithReusePort(reusePort bool) Option { return func(o *Options) { o.ReusePort = reusePort } }

// WithReuseAddr sets SO_REUSEADDR on listeners.
func WithReuseAddr(reuseAddr bool) Option { return func(o *Options) { o.ReuseAddr = reuseAddr } }

// WithTCPKeepAlive turns TCP keep-alive on with this idle time.
func WithTCPKeepAlive(d time.Duration) Option { return func(o *Options) { o.TCPKeepAlive = d } }

// WithTCPKeepInterval sets the keep-alive probe interval.
func WithTCPKeepInterval(d time.Duration) Option {
	return func(o *Options) { o.TCPKeepInterval = d }
}

// WithTCPKeepCount sets the keep-alive probe count.
func WithTCPKeepCount(n int) Option { return func(o *Options) { o.TCPKeepCount = n } }

// WithTCPNoDelay sets TCP_NODELAY (TCPNoDelay, the default) or not (TCPDelay).
func WithTCPNoDelay(v TCPSocketOpt) Option { return func(o *Options) { o.TCPNoDelay = v } }

// WithSocketRecvBuffer sets SO_RCVBUF on connections.
func WithSocketRecvBuffer(n int) Option { return func(o *Options) { o.SocketRecvBuffer = n } }

// WithSocketSendBuffer sets SO_SNDBUF on connections.
func WithSocketSendBuffer(n int) Option { return func(o *Options) { o.SocketSendBuffer = n } }

// WithTicker turns OnTick on.
func WithTicker(ticker bool) Option { return func(o *Options) { o.Ticker = ticker } }

// WithLogPath is accepted for source compatibility; it is ignored.
func WithLogPath(path string) Option { return func(o *Options) { o.LogPath = path } }

// WithLogLevel is accepted for source compatibility; it is ignored.
func WithLogLevel(lvl logging.Level) Option { return func(o *Options) { o.LogLevel = lvl } }

// WithLogger sets the diagnostics logger.
func WithLogger(l Logger) Option { return func(o *Options) { o.Logger = l } }

// WithMulticastInterfaceIndex is accepted for source compatibility (UDP only).
func WithMulticastInterfaceIndex(i int) Option {
	return func(o *Options) { o.MulticastInterfaceIndex = i }
}

// WithBindToDevice binds listeners to a network interface (Linux only).
func WithBindToDevice(iface string) Option { return func(o *Options) { o.BindToDevice = iface } }

// WithEdgeTriggeredIO raises the per-event read budget (see Options).
func WithEdgeTriggeredIO(et bool) Option { return func(o *Options) { o.EdgeTriggeredIO = et } }

// WithEdgeTriggeredIOChunk sets the per-event read budget and implies
// WithEdgeTriggeredIO(true).
func WithEdgeTriggeredIOChunk(n int) Option {
	return func(o *Options) { o.EdgeTriggeredIOChunk = n }
}

// WithIdleTimeout closes connections idle for longer than d.
func WithIdleTimeout(d time.Duration) Option { return func(o *Options) { o.IdleTimeout = d } }

// WithCPUAffinity pins loop i to CPU i mod NumCPU (needs WithLockOSThread;
// Linux only, a no-op elsewhere).
func WithCPUAffinity(on bool) Option { return func(o *Options) { o.CPUAffinity = on } }

// WithWriteHighWaterMark sets the pending-output level above which reading
// from a connection pauses.
func WithWriteHighWaterMark(n int) Option { return func(o *Options) { o.WriteHighWaterMark = n } }

// WithWriteLowWaterMark sets the level at which reading resumes.
func WithWriteLowWaterMark(n int) Option { return func(o *Options) { o.WriteLowWaterMark = n } }

// WithOutboundHardCap sets the hard cap on pending output per connection
// (0: none).
func WithOutboundHardCap(n int) Option { return func(o *Options) { o.OutboundHardCap = n } }

// WithIOUring runs the engine's loops on io_uring (Linux 6.1 or later):
// multishot accept, multishot receives into a buffer ring shared by the
// loop's connections, sends batched into one io_uring_enter per loop turn.
// The API and its semantics do not change. Where io_uring is unavailable
// the engine runs on the poller: check Engine.Backend and Engine.IOUringErr.
func WithIOUring(on bool) Option { return func(o *Options) { o.IOUring = on } }
