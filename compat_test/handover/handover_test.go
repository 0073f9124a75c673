package handovercompat

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/pollnet/pollnet"
	"github.com/pollnet/pollnet/compat_test/internal/compat"
)

// waitUntil polls cond (bounded by 30 s; not a timing assertion).
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestSocketActivation: "systemd" (this process) owns a listening socket
// and starts the server with it; the server builds a pollnet Listener from
// fd 3 and serves, hibernating idle connections when hibernation is on.
func TestSocketActivation(t *testing.T) {
	for _, m := range compat.PollnetModes {
		t.Run(m.String(), func(t *testing.T) {
			compat.CheckLeaks(t)
			sl, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			f, err := sl.(*net.TCPListener).File()
			sl.Close() // like systemd, keep the socket only as the fd to pass
			if err != nil {
				t.Fatal(err)
			}
			base := "http://" + sl.Addr().String()
			c := startChild(t, "activation", f, m == compat.Hibernating, true)
			f.Close()
			want := fmt.Sprint(c.pid())

			tr := &http.Transport{}
			client := &http.Client{Transport: tr}
			statsTr := &http.Transport{DisableKeepAlives: true}
			stats := func() pollnet.Stats { return childStats(t, &http.Client{Transport: statsTr}, base) }
			for i := range 3 {
				if got := getBody(t, client, base+"/pid"); got != want {
					t.Fatalf("request %d answered by pid %s, want the child %s", i, got, want)
				}
				if m == compat.Hibernating {
					waitUntil(t, "the child to park the connection", func() bool { return stats().Parks > uint64(i) })
				}
				time.Sleep(compat.IdlePause)
			}
			fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
			for range 20 {
				if got := getBody(t, fresh, base+"/hello"); got != "hello" {
					t.Fatalf("GET /hello: %q", got)
				}
			}
			tr.CloseIdleConnections()

			final := c.stop(t)
			wantParks := uint64(0)
			if m == compat.Hibernating {
				wantParks = 3
			}
			if final.Parks != wantParks || final.Open != 0 || final.Parked != 0 {
				t.Fatalf("child's final stats %+v: want %d parks, nothing open or parked", final, wantParks)
			}
		})
	}
}

// TestGracefulRestart: a server hands its pollnet listener to a new process
// with Listener.File, shuts down, and the new process goes on serving on
// the same address while clients keep requesting. No client ever sees a
// refused connection, and keep-alive clients see no error at all.
//
// One error is net/http's own, and std shows it the same (the std subtest
// runs the same restart with net.TCPListener.File): a request that the old
// server reads after its Shutdown began is dropped without a response
// (net/http server.go, conn.serve: "if c.server.shuttingDown() { return }"
// right after readRequest). A client on a fresh connection then sees EOF;
// on a reused one the Go client retries. Those EOFs are counted and logged,
// any other error fails the test.
func TestGracefulRestart(t *testing.T) {
	for _, m := range append(compat.PollnetModes, compat.Std) {
		t.Run(m.String(), func(t *testing.T) {
			compat.CheckLeaks(t)
			ln := compat.Listen(t, m)
			srv := &http.Server{Handler: handler(func() pollnet.Stats { return compat.Stats(ln) })}
			if m == compat.Hibernating {
				pollnet.Hibernate(srv)
			}
			done := make(chan error, 1)
			go func() { done <- srv.Serve(ln) }()
			base := "http://" + ln.Addr().String()

			l := startLoad(base, 3, 3)
			defer func() {
				select {
				case <-l.stop:
				default:
					l.finish()
				}
			}()
			waitUntil(t, "the old process to serve", func() bool { return l.answers(os.Getpid()) >= 30 })
			if m == compat.Hibernating {
				compat.WaitStats(t, ln, "keep-alive clients to park", func(s pollnet.Stats) bool { return s.Parks >= 3 })
			}

			f, err := listenerFile(ln)
			if err != nil {
				t.Fatal(err)
			}
			c := startChild(t, "restart", f, m == compat.Hibernating, false)
			f.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := srv.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			if err := <-done; !errors.Is(err, http.ErrServerClosed) {
				t.Fatalf("Serve: %v", err)
			}
			oldStats := compat.WaitStats(t, ln, "the old process to hold no socket", func(s pollnet.Stats) bool { return s.Open == 0 && s.Parked == 0 })
			atHandover := l.answers(c.pid())
			waitUntil(t, "the new process to serve", func() bool { return l.answers(c.pid()) >= atHandover+30 })
			if m == compat.Hibernating {
				statsClient := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
				waitUntil(t, "keep-alive clients to park in the new process", func() bool { return childStats(t, statsClient, base).Parks >= 3 })
			}

			errs, pids := l.finish()
			dropped := 0
			for _, e := range errs {
				if errors.Is(e.err, syscall.ECONNREFUSED) || e.reused || !errors.Is(e.err, io.EOF) {
					t.Errorf("client error across the restart: %v", e)
					continue
				}
				dropped++
				t.Logf("dropped by net/http during Shutdown (as with std): %v", e)
			}
			final := c.stop(t)
			t.Logf("answers per pid %v (old %d, new %d), %d requests dropped by net/http's Shutdown; old listener %+v; new listener %+v",
				pids, os.Getpid(), c.pid(), dropped, oldStats, final)
			if m == compat.Hibernating && final.Parks == 0 {
				t.Errorf("the new process never parked a connection: %+v", final)
			}
			if m == compat.PollnetPlain && (final.Parks != 0 || oldStats.Parks != 0) {
				t.Errorf("parks without hibernation: old %+v, new %+v", oldStats, final)
			}
			if final.Open != 0 || final.Parked != 0 {
				t.Errorf("the new process's listener still holds sockets after shutdown: %+v", final)
			}
		})
	}
}

// getBody GETs url and returns the body of a 200 response.
func getBody(t *testing.T, c *http.Client, url string) string {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return string(body)
}

// childStats fetches the child's listener Stats from /stats.
func childStats(t *testing.T, c *http.Client, base string) pollnet.Stats {
	t.Helper()
	var s pollnet.Stats
	if err := jsonUnmarshal(getBody(t, c, base+"/stats"), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// listenerFile returns a copy of ln's socket: Listener.File for pollnet,
// TCPListener.File for std.
func listenerFile(ln net.Listener) (*os.File, error) {
	switch l := ln.(type) {
	case *pollnet.Listener:
		return l.File()
	case *net.TCPListener:
		return l.File()
	}
	return nil, fmt.Errorf("no File method on %T", ln)
}
