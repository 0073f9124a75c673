//go:build linux

package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/gobwas/ws"
)

// exchangeFunc does one round trip on an idle connection within timeout
// (0: the connection's deadline stands) and checks the answer.
type exchangeFunc func(h *heldConn, timeout time.Duration, buf []byte) error

// protocol is how the client speaks to one kind of server.
type protocol struct {
	name string
	// connect opens connection number i to addr and leaves it idle: after a
	// first request (http, https), the upgrade (ws) or the response header
	// (sse).
	connect func(c *client, addr string, i int, buf []byte) (*heldConn, error)
	// exchange is nil for protocols without a round trip (sse).
	exchange exchangeFunc
}

var protocols = map[string]*protocol{
	"http":  {name: "http", connect: connectHTTP, exchange: exchangeHTTP},
	"https": {name: "https", connect: connectHTTPS, exchange: exchangeHTTP},
	"ws":    {name: "ws", connect: connectWS, exchange: exchangeWS},
	"sse":   {name: "sse", connect: connectSSE},
}

func (c *client) protocol(name string) (*protocol, error) {
	p, ok := protocols[name]
	if !ok {
		return nil, fmt.Errorf("unknown protocol %q (http, https, ws, sse)", name)
	}
	return p, nil
}

// deadline sets conn's deadline timeout from now, if timeout is set.
func deadline(conn net.Conn, timeout time.Duration) error {
	if timeout <= 0 {
		return nil
	}
	return conn.SetDeadline(time.Now().Add(timeout))
}

// closeOnError closes conn when *err is set.
func closeOnError(conn net.Conn, err *error) {
	if *err != nil {
		conn.Close()
	}
}

func connectHTTP(c *client, addr string, i int, buf []byte) (_ *heldConn, err error) {
	conn, err := c.dial(addr, i)
	if err != nil {
		return nil, err
	}
	defer closeOnError(conn, &err)
	h := &heldConn{Conn: conn, id: i, req: buildRequest(addr)}
	return h, exchangeHTTP(h, c.timeout, buf)
}

func exchangeHTTP(h *heldConn, timeout time.Duration, buf []byte) error {
	return roundTrip(h, h.req, buf, timeout)
}

// tlsConfig is the client's TLS configuration: TLS 1.3, HTTP/1.1, the
// servers' certificate as the only root; no session cache, so that every
// connection makes a full handshake.
func (c *client) tlsConfig() (*tls.Config, error) {
	c.tlsOnce.Do(func() {
		pem, err := os.ReadFile(c.caCert)
		if err != nil {
			c.tlsErr = fmt.Errorf("https needs -cacert: %w", err)
			return
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			c.tlsErr = fmt.Errorf("no certificate in %s", c.caCert)
			return
		}
		c.tlsConf = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS13, NextProtos: []string{"http/1.1"}}
	})
	return c.tlsConf, c.tlsErr
}

func connectHTTPS(c *client, addr string, i int, buf []byte) (_ *heldConn, err error) {
	conf, err := c.tlsConfig()
	if err != nil {
		return nil, err
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	raw, err := c.dial(addr, i)
	if err != nil {
		return nil, err
	}
	conf = conf.Clone()
	conf.ServerName = host
	conn := tls.Client(raw, conf)
	defer closeOnError(conn, &err)
	if err := deadline(conn, c.timeout); err != nil {
		return nil, err
	}
	if err := conn.Handshake(); err != nil {
		return nil, fmt.Errorf("tls handshake: %w", err)
	}
	h := &heldConn{Conn: conn, id: i, req: buildRequest(addr)}
	return h, exchangeHTTP(h, c.timeout, buf)
}

// dialTimed dials connection number i with the exchange timeout as its deadline.
func (c *client) dialTimed(addr string, i int) (net.Conn, error) {
	conn, err := c.dial(addr, i)
	if err != nil {
		return nil, err
	}
	if err := deadline(conn, c.timeout); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

func connectWS(c *client, addr string, i int, _ []byte) (_ *heldConn, err error) {
	conn, err := c.dialTimed(addr, i)
	if err != nil {
		return nil, err
	}
	defer closeOnError(conn, &err)
	br, _, err := ws.Dialer{}.Upgrade(conn, &url.URL{Scheme: "ws", Host: addr, Path: "/"})
	if err != nil {
		return nil, fmt.Errorf("websocket upgrade: %w", err)
	}
	if br != nil {
		n := br.Buffered()
		ws.PutReader(br)
		if n > 0 {
			return nil, fmt.Errorf("websocket upgrade: %d unexpected bytes after the 101 response", n)
		}
	}
	return &heldConn{Conn: conn, id: i}, nil
}

// exchangeWS sends one masked text message naming the connection and the
// exchange, and checks that the server echoes exactly it.
func exchangeWS(h *heldConn, timeout time.Duration, buf []byte) error {
	if err := deadline(h, timeout); err != nil {
		return err
	}
	h.seq++
	msg := fmt.Appendf(nil, "connbench conn %d message %d", h.id, h.seq)
	frame, err := ws.CompileFrame(ws.MaskFrame(ws.NewTextFrame(msg)))
	if err != nil {
		return err
	}
	if _, err := h.Write(frame); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	hd, err := ws.ReadHeader(h)
	if err != nil {
		return fmt.Errorf("read: %w", err)
	}
	if hd.OpCode != ws.OpText || !hd.Fin || hd.Masked || hd.Length != int64(len(msg)) || int(hd.Length) > len(buf) {
		return fmt.Errorf("echo: unexpected frame (op %d, fin %v, masked %v, %d bytes)", hd.OpCode, hd.Fin, hd.Masked, hd.Length)
	}
	if _, err := io.ReadFull(h, buf[:hd.Length]); err != nil {
		return fmt.Errorf("read: %w", err)
	}
	if !bytes.Equal(buf[:hd.Length], msg) {
		return fmt.Errorf("echo: got %q, sent %q", buf[:hd.Length], msg)
	}
	return nil
}

// connectSSE subscribes with GET /events and reads the response header: a
// 200 with a chunked text/event-stream body.
func connectSSE(c *client, addr string, i int, buf []byte) (_ *heldConn, err error) {
	conn, err := c.dialTimed(addr, i)
	if err != nil {
		return nil, err
	}
	defer closeOnError(conn, &err)
	req := "GET /events HTTP/1.1\r\nHost: " + addr + "\r\nAccept: text/event-stream\r\nUser-Agent: connbench\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		return nil, fmt.Errorf("write: %w", err)
	}
	n := 0
	for {
		if n == len(buf) {
			return nil, errHeaderLarge
		}
		m, err := conn.Read(buf[n:])
		n += m
		if end := bytes.Index(buf[:n], []byte("\r\n\r\n")); end >= 0 {
			if err := checkEventStreamHeader(string(buf[:end])); err != nil {
				return nil, err
			}
			return &heldConn{Conn: conn, id: i, rest: bytes.Clone(buf[end+4 : n])}, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read: %w", err)
		}
	}
}

// checkEventStreamHeader accepts the header of a 200 response whose body is
// a chunked event stream.
func checkEventStreamHeader(hdr string) error {
	lines := strings.Split(hdr, "\r\n")
	if !strings.HasPrefix(lines[0], "HTTP/1.1 200 ") {
		return fmt.Errorf("sse: status line %q", lines[0])
	}
	var stream, chunked bool
	for _, l := range lines[1:] {
		k, v, _ := strings.Cut(l, ":")
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.ToLower(strings.TrimSpace(v))
		stream = stream || k == "content-type" && strings.HasPrefix(v, "text/event-stream")
		chunked = chunked || k == "transfer-encoding" && v == "chunked"
	}
	if !stream || !chunked {
		return fmt.Errorf("sse: want a chunked text/event-stream, got %q", hdr)
	}
	return nil
}

// readEvents reads, on every held SSE connection, the events with ids 1..k
// and then "end": each exactly once, in this order, each with its data.
func (c *client) readEvents(k int) openResult {
	t := newTally()
	if c.protoName() != "sse" {
		t.add(errors.New("sse: no SSE connections held"))
		return t.result(c.heldCount())
	}
	want := make([]string, 0, k+1)
	for id := 1; id <= k; id++ {
		want = append(want, fmt.Sprint(id))
	}
	want = append(want, "end")
	c.forEach(0, len(c.held), func(i int, _ []byte) {
		h := c.held[i]
		if h == nil {
			return
		}
		err := deadline(h, c.timeout)
		if err == nil {
			r := bufio.NewReader(httputil.NewChunkedReader(bufio.NewReader(io.MultiReader(bytes.NewReader(h.rest), h))))
			h.rest = nil
			err = expectEvents(r, want)
		}
		if err != nil {
			err = fmt.Errorf("connection %d: %w", i, err)
		}
		t.add(err)
	})
	return t.result(c.heldCount())
}

// expectEvents reads events from r and checks that their ids are exactly want.
func expectEvents(r *bufio.Reader, want []string) error {
	for _, id := range want {
		var got, data string
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return fmt.Errorf("waiting for event %s: %w", id, err)
			}
			line = strings.TrimSuffix(line, "\n")
			if line == "" {
				break
			}
			if v, ok := strings.CutPrefix(line, "id: "); ok {
				got = v
			} else if v, ok := strings.CutPrefix(line, "data: "); ok {
				data = v
			}
		}
		if got != id || data != "event "+id {
			return fmt.Errorf("got event id %q data %q, want event %s", got, data, id)
		}
	}
	return nil
}
