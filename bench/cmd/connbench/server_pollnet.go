//go:build linux && !connbench_nopollnet

package main

import (
	"context"
	"net"
	"net/http"

	"github.com/pollnet/pollnet"
)

func init() {
	rootServers["pollnet-listener"] = startPollnetListener
	rootServers["pollnet-serve"] = startPollnetServe
}

// listenPollnet opens a pollnet listener with the requested grace period.
func listenPollnet(o serverOptions) (*pollnet.Listener, error) {
	lc := pollnet.ListenConfig{IdleGrace: o.grace}
	ln, err := lc.Listen(context.Background(), "tcp", o.addr)
	if err != nil {
		return nil, err
	}
	return ln.(*pollnet.Listener), nil
}

func pollnetStats(l *pollnet.Listener) func() map[string]int64 {
	return func() map[string]int64 {
		s := l.Stats()
		return map[string]int64{
			"accepted": int64(s.Accepted),
			"open":     s.Open,
			"parked":   s.Parked,
			"parks":    int64(s.Parks),
			"wakes":    int64(s.Wakes),
		}
	}
}

// startPollnetListener: plain http.Serve on a pollnet listener (no hibernation).
func startPollnetListener(o serverOptions) (*startedServer, error) {
	l, err := listenPollnet(o)
	if err != nil {
		return nil, err
	}
	h := helloHandler()
	var ln net.Listener = l
	return &startedServer{addr: l.Addr(), stats: pollnetStats(l),
		serve: func() error { return http.Serve(ln, h) }}, nil
}

// startPollnetServe: pollnet.Serve, with idle hibernation.
func startPollnetServe(o serverOptions) (*startedServer, error) {
	l, err := listenPollnet(o)
	if err != nil {
		return nil, err
	}
	h := helloHandler()
	return &startedServer{addr: l.Addr(), stats: pollnetStats(l),
		serve: func() error { return pollnet.Serve(l, h) }}, nil
}
