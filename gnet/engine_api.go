package gnet

import (
	"context"
	"net"
	"sync"
)

// Engine is a handle on a running engine, given to OnBoot and OnShutdown.
// Its methods are safe from any goroutine at any time, also during start-up
// and shutdown.
type Engine struct {
	eng *engine
}

// Validate returns nil while the engine runs, ErrEmptyEngine for a zero
// Engine, and ErrEngineInShutdown once it has stopped.
func (e Engine) Validate() error {
	if e.eng == nil {
		return ErrEmptyEngine
	}
	return e.eng.validate()
}

// CountConnections returns the number of open connections, or -1 if the
// engine is not valid (see Validate).
func (e Engine) CountConnections() int {
	if e.Validate() != nil {
		return -1
	}
	return e.eng.countConns()
}

// Register puts a connection on one of the engine's loops (chosen by the
// load balancer): the net.Conn from NewNetConnContext, or a connection dialed
// to the address from NewNetAddrContext. The result arrives on the channel.
func (e Engine) Register(ctx context.Context) (<-chan RegisteredResult, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	return e.eng.register(ctx)
}

// Dup returns a duplicate of the listener's descriptor. It fails with
// ErrUnsupportedOp when the engine has more than one listener.
func (e Engine) Dup() (int, error) {
	if err := e.Validate(); err != nil {
		return -1, err
	}
	return e.eng.dup()
}

// DupListener returns a duplicate of the descriptor of the listener on
// network and addr (as given to Rotate, without the scheme).
func (e Engine) DupListener(network, addr string) (int, error) {
	if err := e.Validate(); err != nil {
		return -1, err
	}
	return e.eng.dupListener(network, addr)
}

// Stop shuts the engine down and waits until it has stopped or ctx is done.
// Do not call it from a loop callback (it would wait for its own loop):
// return Shutdown there instead.
func (e Engine) Stop(ctx context.Context) error {
	if err := e.Validate(); err != nil {
		return err
	}
	return e.eng.stop(ctx)
}

// Run starts an engine serving protoAddr ("tcp://:9000", "tcp4://...",
// "tcp6://...", "unix:///path") and blocks until it stops. It returns nil
// after Stop, Engine.Stop or a Shutdown action, or the error that stopped it.
func Run(eventHandler EventHandler, protoAddr string, opts ...Option) error {
	return run(eventHandler, []string{protoAddr}, opts)
}

// Rotate is Run for several addresses served by one engine.
func Rotate(eventHandler EventHandler, addrs []string, opts ...Option) error {
	return run(eventHandler, addrs, opts)
}

// engines maps a protoAddr given to Run or Rotate to its running engine.
var engines sync.Map

// Stop stops the engine serving protoAddr and waits until it has stopped or
// ctx is done. It returns ErrEngineInShutdown if no engine serves protoAddr.
func Stop(ctx context.Context, protoAddr string) error {
	v, ok := engines.Load(protoAddr)
	if !ok {
		return ErrEngineInShutdown
	}
	eng := v.(*engine)
	if eng.validate() != nil {
		return ErrEngineInShutdown
	}
	return eng.stop(ctx)
}

// Client runs event loops for outbound connections (Dial, Enroll).
type Client struct {
	eng *engine
}

// NewClient creates a client; call Start before Dial.
func NewClient(eh EventHandler, opts ...Option) (*Client, error) {
	eng, err := newClientEngine(eh, opts)
	if err != nil {
		return nil, err
	}
	return &Client{eng: eng}, nil
}

// Start starts the client's loops and calls OnBoot.
func (cli *Client) Start() error { return cli.eng.startClient() }

// Stop calls OnShutdown, closes every connection (OnClose fires for each)
// and stops the loops.
func (cli *Client) Stop() error { return cli.eng.stopClient() }

// Dial connects to address and puts the connection on a loop; OnOpen has
// fired when it returns.
func (cli *Client) Dial(network, address string) (Conn, error) {
	return cli.DialContext(network, address, nil)
}

// DialContext is Dial with a user value for the Conn's Context.
func (cli *Client) DialContext(network, address string, ctx any) (Conn, error) {
	return cli.eng.dialClient(network, address, ctx)
}

// Enroll takes over an existing connection (a duplicate of its descriptor;
// c itself is closed) and puts it on a loop.
func (cli *Client) Enroll(c net.Conn) (Conn, error) { return cli.EnrollContext(c, nil) }

// EnrollContext is Enroll with a user value for the Conn's Context.
func (cli *Client) EnrollContext(c net.Conn, ctx any) (Conn, error) {
	return cli.eng.enrollClient(c, ctx)
}
