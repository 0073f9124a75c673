package testcert

import (
	"crypto/tls"
	"crypto/x509"
	"testing"
)

// A loopback certificate verifies for each of its names, written to files
// it loads back as the same pair, and a client certificate issued by a CA
// verifies against that CA for client authentication only.
func TestLoopbackAndIssue(t *testing.T) {
	cert, pool, err := Loopback()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"127.0.0.1", "::1", "localhost"} {
		if _, err := cert.Leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: pool}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	certFile, keyFile, err := WritePEM(t.TempDir(), cert)
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if !loaded.Leaf.Equal(cert.Leaf) {
		t.Error("the PEM files hold another certificate")
	}

	ca, err := Issue("client CA", nil, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	client, err := Issue("client 1", nil, &ca, true)
	if err != nil {
		t.Fatal(err)
	}
	cas := x509.NewCertPool()
	cas.AddCert(ca.Leaf)
	if _, err := client.Leaf.Verify(x509.VerifyOptions{Roots: cas, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("client certificate: %v", err)
	}
	if _, err := client.Leaf.Verify(x509.VerifyOptions{Roots: cas}); err == nil {
		t.Error("a client certificate verified for server authentication")
	}
}
