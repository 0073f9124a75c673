//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"context"
	"net"
	"net/http"
	"runtime"
	"sync"
	"weak"
)

// Hibernate lets srv's idle HTTP/1.x keep-alive connections on pollnet
// listeners hibernate. Call it after setting srv's ConnState and
// ConnContext hooks, and before srv.Serve(ln): it wraps them. Connections
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
func Hibernate(srv *http.Server) {
	key := weak.Make(srv)
	if _, done := hibernated.LoadOrStore(key, struct{}{}); done {
		return
	}
	runtime.AddCleanup(srv, func(k weak.Pointer[http.Server]) { hibernated.Delete(k) }, key)
	hooks := &serverHooks{connState: srv.ConnState, connContext: srv.ConnContext}
	hooks.keep = hooks.connState != nil || hooks.connContext != nil
	srv.ConnState = hooks.onState
	if hooks.connContext != nil {
		srv.ConnContext = hooks.onContext
	}
}

// hibernated holds the servers Hibernate has wrapped the hooks of. Its
// keys are weak: a server that is garbage leaves it.
var hibernated sync.Map // weak.Pointer[http.Server] -> struct{}

// serverHooks is a hibernating server's hooks: the user's, and what keeps
// them seeing std's view across parks.
type serverHooks struct {
	connState   func(net.Conn, http.ConnState)
	connContext func(context.Context, net.Conn) context.Context
	keep        bool // park Conns kept (hub.parkKept): the user has hooks
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
