package gnet

import (
	"context"
	"net"
)

// Context keys are distinct unexported types so no other package can collide.
type (
	userCtxKey struct{}
	netConnKey struct{}
	netAddrKey struct{}
)

// NewContext returns ctx carrying v; Register and Enroll hand v to the new
// Conn as its Context().
func NewContext(ctx context.Context, v any) context.Context {
	return context.WithValue(ctx, userCtxKey{}, v)
}

// FromContext returns the value stored by NewContext, or nil.
func FromContext(ctx context.Context) any {
	if ctx == nil {
		return nil
	}
	return ctx.Value(userCtxKey{})
}

// NewNetConnContext returns ctx carrying c, for Engine.Register.
func NewNetConnContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, netConnKey{}, c)
}

// FromNetConnContext returns the net.Conn stored by NewNetConnContext.
func FromNetConnContext(ctx context.Context) (net.Conn, bool) {
	c, ok := ctx.Value(netConnKey{}).(net.Conn)
	return c, ok
}

// NewNetAddrContext returns ctx carrying a, for Engine.Register.
func NewNetAddrContext(ctx context.Context, a net.Addr) context.Context {
	return context.WithValue(ctx, netAddrKey{}, a)
}

// FromNetAddrContext returns the net.Addr stored by NewNetAddrContext.
func FromNetAddrContext(ctx context.Context) (net.Addr, bool) {
	a, ok := ctx.Value(netAddrKey{}).(net.Addr)
	return a, ok
}
