package compat

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"testing"
	"time"
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

// SelfSigned makes a fresh ECDSA P-256 certificate valid for one hour.
func SelfSigned() (*TLSPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "pollnet compat test"},
		NotBefore:             time.Now().Add(-time.Minute),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	return &TLSPair{
		Cert:  tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf},
		Roots: roots,
		DER:   der,
	}, nil
}

// ServerConfig returns a server config offering h2 and http/1.1 by ALPN.
func (p *TLSPair) ServerConfig() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{p.Cert}, NextProtos: []string{"h2", "http/1.1"}}
}

// ClientConfig returns a client config that trusts the pair's certificate.
func (p *TLSPair) ClientConfig(nextProtos ...string) *tls.Config {
	return &tls.Config{RootCAs: p.Roots, ServerName: "127.0.0.1", NextProtos: nextProtos}
}
