package gnetv2

import (
	"context"
	"fmt"
	"time"

	v2 "github.com/panjf2000/gnet/v2"
	"github.com/panjf2000/gnet/v2/pkg/logging"

	pn "github.com/pollnet/pollnet/gnet"
)

// conn is the part of a Conn both engines share with identical signatures.
type conn interface {
	Read([]byte) (int, error)
	Next(int) ([]byte, error)
	Peek(int) ([]byte, error)
	Discard(int) (int, error)
	InboundBuffered() int
	Write([]byte) (int, error)
	OutboundBuffered() int
	Close() error
	SetDeadline(time.Time) error
}

// handler is an engine-neutral EventHandler; nil funcs do nothing.
// Actions are ints: 0 None, 1 Close, 2 Shutdown (same values in both).
type handler struct {
	boot     func() int
	shutdown func()
	open     func(c conn) ([]byte, int)
	traffic  func(c conn) int
	close    func(c conn, err error) int
}

// engine runs a handler on one implementation.
type engine interface {
	name() string
	run(h *handler, protoAddr string, opts ...any) error
	stop(ctx context.Context, protoAddr string) error
	asyncWrite(c conn, b []byte, cb func(err error)) error
	wake(c conn, cb func(err error)) error
	count() int // CountConnections of the last booted engine
}

// engines: pollnet on each of its backends (epoll, io_uring), then gnet v2;
// compare holds every pollnet transcript against gnet v2's.
var engines = []engine{&pnEngine{}, &pnEngine{uring: true}, &v2Engine{}}

// ---- pollnet ----

type pnEngine struct {
	eng   pn.Engine
	uring bool // run with WithIOUring(true)
}

type pnH struct {
	h *handler
	e *pnEngine
}

func (w *pnH) OnBoot(eng pn.Engine) pn.Action {
	w.e.eng = eng
	if w.h.boot != nil {
		return pn.Action(w.h.boot())
	}
	return pn.None
}
func (w *pnH) OnShutdown(pn.Engine) {
	if w.h.shutdown != nil {
		w.h.shutdown()
	}
}
func (w *pnH) OnOpen(c pn.Conn) ([]byte, pn.Action) {
	if w.h.open != nil {
		out, a := w.h.open(c)
		return out, pn.Action(a)
	}
	return nil, pn.None
}
func (w *pnH) OnTraffic(c pn.Conn) pn.Action {
	if w.h.traffic != nil {
		return pn.Action(w.h.traffic(c))
	}
	return pn.None
}
func (w *pnH) OnClose(c pn.Conn, err error) pn.Action {
	if w.h.close != nil {
		return pn.Action(w.h.close(c, err))
	}
	return pn.None
}
func (w *pnH) OnTick() (time.Duration, pn.Action) { return time.Second, pn.None }

func (e *pnEngine) name() string {
	if e.uring {
		return "pollnet-io_uring"
	}
	return "pollnet"
}
func (e *pnEngine) run(h *handler, protoAddr string, _ ...any) error {
	return pn.Run(&pnH{h: h, e: e}, protoAddr, pn.WithIOUring(e.uring))
}

// backendOK reports whether the last booted engine ran on the backend asked
// for (io_uring must not silently fall back to epoll here).
func (e *pnEngine) backendOK() error {
	want := pn.BackendEpoll
	if e.uring {
		want = pn.BackendIOUring
	}
	if got := e.eng.Backend(); got != want {
		return fmt.Errorf("%s ran on %q (%v)", e.name(), got, e.eng.IOUringErr())
	}
	return nil
}
func (*pnEngine) stop(ctx context.Context, protoAddr string) error { return pn.Stop(ctx, protoAddr) }
func (*pnEngine) asyncWrite(c conn, b []byte, cb func(error)) error {
	return c.(pn.Conn).AsyncWrite(b, func(_ pn.Conn, err error) error { cb(err); return nil })
}
func (*pnEngine) wake(c conn, cb func(error)) error {
	return c.(pn.Conn).Wake(func(_ pn.Conn, err error) error { cb(err); return nil })
}
func (e *pnEngine) count() int { return e.eng.CountConnections() }

// ---- gnet v2 ----

type v2Engine struct{ eng v2.Engine }

type v2H struct {
	h *handler
	e *v2Engine
}

func (w *v2H) OnBoot(eng v2.Engine) v2.Action {
	w.e.eng = eng
	if w.h.boot != nil {
		return v2.Action(w.h.boot())
	}
	return v2.None
}
func (w *v2H) OnShutdown(v2.Engine) {
	if w.h.shutdown != nil {
		w.h.shutdown()
	}
}
func (w *v2H) OnOpen(c v2.Conn) ([]byte, v2.Action) {
	if w.h.open != nil {
		out, a := w.h.open(c)
		return out, v2.Action(a)
	}
	return nil, v2.None
}
func (w *v2H) OnTraffic(c v2.Conn) v2.Action {
	if w.h.traffic != nil {
		return v2.Action(w.h.traffic(c))
	}
	return v2.None
}
func (w *v2H) OnClose(c v2.Conn, err error) v2.Action {
	if w.h.close != nil {
		return v2.Action(w.h.close(c, err))
	}
	return v2.None
}
func (w *v2H) OnTick() (time.Duration, v2.Action) { return time.Second, v2.None }

func (*v2Engine) name() string { return "gnetv2" }
func (e *v2Engine) run(h *handler, protoAddr string, _ ...any) error {
	return v2.Run(&v2H{h: h, e: e}, protoAddr, v2.WithLogLevel(logging.FatalLevel))
}
func (*v2Engine) stop(ctx context.Context, protoAddr string) error {
	//lint:ignore SA1019 the global Stop is part of the behaviour compared here
	return v2.Stop(ctx, protoAddr)
}
func (*v2Engine) asyncWrite(c conn, b []byte, cb func(error)) error {
	return c.(v2.Conn).AsyncWrite(b, func(_ v2.Conn, err error) error { cb(err); return nil })
}
func (*v2Engine) wake(c conn, cb func(error)) error {
	return c.(v2.Conn).Wake(func(_ v2.Conn, err error) error { cb(err); return nil })
}
func (e *v2Engine) count() int { return e.eng.CountConnections() }
