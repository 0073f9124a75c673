// Package sse is a server-sent events broadcaster on pollnet. A subscriber's
// connection is hijacked, sent the response headers, and then only watched
// with pollnet.OnReadable to learn that the client went away: it holds no
// goroutine and no buffer. One goroutine, the broker's, writes every event
// to every subscriber.
//
// A subscriber that stops reading must not stall the others. The policy
// here: each write to a subscriber has a deadline (WriteTimeout); a
// subscriber whose socket buffers are so full that an event does not fit
// in time is disconnected, as its stream is broken anyway (part of an event
// may have been written). A browser's EventSource then reconnects by
// itself. Why a deadline and not a queue per subscriber: a queue would need
// memory, and a goroutine or a write-readiness wait, per slow subscriber,
// and would only postpone the same decision. The price is that the other
// subscribers may see an event up to WriteTimeout late, once per stalled
// subscriber, the time it takes to find it stalled. A dropped subscriber's
// connection is reset, not closed: see reset.
package sse

import (
	_ "embed"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/pollnet/pollnet"
)

// Broker holds the subscribers and broadcasts events to them.
type Broker struct {
	// WriteTimeout bounds a write of one event to one subscriber.
	WriteTimeout time.Duration

	events chan string
	done   chan struct{}

	mu     sync.Mutex
	subs   map[*subscriber]struct{}
	closed bool
}

type subscriber struct {
	conn net.Conn
	once sync.Once
}

// header starts a chunked text/event-stream response; the first chunk is a
// comment, so that the client knows it is subscribed.
const header = "HTTP/1.1 200 OK\r\n" +
	"Content-Type: text/event-stream\r\n" +
	"Cache-Control: no-store\r\n" +
	"Transfer-Encoding: chunked\r\n\r\n" +
	"d\r\n: subscribed\n\r\n"

// NewBroker starts a broker; Close stops it.
func NewBroker(writeTimeout time.Duration) *Broker {
	b := &Broker{
		WriteTimeout: writeTimeout,
		events:       make(chan string, 64),
		done:         make(chan struct{}),
		subs:         map[*subscriber]struct{}{},
	}
	go b.broadcast()
	return b
}

// ServeHTTP subscribes the request's client.
func (b *Broker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Bytes the client sent after its request are dropped: this response
	// never ends, so nothing after it could be answered.
	c, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	s := &subscriber{conn: c}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		c.Close()
		return
	}
	// Written under the lock: no event can come before the header.
	c.SetWriteDeadline(time.Now().Add(b.WriteTimeout))
	if _, err := c.Write([]byte(header)); err != nil {
		c.Close()
		return
	}
	b.subs[s] = struct{}{}
	if err := pollnet.OnReadable(c, func() { b.readable(s) }); err != nil {
		b.dropLocked(s)
	}
}

// readable runs when a subscriber's socket has something to say: usually
// that the client closed (end of stream) or reset the connection. Anything
// it sends is ignored.
func (b *Broker) readable(s *subscriber) {
	var buf [512]byte
	if _, err := s.conn.Read(buf[:]); err != nil {
		b.drop(s)
		return
	}
	if err := pollnet.OnReadable(s.conn, func() { b.readable(s) }); err != nil {
		b.drop(s)
	}
}

// Publish queues an event for every current subscriber. It returns false
// once the broker is closed.
func (b *Broker) Publish(data string) bool {
	select {
	case b.events <- data:
		return true
	case <-b.done:
		return false
	}
}

// Subscribers returns how many subscribers there are.
func (b *Broker) Subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}

// broadcast is the broker's goroutine: it writes each event, encoded once,
// to every subscriber in turn.
func (b *Broker) broadcast() {
	var id uint64
	var subs []*subscriber
	for {
		var data string
		select {
		case data = <-b.events:
		case <-b.done:
			return
		}
		id++
		chunk := encode(id, data)
		b.mu.Lock()
		subs = subs[:0]
		for s := range b.subs {
			subs = append(subs, s)
		}
		b.mu.Unlock()
		for i, s := range subs {
			s.conn.SetWriteDeadline(time.Now().Add(b.WriteTimeout))
			if _, err := s.conn.Write(chunk); err != nil {
				b.reset(s) // stalled, or gone: see the package doc
			}
			subs[i] = nil
		}
	}
}

// encode makes one event as one chunk of the response body.
func encode(id uint64, data string) []byte {
	var ev strings.Builder
	fmt.Fprintf(&ev, "id: %d\n", id)
	for line := range strings.SplitSeq(data, "\n") {
		fmt.Fprintf(&ev, "data: %s\n", line)
	}
	ev.WriteString("\n")
	return fmt.Appendf(nil, "%x\r\n%s\r\n", ev.Len(), ev.String())
}

// reset drops a subscriber whose write failed with a TCP reset: the
// kernel discards what it still buffers for it (up to the socket's send
// buffer, megabytes) instead of keeping it for a client that does not read,
// and the client learns at once that its stream is broken.
func (b *Broker) reset(s *subscriber) {
	if tc, ok := s.conn.(interface{ SetLinger(int) error }); ok {
		tc.SetLinger(0)
	}
	b.drop(s)
}

func (b *Broker) drop(s *subscriber) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.dropLocked(s)
}

func (b *Broker) dropLocked(s *subscriber) {
	delete(b.subs, s)
	s.once.Do(func() { s.conn.Close() })
}

// Close disconnects every subscriber and stops the broker.
func (b *Broker) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	b.closed = true
	close(b.done)
	for s := range b.subs {
		b.dropLocked(s)
	}
}

// Page is a minimal browser client: it shows the events it receives.
//
//go:embed page.html
var Page []byte
