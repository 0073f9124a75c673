//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"runtime"
	"sync"
	"weak"
)

// Hibernate lets srv's idle HTTP/1.x keep-alive connections on pollnet
// listeners hibernate. Call it after setting srv's ConnState, ConnContext
// and BaseContext hooks, and before srv.Serve(ln): it wraps them
// (BaseContext only to remember its context for ServeServerTLS's
// handshakes). Connections
// that cannot hibernate safely (HTTP/2, hijacked, pipelined, not HTTP) are
// served exactly as without it.
//
// The hooks cannot tell a hibernating connection from an idle one: per TCP
// connection ConnState sees one StateNew, StateActive and StateIdle as
// requests come, and one StateClosed, always with the same net.Conn, and
// every request sees the context ConnContext returned for it. When the
// server has either hook, a hibernating connection keeps its *Conn (a few
// hundred bytes more than without hooks; README.md gives the figure).
//
// Calling it again for the same server (ServeServerTLS calls it) does
// nothing.
func Hibernate(srv *http.Server) { hibernate(srv) }

// hibernate is Hibernate; it returns srv's hooks wrapper (the one an
// earlier call made), or nil if the program has since replaced it.
func hibernate(srv *http.Server) *serverHooks {
	key := weak.Make(srv)
	if h, done := hibernated.Load(key); done {
		return h.(weak.Pointer[serverHooks]).Value()
	}
	hooks := &serverHooks{connState: srv.ConnState, connContext: srv.ConnContext}
	if h, done := hibernated.LoadOrStore(key, weak.Make(hooks)); done {
		return h.(weak.Pointer[serverHooks]).Value()
	}
	runtime.AddCleanup(srv, func(k weak.Pointer[http.Server]) { hibernated.Delete(k) }, key)
	hooks.keep = hooks.connState != nil || hooks.connContext != nil
	hooks.baseContext = srv.BaseContext
	srv.ConnState = hooks.onState
	srv.BaseContext = hooks.onBase
	if hooks.connContext != nil {
		srv.ConnContext = hooks.onContext
	}
	return hooks
}

// hibernated holds the servers Hibernate has wrapped the hooks of, and the
// wrappers. Both are weak: the server's ConnState keeps its wrapper alive,
// and a server that is garbage leaves the map.
var hibernated sync.Map // weak.Pointer[http.Server] -> weak.Pointer[serverHooks]

// serverHooks is a hibernating server's hooks: the user's, and what keeps
// them seeing std's view across parks.
type serverHooks struct {
	connState   func(net.Conn, http.ConnState)
	connContext func(context.Context, net.Conn) context.Context
	baseContext func(net.Listener) context.Context
	keep        bool // park Conns kept (hub.parkKept): the user has hooks
}

// onBase is the server's BaseContext hook: the user's, or net/http's
// default. ServeServerTLS's listener keeps it, for the handshakes it runs
// before net/http sees a connection.
func (h *serverHooks) onBase(ln net.Listener) context.Context {
	ctx := context.Background()
	if h.baseContext != nil {
		ctx = h.baseContext(ln) // nil: net/http panics, as without pollnet
	}
	if tl, ok := ln.(*tlsListener); ok {
		tl.base = ctx
	}
	return ctx
}

// onState is the server's ConnState hook. Around a park it hides what
// std would not show: the StateClosed of the park and the StateNew of the
// wake-up of a kept Conn.
func (h *serverHooks) onState(nc net.Conn, state http.ConnState) {
	if v, ok := nc.(*tlsView); ok {
		h.onViewState(v, state)
		return
	}
	c, ok := nc.(*Conn)
	if !ok || c.hub == nil {
		if state == http.StateNew && announcedTLS(nc) {
			return
		}
		if h.connState != nil {
			h.connState(nc, state)
		}
		return
	}
	switch state {
	case http.StateNew:
		if h.keep {
			w := c.waitState()
			w.mu.Lock()
			w.srv = h
			w.mu.Unlock()
		}
		if w := c.wait.Load(); w != nil && w.takeNew() {
			return
		}
	case http.StateClosed:
		if h.keep && c.hub.completeKeptPark(c) {
			return
		}
	}
	if h.connState != nil {
		h.connState(nc, state)
	}
	connStateHook(c, state)
}

// onContext is the server's ConnContext hook: it calls the user's once per
// TCP connection and gives every later wake-up the same context.
func (h *serverHooks) onContext(ctx context.Context, nc net.Conn) context.Context {
	var w *waitState
	switch c := nc.(type) {
	case *tlsView: // the user's hook sees the *tls.Conn
		w, nc = c.c.waitState(), c.tc
	case *Conn:
		if c.hub != nil {
			w = c.waitState()
		}
	case *tls.Conn: // ServeServerTLS's handshake, then net/http for HTTP/2
		if pc, ok := c.NetConn().(*Conn); ok && pc.hub != nil {
			w = pc.waitState()
		}
	}
	if w == nil {
		return h.connContext(ctx, nc)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	x := w.x()
	if x.ctx == nil {
		x.ctx = h.connContext(ctx, nc)
	}
	return x.ctx
}
