//go:build linux

package main

import "github.com/pollnet/pollnet/internal/testcert"

// writeCert generates a self-signed ECDSA P-256 certificate for 127.0.0.1,
// valid for a day, and writes it and its key as PEM files into dir. The HTTPS
// servers present it; the client trusts it and nothing else.
func writeCert(dir string) (certFile, keyFile string, err error) {
	cert, _, err := testcert.Loopback()
	if err != nil {
		return "", "", err
	}
	return testcert.WritePEM(dir, cert)
}
