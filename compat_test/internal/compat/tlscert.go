package compat

import (
	"crypto/tls"
	"crypto/x509"
	"testing"

	"github.com/pollnet/pollnet/internal/testcert"
)

// TLSPair is a throw-away self-signed certificate for 127.0.0.1 and
// localhost: Server holds it, Roots trusts it.
type TLSPair struct {
	Cert  tls.Certificate
	Roots *x509.CertPool
	DER   []byte
}

// NewTLSPair is SelfSigned for tests: it fails t on error.
func NewTLSPair(t testing.TB) *TLSPair {
	t.Helper()
	p, err := SelfSigned()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// SelfSigned makes a fresh ECDSA P-256 certificate valid for a day.
func SelfSigned() (*TLSPair, error) {
	cert, roots, err := testcert.Loopback()
	if err != nil {
		return nil, err
	}
	return &TLSPair{Cert: cert, Roots: roots, DER: cert.Certificate[0]}, nil
}

// ServerConfig returns a server config offering h2 and http/1.1 by ALPN.
func (p *TLSPair) ServerConfig() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{p.Cert}, NextProtos: []string{"h2", "http/1.1"}}
}

// ClientConfig returns a client config that trusts the pair's certificate.
func (p *TLSPair) ClientConfig(nextProtos ...string) *tls.Config {
	return &tls.Config{RootCAs: p.Roots, ServerName: "127.0.0.1", NextProtos: nextProtos}
}
