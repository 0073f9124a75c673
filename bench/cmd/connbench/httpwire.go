//go:build linux

package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// The client side of the benchmark speaks just enough HTTP/1.1 to send a GET
// and read a Content-Length response without allocating: the servers under
// test all answer the same small body.

// buildRequest returns the request line and headers sent on every request.
func buildRequest(host string) []byte {
	return []byte("GET / HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: connbench\r\n\r\n")
}

var (
	errNoClose     = errors.New("server asked to close the connection")
	errHeaderLarge = errors.New("response header larger than the read buffer")
)

// responseLength parses a response header block hdr (up to and excluding the
// blank line) and returns the Content-Length of its body. It accepts only a
// 200 response that keeps the connection alive and is framed by Content-Length.
func responseLength(hdr []byte) (int, error) {
	lineEnd := bytes.Index(hdr, []byte("\r\n"))
	status := hdr
	if lineEnd >= 0 {
		status = hdr[:lineEnd]
	}
	// "HTTP/1.1 200 OK"
	if len(status) < 12 || !bytes.HasPrefix(status, []byte("HTTP/1.")) || status[8] != ' ' {
		return 0, fmt.Errorf("bad status line %q", status)
	}
	if string(status[9:12]) != "200" {
		return 0, fmt.Errorf("status %s", status[9:12])
	}
	length := -1
	rest := hdr
	if lineEnd < 0 {
		rest = nil
	} else {
		rest = hdr[lineEnd+2:]
	}
	for len(rest) > 0 {
		var line []byte
		if i := bytes.Index(rest, []byte("\r\n")); i >= 0 {
			line, rest = rest[:i], rest[i+2:]
		} else {
			line, rest = rest, nil
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return 0, fmt.Errorf("bad header line %q", line)
		}
		name := line[:colon]
		value := bytes.TrimSpace(line[colon+1:])
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			n, err := strconv.Atoi(string(value))
			if err != nil || n < 0 {
				return 0, fmt.Errorf("bad Content-Length %q", value)
			}
			length = n
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			return 0, fmt.Errorf("unsupported Transfer-Encoding %q", value)
		case bytes.EqualFold(name, []byte("Connection")):
			if bytes.EqualFold(value, []byte("close")) {
				return 0, errNoClose
			}
		}
	}
	if length < 0 {
		return 0, errors.New("response without Content-Length")
	}
	if bytes.HasPrefix(status, []byte("HTTP/1.0")) {
		return 0, errNoClose // an HTTP/1.0 answer without keep-alive negotiation
	}
	return length, nil
}

// readResponse reads exactly one response from r into buf.
func readResponse(r io.Reader, buf []byte) error {
	n := 0
	for {
		if n == len(buf) {
			return errHeaderLarge
		}
		m, err := r.Read(buf[n:])
		n += m
		if end := bytes.Index(buf[:n], []byte("\r\n\r\n")); end >= 0 {
			length, perr := responseLength(buf[:end])
			if perr != nil {
				return perr
			}
			total := end + 4 + length
			if total > len(buf) {
				return errHeaderLarge
			}
			for n < total && err == nil {
				m, err = r.Read(buf[n:])
				n += m
			}
			if n > total {
				return fmt.Errorf("%d unexpected bytes after the response", n-total)
			}
			if n == total {
				return nil
			}
		}
		if err != nil {
			if err == io.EOF {
				return io.ErrUnexpectedEOF
			}
			return err
		}
	}
}

// roundTrip sends req on c and reads the response into buf, within timeout.
func roundTrip(c net.Conn, req, buf []byte, timeout time.Duration) error {
	if timeout > 0 {
		if err := c.SetDeadline(time.Now().Add(timeout)); err != nil {
			return err
		}
	}
	if _, err := c.Write(req); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if err := readResponse(c, buf); err != nil {
		return fmt.Errorf("read: %w", err)
	}
	return nil
}
