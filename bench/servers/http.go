//go:build linux

package main

import (
	"context"
	"net"
	"net/http"
	"strconv"

	"github.com/pollnet/pollnet"
	"github.com/pollnet/pollnet/cmd/connbench/serverproto"
)

// The plain HTTP/1 servers: std's http.Serve, http.Serve on a pollnet
// listener, and pollnet.Serve (hibernation).
func init() {
	registry["std"] = startStd
	registry["pollnet-listener"] = startPollnetListener
	registry["pollnet-serve"] = startPollnetServe
}

// helloHandler is the trivial handler every HTTP server under test serves.
func helloHandler() http.Handler {
	body := []byte(serverproto.Body)
	contentLength := strconv.Itoa(len(body))
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("Content-Length", contentLength)
		_, _ = w.Write(body)
	})
}

func startStd(o options) (*started, error) {
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return nil, err
	}
	h := helloHandler()
	return &started{addr: ln.Addr(), serve: func() error { return http.Serve(ln, h) }}, nil
}

// listenPollnet opens a pollnet listener with the requested grace period.
func listenPollnet(o options) (*pollnet.Listener, error) {
	lc := pollnet.ListenConfig{IdleGrace: o.grace}
	ln, err := lc.Listen(context.Background(), "tcp", o.addr)
	if err != nil {
		return nil, err
	}
	return ln.(*pollnet.Listener), nil
}

// pollnetStats reports a pollnet listener's counters.
func pollnetStats(l *pollnet.Listener) func() map[string]int64 {
	return func() map[string]int64 {
		s := l.Stats()
		return map[string]int64{
			"accepted": int64(s.Accepted),
			"open":     s.Open,
			"parked":   s.Parked,
			"waiting":  s.Waiting,
			"parks":    int64(s.Parks),
			"wakes":    int64(s.Wakes),
		}
	}
}

// startPollnetListener: plain http.Serve on a pollnet listener (no hibernation).
func startPollnetListener(o options) (*started, error) {
	l, err := listenPollnet(o)
	if err != nil {
		return nil, err
	}
	h := helloHandler()
	var ln net.Listener = l
	return &started{addr: l.Addr(), stats: pollnetStats(l), serve: func() error { return http.Serve(ln, h) }}, nil
}

// startPollnetServe: pollnet.Serve, with idle hibernation.
func startPollnetServe(o options) (*started, error) {
	l, err := listenPollnet(o)
	if err != nil {
		return nil, err
	}
	h := helloHandler()
	return &started{addr: l.Addr(), stats: pollnetStats(l), serve: func() error { return pollnet.Serve(l, h) }}, nil
}
