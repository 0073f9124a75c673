//go:build linux

package main

import (
	"errors"
	"net"
	"net/http"
)

// HTTPS keep-alive: std's http.ServeTLS with the certificate connbench
// generates for the run (ECDSA P-256), serving the hello handler.
func init() {
	registry["tls-std"] = startTLSStd
}

func needCert(o options) error {
	if o.cert == "" || o.key == "" {
		return errors.New("-cert and -key are required")
	}
	return nil
}

func startTLSStd(o options) (*started, error) {
	if err := needCert(o); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return nil, err
	}
	h := helloHandler()
	return &started{addr: ln.Addr(), serve: func() error { return http.ServeTLS(ln, h, o.cert, o.key) }}, nil
}
