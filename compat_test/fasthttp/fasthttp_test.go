package fasthttpcompat

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pollnet/pollnet/compat_test/internal/compat"
	"github.com/valyala/fasthttp"
)

// idleDuration is how long fasthttp's idle workers and client connections
// (and the goroutines that reap them) live: short, so that they are gone
// by the leak check at the end of each suite (fasthttp's default is 10 s).
const idleDuration = 200 * time.Millisecond

// handler serves /hello, /echo (the request body back) and /big.
func handler(ctx *fasthttp.RequestCtx) {
	switch string(ctx.Path()) {
	case "/hello":
		ctx.WriteString("hello")
	case "/echo":
		ctx.Write(ctx.PostBody())
	case "/big":
		ctx.Write(compat.BigBody)
	default:
		ctx.Error("not found", fasthttp.StatusNotFound)
	}
}

func TestServe(t *testing.T) {
	for _, m := range compat.PollnetModes {
		t.Run(m.String(), func(t *testing.T) {
			compat.CheckLeaks(t)
			ln := compat.Listen(t, m)
			// fasthttp.Serve(ln, h) is (&Server{Handler: h}).Serve(ln); the
			// short MaxIdleWorkerDuration only lets the worker pool's
			// goroutines end soon after the test (the leak check).
			srv := &fasthttp.Server{Handler: handler, MaxIdleWorkerDuration: idleDuration}
			done := make(chan error, 1)
			go func() { done <- srv.Serve(ln) }()
			t.Cleanup(func() {
				if err := srv.Shutdown(); err != nil {
					t.Errorf("Shutdown: %v", err)
				}
				if err := <-done; err != nil {
					t.Errorf("Serve returned %v", err)
				}
			})
			addr := ln.Addr().String()

			t.Run("keep-alive-with-idle-pauses", func(t *testing.T) { keepAlive(t, ln) })
			t.Run("fasthttp-client-concurrent", func(t *testing.T) { fasthttpClient(t, addr) })
			t.Run("net-http-client-concurrent", func(t *testing.T) { netHTTPClient(t, addr) })
			t.Run("pipelined", func(t *testing.T) { pipelined(t, addr) })

			compat.WaitDrained(t, ln)
			if s := compat.Stats(ln); s.Parks != 0 {
				t.Errorf("a fasthttp connection parked: %+v", s)
			}
		})
	}
}

// keepAlive: sequential requests with idle pauses on one connection.
func keepAlive(t *testing.T, ln net.Listener) {
	before := compat.Stats(ln)
	// Idle connections live longer than the pauses, and not much more.
	c := &fasthttp.HostClient{Addr: ln.Addr().String(), MaxConns: 1, MaxIdleConnDuration: 10 * compat.IdlePause}
	defer c.CloseIdleConnections()
	for i := range 4 {
		status, body, err := c.Get(nil, "http://"+ln.Addr().String()+"/hello")
		if err != nil || status != 200 || string(body) != "hello" {
			t.Fatalf("request %d: %d %q %v", i, status, body, err)
		}
		time.Sleep(compat.IdlePause)
	}
	if got := compat.Stats(ln).Accepted - before.Accepted; got != 1 {
		t.Fatalf("%d connections for 4 keep-alive requests, want 1", got)
	}
}

// fasthttpClient: 60 concurrent requests of each kind through fasthttp's
// own client.
func fasthttpClient(t *testing.T, addr string) {
	c := &fasthttp.Client{MaxIdleConnDuration: idleDuration}
	defer c.CloseIdleConnections()
	big := compat.BigBody
	concurrently(t, 60, func(i int) error {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(resp)
		var want []byte
		switch i % 3 {
		case 0:
			req.SetRequestURI("http://" + addr + "/big")
			want = big
		case 1:
			want = bytes.Repeat([]byte{byte(i)}, i*1511)
			req.SetRequestURI("http://" + addr + "/echo")
			req.Header.SetMethod("POST")
			req.SetBody(want)
		default:
			req.SetRequestURI("http://" + addr + "/hello")
			want = []byte("hello")
		}
		if err := c.Do(req, resp); err != nil {
			return err
		}
		if resp.StatusCode() != 200 || !bytes.Equal(resp.Body(), want) {
			return fmt.Errorf("request %d: %d, %d bytes, want 200 and %d bytes", i, resp.StatusCode(), len(resp.Body()), len(want))
		}
		return nil
	})
}

// netHTTPClient: the same with net/http's client.
func netHTTPClient(t *testing.T, addr string) {
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}
	big := compat.BigBody
	concurrently(t, 30, func(i int) error {
		var resp *http.Response
		var err error
		var want []byte
		if i%2 == 0 {
			want = bytes.Repeat([]byte{byte(i)}, i*2053)
			resp, err = c.Post("http://"+addr+"/echo", "application/octet-stream", bytes.NewReader(want))
		} else {
			want = big
			resp, err = c.Get("http://" + addr + "/big")
		}
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		got, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != 200 || !bytes.Equal(got, want) {
			return fmt.Errorf("request %d: %d, %d bytes, %v", i, resp.StatusCode, len(got), err)
		}
		return nil
	})
}

// pipelined: ten requests in one write, ten responses in order.
func pipelined(t *testing.T, addr string) {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(60 * time.Second))
	var reqs strings.Builder
	for i := range 10 {
		body := strings.Repeat(fmt.Sprint(i), i*100)
		fmt.Fprintf(&reqs, "POST /echo HTTP/1.1\r\nHost: compat\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	}
	if _, err := io.WriteString(nc, reqs.String()); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(nc)
	for i := range 10 {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		got, err := io.ReadAll(resp.Body)
		if err != nil || string(got) != strings.Repeat(fmt.Sprint(i), i*100) {
			t.Fatalf("response %d: %d bytes, %v", i, len(got), err)
		}
	}
}

// concurrently runs f(0..n-1) at once and fails the test with every error.
func concurrently(t *testing.T, n int, f func(i int) error) {
	t.Helper()
	if errs := compat.Concurrently(n, f); len(errs) > 0 {
		t.Fatal(errors.Join(errs...))
	}
}
