//go:build linux

package main

import (
	"net"
	"net/http"

	"github.com/pollnet/pollnet"
)

// pollnet's WebSocket echo: gobwas/ws's upgrade on pollnet.Serve, then no
// goroutine while a connection is idle: pollnet.OnReadable runs the echo of
// one message in a new goroutine when the client sends, and arms itself again.
func init() {
	registry["ws-pollnet"] = startWSPollnet
}

func startWSPollnet(o options) (*started, error) {
	l, err := listenPollnet(o)
	if err != nil {
		return nil, err
	}
	var open connCount
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := upgrade(w, r) // nothing buffered above the socket: OnReadable sees every byte
		if err != nil {
			return
		}
		open.n.Add(1)
		if err := waitMessage(conn, &open); err != nil {
			open.n.Add(-1)
			conn.Close()
		}
	})
	stats := func() map[string]int64 {
		m := pollnetStats(l)()
		m["websockets"] = open.n.Load()
		return m
	}
	return &started{addr: l.Addr(), stats: stats, serve: func() error { return pollnet.Serve(l, h) }}, nil
}

// waitMessage arms OnReadable: each wake-up echoes one frame and waits again.
func waitMessage(conn net.Conn, open *connCount) error {
	return pollnet.OnReadable(conn, func() {
		if echoFrame(conn) != nil || waitMessage(conn, open) != nil {
			open.n.Add(-1)
			conn.Close()
		}
	})
}
