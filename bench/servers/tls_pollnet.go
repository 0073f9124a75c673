//go:build linux

package main

import "github.com/pollnet/pollnet"

// pollnet.ServeTLS: idle HTTPS/1.1 keep-alive connections hibernate.
func init() {
	registry["tls-pollnet"] = startTLSPollnet
}

func startTLSPollnet(o options) (*started, error) {
	if err := needCert(o); err != nil {
		return nil, err
	}
	l, err := listenPollnet(o)
	if err != nil {
		return nil, err
	}
	h := helloHandler()
	return &started{addr: l.Addr(), stats: pollnetStats(l),
		serve: func() error { return pollnet.ServeTLS(l, h, o.cert, o.key) }}, nil
}
