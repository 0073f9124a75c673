//go:build linux

package main

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/pollnet/pollnet/internal/testcert"
)

// start starts a registered server on a loopback port; it serves until the
// test binary exits.
func start(t *testing.T, name string, o options) *started {
	t.Helper()
	o.addr = "127.0.0.1:0"
	s, err := registry[name](o)
	if err != nil {
		t.Fatal(err)
	}
	go s.serve()
	return s
}

func TestHTTPServers(t *testing.T) {
	for _, name := range []string{"std", "pollnet-listener", "pollnet-serve"} {
		s := start(t, name, options{})
		res, err := http.Get("http://" + s.addr.String() + "/")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if string(body) != "Hello, World!" {
			t.Errorf("%s: body %q", name, body)
		}
	}
}

func TestWebSocketServers(t *testing.T) {
	for _, name := range []string{"ws-gobwas", "ws-gorilla", "ws-pollnet"} {
		s := start(t, name, options{})
		conn, _, _, err := ws.Dial(t.Context(), "ws://"+s.addr.String()+"/")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, msg := range []string{"one", "two, after the first woke the connection"} {
			if err := wsutil.WriteClientText(conn, []byte(msg)); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			got, err := wsutil.ReadServerText(conn)
			if err != nil || string(got) != msg {
				t.Errorf("%s: echo %q, %v; want %q", name, got, err, msg)
			}
		}
		conn.Close()
	}
}

// subscribe opens an SSE stream and reads its response header.
func subscribe(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(conn, "GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil || res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" ||
		len(res.TransferEncoding) != 1 || res.TransferEncoding[0] != "chunked" {
		t.Fatalf("subscribe: %v %+v", err, res)
	}
	return conn, br
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSSEServers(t *testing.T) {
	for _, name := range []string{"sse-std", "sse-pollnet"} {
		s := start(t, name, options{broadcastLimit: 10 * time.Second})
		a, abr := subscribe(t, s.addr.String())
		b, _ := subscribe(t, s.addr.String())
		waitFor(t, name+" subscribers", func() bool { return s.stats()["subscribers"] == 2 })
		if reply := s.commands("broadcast 7"); !strings.HasPrefix(reply, "sent=2 failed=0 ") {
			t.Errorf("%s: broadcast: %q", name, reply)
		}
		// The chunk "id: 7\ndata: event 7\n\n", chunked.
		_ = a.SetReadDeadline(time.Now().Add(5 * time.Second))
		size, _ := abr.ReadString('\n')
		event := make([]byte, len("id: 7\ndata: event 7\n\n")+2)
		if _, err := io.ReadFull(abr, event); err != nil || size != "15\r\n" || string(event) != "id: 7\ndata: event 7\n\n\r\n" {
			t.Errorf("%s: chunk %q %q, %v", name, size, event, err)
		}
		// A subscriber that goes away is dropped.
		b.Close()
		waitFor(t, name+" drop", func() bool { return s.stats()["subscribers"] == 1 })
		if reply := s.commands("nonsense"); !strings.HasPrefix(reply, "ERROR") {
			t.Errorf("%s: bad command: %q", name, reply)
		}
		a.Close()
	}
}

func TestTLSServer(t *testing.T) {
	pair, _, err := testcert.Loopback()
	if err != nil {
		t.Fatal(err)
	}
	cert, keyFile, err := testcert.WritePEM(t.TempDir(), pair)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := registry["tls-std"](options{addr: "127.0.0.1:0"}); err == nil {
		t.Error("tls-std without a certificate: no error")
	}
	for name := range registry {
		if !strings.HasPrefix(name, "tls-") {
			continue
		}
		s := start(t, name, options{cert: cert, key: keyFile})
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
		res, err := c.Get("https://" + s.addr.String() + "/")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if string(body) != "Hello, World!" || res.TLS == nil {
			t.Errorf("%s: %q", name, body)
		}
	}
}
