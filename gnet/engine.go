//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package gnet

import (
	"context"
	"errors"
	"net"
	"net/url"
	"path"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pollnet/pollnet/gnet/pkg/logging"
)

// engine is one server (Run/Rotate) or client (NewClient) instance.
//
// Invariants: listeners, loops, lb and acc are set before any goroutine
// other than the creator can see the engine (Engine handles are first handed
// out in OnBoot), and never change afterwards, so CountConnections and the
// other Engine methods need no lock. done is closed only after every
// goroutine the engine started has returned and every descriptor it owned is
// closed.
type engine struct {
	opts      *Options
	handler   EventHandler
	listeners []*listener
	loops     []*eventloop
	lb        loadBalancer
	acc       *acceptor // nil without stream listeners
	isClient  bool
	backend   Backend // what the loops run on (completion.go)
	ringErr   error   // why not on io_uring, when asked for

	reqOnce  sync.Once
	req      chan struct{}  // closed when a shutdown is requested
	done     chan struct{}  // closed when the engine has fully stopped
	stopped  atomic.Bool    // set just before done is closed
	started  atomic.Bool    // the loops run (OnBoot has returned)
	wg       sync.WaitGroup // loops, acceptor, ticker
	errMu    sync.Mutex
	fatalErr error
}

func newEngine(h EventHandler, o *Options) *engine {
	return &engine{opts: o, handler: h, req: make(chan struct{}), done: make(chan struct{})}
}

// requestShutdown asks Run (or Client.Stop) to shut the engine down. It is
// idempotent and safe from any goroutine, including the loops.
func (eng *engine) requestShutdown() { eng.reqOnce.Do(func() { close(eng.req) }) }

// fail records the first fatal error and requests a shutdown.
func (eng *engine) fail(err error) {
	eng.errMu.Lock()
	if eng.fatalErr == nil {
		eng.fatalErr = err
	}
	eng.errMu.Unlock()
	eng.logf("error", "gnet: engine stopping: %v", err)
	eng.requestShutdown()
}

func (eng *engine) logf(level, format string, args ...any) {
	l := eng.opts.Logger
	if l == nil {
		return
	}
	switch level {
	case "debug":
		l.Debugf(format, args...)
	case "warn":
		l.Warnf(format, args...)
	default:
		l.Errorf(format, args...)
	}
}

// validate is Engine.Validate, as gnet v2 defines it: an engine without
// listeners (a client's) is empty.
func (eng *engine) validate() error {
	if len(eng.listeners) == 0 {
		return ErrEmptyEngine
	}
	if eng.stopped.Load() {
		return ErrEngineInShutdown
	}
	return nil
}

func (eng *engine) countConns() (n int) {
	for _, l := range eng.loops {
		n += int(l.count.Load())
	}
	return n
}

func (eng *engine) dup() (int, error) {
	if len(eng.listeners) != 1 {
		return -1, ErrUnsupportedOp
	}
	return eng.listeners[0].dup()
}

func (eng *engine) dupListener(network, addr string) (int, error) {
	for _, ln := range eng.listeners {
		if ln.matches(network, addr) {
			return ln.dup()
		}
	}
	return -1, ErrInvalidNetworkAddress
}

func (eng *engine) stop(ctx context.Context) error {
	eng.requestShutdown()
	select {
	case <-eng.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// register is Engine.Register. As in gnet v2 there are no loops to put a
// connection on until OnBoot has returned: ErrEmptyEngine before.
func (eng *engine) register(ctx context.Context) (<-chan RegisteredResult, error) {
	if !eng.started.Load() {
		return nil, ErrEmptyEngine
	}
	if c, ok := FromNetConnContext(ctx); ok {
		return eng.lb.next(c.RemoteAddr()).Enroll(ctx, c)
	}
	if a, ok := FromNetAddrContext(ctx); ok {
		return eng.lb.next(a).Register(ctx, a)
	}
	return nil, ErrInvalidNetworkAddress
}

func numLoops(o *Options) int {
	n := 1
	if o.Multicore {
		n = runtime.NumCPU()
	}
	if o.NumEventLoop > 0 {
		n = o.NumEventLoop
	}
	return min(n, 1<<16)
}

func (eng *engine) closeLoops() {
	for _, l := range eng.loops {
		// A loop that never ran (OnBoot returned Shutdown, or start-up
		// failed) has not exited: its exit closes the task queue (tasks
		// posted meanwhile run and see the shutdown) before the poller's
		// descriptors go. After run, exit has nothing left to do.
		l.stopReq.Store(true)
		l.exit()
		l.closeBackend()
	}
}

// startLoops starts the loop goroutines, the acceptor and the ticker.
func (eng *engine) startLoops() {
	eng.started.Store(true)
	for _, l := range eng.loops {
		eng.wg.Add(1)
		go func() {
			defer eng.wg.Done()
			l.run()
		}()
	}
	if eng.acc != nil {
		eng.wg.Add(1)
		go func() {
			defer eng.wg.Done()
			eng.acc.run()
		}()
	}
	if eng.opts.Ticker {
		eng.wg.Add(1)
		go func() {
			defer eng.wg.Done()
			eng.ticker()
		}()
	}
}

// ticker runs OnTick on its own goroutine, as gnet v2 does, with one
// time.Timer for the whole engine.
func (eng *engine) ticker() {
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		delay, action := eng.handler.OnTick()
		if action == Shutdown {
			eng.requestShutdown()
		}
		t.Reset(delay)
		select {
		case <-eng.req:
			return
		case <-t.C:
		}
	}
}

// shutdownLoops stops the acceptor and every loop (each closes its
// connections, firing OnClose), waits for all engine goroutines, and closes
// the pollers and listeners.
func (eng *engine) shutdownLoops() {
	if eng.acc != nil {
		eng.acc.stop()
	}
	for _, l := range eng.loops {
		l.requestStop()
	}
	eng.wg.Wait()
	eng.release()
}

// release closes what the engine owns once no goroutine of it runs: the
// loops' pollers (after their exit), the acceptor's poller, the listeners.
func (eng *engine) release() {
	eng.closeLoops()
	if eng.acc != nil {
		eng.acc.close()
	}
	for _, ln := range eng.listeners {
		ln.close()
	}
}

// markDone records that the engine has stopped and returns the error that
// stopped it, if any.
func (eng *engine) markDone() error {
	eng.stopped.Store(true)
	close(eng.done)
	logging.Cleanup()
	eng.errMu.Lock()
	defer eng.errMu.Unlock()
	return eng.fatalErr
}

// setupLogger picks the engine's logger as gnet v2 does (WithLogger, else a
// file logger for WithLogPath, else the package default) and installs it as
// pkg/logging's default.
func (o *Options) setupLogger() {
	if o.Logger != nil {
		logging.SetDefaultLoggerAndFlusher(o.Logger, nil)
		return
	}
	logger, flusher := logging.GetDefaultLogger(), logging.GetDefaultFlusher()
	if o.LogPath != "" {
		if l, f, err := logging.CreateLoggerAsLocalFile(o.LogPath, o.LogLevel); err == nil {
			logger, flusher = l, f
		}
	}
	o.Logger = logger
	logging.SetDefaultLoggerAndFlusher(logger, flusher)
}

func parseProtoAddr(protoAddr string) (network, addr string, err error) {
	u, err := url.Parse(strings.ReplaceAll(protoAddr, "%", "%25"))
	if err != nil {
		return "", "", err
	}
	switch u.Scheme {
	case "":
		return "", "", ErrInvalidNetworkAddress
	case "tcp", "tcp4", "tcp6", "udp", "udp4", "udp6":
		if u.Host == "" || u.Path != "" {
			return "", "", ErrInvalidNetworkAddress
		}
		return u.Scheme, u.Host, nil
	case "unix":
		p := path.Join(u.Host, u.Path)
		if p == "" {
			return "", "", ErrInvalidNetworkAddress
		}
		return "unix", p, nil
	default:
		return "", "", ErrUnsupportedProtocol
	}
}

// openListeners opens the listeners of addrs (all or none).
func (eng *engine) openListeners(addrs []string) error {
	n := numLoops(eng.opts)
	for _, a := range addrs {
		network, addr, err := parseProtoAddr(a)
		if err == nil {
			var ln *listener
			if ln, err = openListener(network, addr, eng.opts, n); err == nil {
				eng.listeners = append(eng.listeners, ln)
				continue
			}
		}
		for _, ln := range eng.listeners {
			ln.close()
		}
		eng.listeners = nil
		return err
	}
	return nil
}

func run(h EventHandler, addrs []string, opts []Option) error {
	o := loadOptions(opts...)
	o.normalize()
	o.setupLogger()
	if o.LockOSThread && o.NumEventLoop > 10000 {
		return ErrTooManyEventLoopThreads
	}
	eng := newEngine(h, o)
	if err := eng.openListeners(addrs); err != nil {
		return err
	}
	if err := eng.makeLoops(); err != nil {
		eng.release()
		return err
	}
	acc, err := newAcceptor(eng)
	if err != nil {
		eng.release()
		return err
	}
	eng.acc = acc
	e := Engine{eng}
	// Registered before OnBoot, so Stop(ctx, addr) works from OnBoot on.
	for _, a := range addrs {
		engines.Store(a, eng)
	}
	defer func() {
		for _, a := range addrs {
			engines.CompareAndDelete(a, eng)
		}
	}()
	if h.OnBoot(e) == Shutdown {
		eng.release()
		eng.markDone()
		return nil
	}
	eng.startLoops()
	<-eng.req
	eng.settle()
	h.OnShutdown(e)
	eng.shutdownLoops()
	return eng.markDone()
}

// settle waits until every loop has finished what it was doing when the
// shutdown was requested (each runs a no-op task), so that OnShutdown sees
// the effects of every callback that ran before the request, as it does in
// gnet v2, whose loop returns before OnShutdown when a callback asks for the
// shutdown.
func (eng *engine) settle() {
	var wg sync.WaitGroup
	for _, l := range eng.loops {
		wg.Add(1)
		if l.post(wg.Done) != nil {
			wg.Done()
		}
	}
	wg.Wait()
}

// ---- client side ----

func newClientEngine(h EventHandler, opts []Option) (*engine, error) {
	o := loadOptions(opts...)
	o.normalize()
	o.setupLogger()
	eng := newEngine(h, o)
	eng.isClient = true
	return eng, nil
}

var errClientState = errors.New("gnet: client already started or stopped")

func (eng *engine) startClient() error {
	if eng.started.Load() || eng.stopped.Load() {
		return errClientState
	}
	if err := eng.makeLoops(); err != nil {
		return err
	}
	if eng.handler.OnBoot(Engine{eng}) == Shutdown {
		eng.release()
		eng.markDone()
		return nil
	}
	eng.startLoops()
	return nil
}

func (eng *engine) stopClient() error {
	if !eng.started.Load() {
		return errClientState
	}
	if eng.stopped.Load() {
		return ErrEngineInShutdown
	}
	eng.requestShutdown()
	eng.settle()
	eng.handler.OnShutdown(Engine{eng})
	eng.shutdownLoops()
	return eng.markDone()
}

// clientReady reports why the client cannot take a connection, if it cannot.
func (eng *engine) clientReady() error {
	switch {
	case eng.stopped.Load():
		return ErrEngineInShutdown
	case !eng.started.Load():
		return errors.New("gnet: client not started")
	}
	return nil
}

func (eng *engine) dialClient(network, address string, ctx any) (Conn, error) {
	if err := eng.clientReady(); err != nil {
		return nil, err
	}
	nc, err := net.Dial(network, address)
	if err != nil {
		return nil, err
	}
	return eng.enrollClient(nc, ctx)
}

func (eng *engine) enrollClient(nc net.Conn, ctx any) (Conn, error) {
	if nc == nil {
		return nil, ErrInvalidNetConn
	}
	if err := eng.clientReady(); err != nil {
		nc.Close()
		return nil, err
	}
	l := eng.lb.next(nc.RemoteAddr())
	return l.enrollSync(nc, ctx)
}
