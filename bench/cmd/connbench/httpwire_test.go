//go:build linux

package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"testing/iotest"
)

const okResponse = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\ncontent-length: 13\r\nDate: x\r\n\r\nHello, World!"

func TestReadResponse(t *testing.T) {
	buf := make([]byte, 4096)
	if err := readResponse(strings.NewReader(okResponse), buf); err != nil {
		t.Fatal(err)
	}
	// One byte at a time.
	if err := readResponse(iotest.OneByteReader(strings.NewReader(okResponse)), buf); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		resp string
		want string
	}{
		"status":   {strings.Replace(okResponse, "200 OK", "404 Not Found", 1), "status 404"},
		"chunked":  {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nd\r\nHello, World!\r\n0\r\n\r\n", "Transfer-Encoding"},
		"close":    {"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", "close"},
		"nolength": {"HTTP/1.1 200 OK\r\nX: y\r\n\r\n", "without Content-Length"},
		"extra":    {okResponse + "HTTP", "unexpected bytes"},
		"short":    {okResponse[:len(okResponse)-2], "unexpected EOF"},
		"garbage":  {"SSH-2.0-OpenSSH\r\n\r\n", "bad status line"},
		"http10":   {"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", "close"},
	} {
		err := readResponse(strings.NewReader(tc.resp), buf)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", name, err, tc.want)
		}
	}
	if err := readResponse(strings.NewReader(okResponse), make([]byte, 20)); !errors.Is(err, errHeaderLarge) {
		t.Errorf("small buffer: %v", err)
	}
}

func TestBuildRequest(t *testing.T) {
	r := buildRequest("127.0.0.1:80")
	if !bytes.HasPrefix(r, []byte("GET / HTTP/1.1\r\nHost: 127.0.0.1:80\r\n")) || !bytes.HasSuffix(r, []byte("\r\n\r\n")) {
		t.Errorf("%q", r)
	}
}
