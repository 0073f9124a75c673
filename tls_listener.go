//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"context"
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// serveTLSPolled is ServeServerTLS on a pollnet Listener; handled is false
// for any other listener.
func serveTLSPolled(srv *http.Server, ln net.Listener, certFile, keyFile string) (handled bool, err error) {
	pl, ok := ln.(*Listener)
	if !ok || !pl.hub.hibernates() {
		return false, nil
	}
	config, err := serverTLSConfig(srv, certFile, keyFile)
	if err != nil {
		return true, err
	}
	return true, srv.Serve(newTLSListener(pl, srv, config, hibernate(srv)))
}

// tlsListener is the listener net/http serves under ServeServerTLS. It
// hands out connections whose TLS handshake is done:
//
//	new     accepted from the pollnet Listener, handshaken in a goroutine of
//	        its own, then queued on the Listener's hub like a woken
//	        connection (hub.push): a slow handshake never holds up Accept.
//	woken   an HTTP/1.x connection that hibernated (tlsView) and whose next
//	        request has come, queued by the hub.
//
// Both come out of the Listener's Accept as the *Conn under the TLS
// connection, which carries its tlsView (waitState.keeper); Accept hands
// net/http the view, or for HTTP/2 the *tls.Conn itself.
type tlsListener struct {
	ln      *Listener
	srv     *http.Server
	hooks   *serverHooks    // srv's (Hibernate); nil if the program replaced them
	base    context.Context // what srv.BaseContext returned (serverHooks.onBase) before the first Accept
	config  *tls.Config
	timeout time.Duration // of a handshake

	mu          sync.Mutex
	handshaking map[*pendingTLS]struct{} // closed by Close
	closed      bool
}

// pendingTLS is a new connection until its handshake ends. It waits for
// its first bytes in OnReadable (no goroutine), then the handshake runs in
// a goroutine of its own.
type pendingTLS struct {
	c        *Conn
	tc       *tls.Conn
	ctx      context.Context // the handshake's (connContext)
	announce bool            // ConnState saw its StateNew
	started  atomic.Bool     // taken by the handshake, or by Close
}

func newTLSListener(ln *Listener, srv *http.Server, config *tls.Config, hooks *serverHooks) *tlsListener {
	return &tlsListener{
		ln:          ln,
		srv:         srv,
		hooks:       hooks,
		config:      config,
		timeout:     tlsHandshakeTimeout(srv),
		handshaking: map[*pendingTLS]struct{}{},
	}
}

// Accept returns the next connection whose handshake is done.
func (l *tlsListener) Accept() (net.Conn, error) {
	for {
		nc, err := l.ln.Accept()
		if err != nil {
			return nil, err
		}
		c := nc.(*Conn)
		if v := tlsViewOf(c); v != nil {
			return v.handOut(), nil
		}
		l.startHandshake(c)
	}
}

// Close closes the pollnet Listener (its parked and queued connections
// too) and the connections still in their handshake. One still waiting for
// its first bytes is closed here (its OnReadable never fires); one whose
// handshake runs fails it and ends it there.
func (l *tlsListener) Close() error {
	l.mu.Lock()
	l.closed = true
	pending := l.handshaking
	l.handshaking = nil
	l.mu.Unlock()
	err := l.ln.Close()
	for p := range pending {
		if p.started.CompareAndSwap(false, true) {
			l.abandon(p)
		} else {
			p.c.Close()
		}
	}
	return err
}

// abandon closes a new connection whose handshake never started.
func (l *tlsListener) abandon(p *pendingTLS) {
	p.tc.Close()
	if p.announce {
		l.hooks.connState(p.tc, http.StateClosed)
	}
}

// Addr returns the listener's network address.
func (l *tlsListener) Addr() net.Addr { return l.ln.Addr() }

// startHandshake begins a new connection's life as net/http's accept loop
// does (ConnContext, then StateNew, on the goroutine that calls Accept),
// bounds its handshake and waits, without a goroutine, for its first
// bytes: until the timeout, a client that connects and sends nothing costs
// its socket, its *Conn and an unstarted *tls.Conn, not a goroutine.
func (l *tlsListener) startHandshake(c *Conn) {
	p := &pendingTLS{c: c, tc: tls.Server(c, l.config)}
	p.ctx = l.connContext(c, p.tc)
	if l.hooks != nil && l.hooks.connState != nil {
		p.announce = true
		l.hooks.connState(p.tc, http.StateNew)
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		l.abandon(p)
		return
	}
	l.handshaking[p] = struct{}{}
	l.mu.Unlock()
	c.SetDeadline(time.Now().Add(l.timeout))
	if err := OnReadable(c, func() { l.handshake(p) }); err != nil {
		go l.handshake(p) // its Read reports what OnReadable met
	}
}

// handshake runs a new connection's TLS handshake, as net/http's conn.serve
// does, and queues it for Accept. ConnState sees what std shows: StateNew
// before the handshake (startHandshake) and, if it fails, StateClosed after
// the Close; the StateNew that net/http reports once it accepts the
// connection is not shown again (tlsView.announced).
func (l *tlsListener) handshake(p *pendingTLS) {
	if !p.started.CompareAndSwap(false, true) {
		return // Close took it
	}
	c, tc := p.c, p.tc
	err := tc.HandshakeContext(p.ctx)

	l.mu.Lock()
	delete(l.handshaking, p)
	closed := l.closed
	l.mu.Unlock()
	if err != nil {
		if !closed {
			l.handshakeFailed(c, err)
		}
		tc.Close()
		if p.announce {
			l.hooks.connState(tc, http.StateClosed)
		}
		return
	}
	c.SetDeadline(time.Time{})
	v := newTLSView(tc, c)
	if p.announce {
		v.hooks, v.announced = l.hooks, true // closed before net/http takes it: ConnState hears (closeKept)
	}
	c.hub.push(c) // after Close, push closes it
}

// connContext is the context net/http gives a connection's handshake: the
// server's base context, ServerContextKey, what ConnContext returns (called
// here, first, as std calls it before StateNew; net/http's own call later
// gets the same context, serverHooks.onContext), LocalAddrContextKey.
func (l *tlsListener) connContext(c *Conn, tc *tls.Conn) context.Context {
	ctx := l.base
	if ctx == nil { // the program replaced the hooks Hibernate installed
		ctx = context.Background()
	}
	ctx = context.WithValue(ctx, http.ServerContextKey, l.srv)
	if h := l.hooks; h != nil && h.connContext != nil {
		if ctx = h.onContext(ctx, tc); ctx == nil {
			panic("ConnContext returned nil") // as net/http
		}
	}
	return context.WithValue(ctx, http.LocalAddrContextKey, c.LocalAddr())
}

// handshakeFailed answers and logs a failed handshake as net/http does.
func (l *tlsListener) handshakeFailed(c *Conn, err error) {
	reason := err.Error()
	if re, ok := err.(tls.RecordHeaderError); ok && re.Conn != nil && looksLikeHTTP(re.RecordHeader) {
		io.WriteString(re.Conn, "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n")
		re.Conn.Close()
		reason = "client sent an HTTP request to an HTTPS server"
	}
	logf(l.srv, "http: TLS handshake error from %s: %v", c.RemoteAddr(), reason)
}

// logf logs through srv.ErrorLog, or the log package's logger, as net/http.
func logf(srv *http.Server, format string, args ...any) {
	if srv.ErrorLog != nil {
		srv.ErrorLog.Printf(format, args...)
	} else {
		log.Printf(format, args...)
	}
}
