package longlivedcompat

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pollnet/pollnet"
	"github.com/pollnet/pollnet/compat_test/internal/compat"
	"github.com/pollnet/pollnet/examples/longlived/sse"
)

// sseEvent is one event as a client parsed it.
type sseEvent struct{ id, data string }

// sseClient is a subscriber through net/http's client.
type sseClient struct {
	resp *http.Response
	br   *bufio.Reader
}

func subscribe(t *testing.T, s *compat.HTTPServer) *sseClient {
	t.Helper()
	resp, err := http.Get(s.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("subscribe: %s %q", resp.Status, resp.Header.Get("Content-Type"))
	}
	c := &sseClient{resp: resp, br: bufio.NewReaderSize(resp.Body, 64<<10)}
	if line, err := c.br.ReadString('\n'); err != nil || line != ": subscribed\n" {
		t.Fatalf("first line %q, %v", line, err)
	}
	return c
}

// next reads the next event.
func (c *sseClient) next() (sseEvent, error) {
	var ev sseEvent
	for {
		line, err := c.br.ReadString('\n')
		if err != nil {
			return ev, err
		}
		switch {
		case line == "\n":
			return ev, nil
		case strings.HasPrefix(line, "id: "):
			ev.id = strings.TrimSuffix(line[4:], "\n")
		case strings.HasPrefix(line, "data: "):
			ev.data = strings.TrimSuffix(line[6:], "\n")
		case line == ": subscribed\n":
		default:
			return ev, fmt.Errorf("unexpected line %.40q", line)
		}
	}
}

// expectEvents reads events first..last (ids and data) and checks each
// arrives within bound of its publication time.
func (c *sseClient) expectEvents(first, last int, data func(i int) string, published func(i int) time.Time, bound time.Duration) error {
	for i := first; i <= last; i++ {
		ev, err := c.next()
		if err != nil {
			return fmt.Errorf("event %d: %w", i, err)
		}
		if ev.id != fmt.Sprint(i) || ev.data != data(i) {
			return fmt.Errorf("event %d: got id %q, %d bytes of data (equal: %v)", i, ev.id, len(ev.data), ev.data == data(i))
		}
		if late := time.Since(published(i)); late > bound {
			return fmt.Errorf("event %d arrived %v after its publication (bound %v)", i, late, bound)
		}
	}
	return nil
}

// publisher publishes numbered events and remembers when.
type publisher struct {
	mu   sync.Mutex
	when map[int]time.Time
}

func (p *publisher) publish(b *sse.Broker, i int, data string) {
	p.mu.Lock()
	p.when[i] = time.Now()
	p.mu.Unlock()
	b.Publish(data)
}

func (p *publisher) at(i int) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.when[i]
}

// Every subscriber receives every event exactly once, in order; then
// subscribers that close (FIN) or reset are noticed through OnReadable.
func TestSSEBroadcast(t *testing.T) {
	const subs, events = 20, 50
	broker := sse.NewBroker(10 * time.Second)
	t.Cleanup(broker.Close)
	s := serve(t, broker)
	clients := make([]*sseClient, subs)
	for i := range clients {
		clients[i] = subscribe(t, s)
	}
	compat.WaitStats(t, s.Ln, "every subscriber waiting", func(st pollnet.Stats) bool { return st.Waiting == subs })
	pub := &publisher{when: map[int]time.Time{}}
	data := func(i int) string { return fmt.Sprint("event ", i) }
	go func() {
		for i := 1; i <= events; i++ {
			pub.publish(broker, i, data(i))
		}
	}()
	exchange(t, subs, func(i int) error {
		return clients[i].expectEvents(1, events, data, pub.at, time.Minute)
	})
	for _, c := range clients {
		c.resp.Body.Close()
	}
	waitCond(t, "every subscriber gone", func() bool { return broker.Subscribers() == 0 })
}

// A subscriber that stops reading (its kernel buffers fill) is dropped once
// a write to it cannot finish within the broker's write timeout; the others
// keep receiving every event, each within a bound.
func TestSSEStalledSubscriber(t *testing.T) {
	const (
		healthy      = 5
		events       = 200
		size         = 32 << 10 // 6.4 MB in all: more than the stalled path buffers (4 MB send + 8 KB receive)
		writeTimeout = 500 * time.Millisecond
		bound        = 15 * time.Second // generous: -race on a shared 2-core machine
	)
	broker := sse.NewBroker(writeTimeout)
	t.Cleanup(broker.Close)
	s := serve(t, broker)
	stalled := dialStalledSubscriber(t, s)
	clients := make([]*sseClient, healthy)
	for i := range clients {
		clients[i] = subscribe(t, s)
	}
	waitCond(t, "every subscriber in", func() bool { return broker.Subscribers() == healthy+1 })
	pub := &publisher{when: map[int]time.Time{}}
	data := func(i int) string { return fmt.Sprintf("%06d%s", i, strings.Repeat("x", size)) }
	go func() {
		for i := 1; i <= events; i++ {
			pub.publish(broker, i, data(i))
		}
	}()
	exchange(t, healthy, func(i int) error {
		return clients[i].expectEvents(1, events, data, pub.at, bound)
	})
	waitCond(t, "the stalled subscriber dropped", func() bool { return broker.Subscribers() == healthy })
	// What reached the stalled client ends: the server closed its end.
	stalled.SetReadDeadline(time.Now().Add(20 * time.Second))
	n, err := io.Copy(io.Discard, stalled)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("the stalled subscriber's stream did not end (read %d bytes)", n)
	}
	if n >= int64(events*size) {
		t.Fatalf("the stalled subscriber got all %d bytes: it never stalled", n)
	}
	stalled.Close()
	for _, c := range clients {
		c.resp.Body.Close()
	}
}

// dialStalledSubscriber subscribes with a small receive buffer and never
// reads.
func dialStalledSubscriber(t *testing.T, s *compat.HTTPServer) *net.TCPConn {
	t.Helper()
	c := dialRawSubscriber(t, s)
	c.SetReadBuffer(4096)
	return c
}

func dialRawSubscriber(t *testing.T, s *compat.HTTPServer) *net.TCPConn {
	t.Helper()
	c, err := net.Dial("tcp", s.Ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, "GET /events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
	return c.(*net.TCPConn)
}

// Subscribers that go away are noticed through OnReadable alone: by end of
// stream (FIN) and by reset (RST), with no event written to them.
func TestSSEDisconnects(t *testing.T) {
	broker := sse.NewBroker(10 * time.Second)
	t.Cleanup(broker.Close)
	s := serve(t, broker)
	fin := dialRawSubscriber(t, s)
	rst := dialRawSubscriber(t, s)
	stay := subscribe(t, s)
	compat.WaitStats(t, s.Ln, "three subscribers waiting", func(st pollnet.Stats) bool { return st.Waiting == 3 })
	fin.CloseWrite()
	waitCond(t, "the FIN noticed", func() bool { return broker.Subscribers() == 2 })
	rst.SetLinger(0)
	rst.Close()
	waitCond(t, "the RST noticed", func() bool { return broker.Subscribers() == 1 })
	compat.WaitStats(t, s.Ln, "one socket left", func(st pollnet.Stats) bool { return st.Open == 1 && st.Waiting == 1 })
	fin.Close()
	broker.Publish("still there")
	if ev, err := stay.next(); err != nil || ev.data != "still there" {
		t.Fatalf("remaining subscriber: %v %v", ev, err)
	}
	stay.resp.Body.Close()
}
