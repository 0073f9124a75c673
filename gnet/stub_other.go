//go:build !(linux || darwin || dragonfly || freebsd || netbsd || openbsd)

package gnet

import (
	"context"
	"net"
)

// engine is empty where there is no poller: every entry point fails with
// ErrUnsupportedPlatform.
type engine struct{}

func (*engine) validate() error { return ErrUnsupportedPlatform }
func (*engine) countConns() int { return -1 }
func (*engine) register(context.Context) (<-chan RegisteredResult, error) {
	return nil, ErrUnsupportedPlatform
}
func (*engine) dup() (int, error)                            { return -1, ErrUnsupportedPlatform }
func (*engine) dupListener(string, string) (int, error)      { return -1, ErrUnsupportedPlatform }
func (*engine) stop(context.Context) error                   { return ErrUnsupportedPlatform }
func (*engine) startClient() error                           { return ErrUnsupportedPlatform }
func (*engine) stopClient() error                            { return ErrUnsupportedPlatform }
func (*engine) dialClient(string, string, any) (Conn, error) { return nil, ErrUnsupportedPlatform }
func (*engine) enrollClient(net.Conn, any) (Conn, error)     { return nil, ErrUnsupportedPlatform }

func run(EventHandler, []string, []Option) error { return ErrUnsupportedPlatform }

func newClientEngine(EventHandler, []Option) (*engine, error) { return nil, ErrUnsupportedPlatform }
func (*engine) backendInfo() (Backend, error)                 { return "", nil }
