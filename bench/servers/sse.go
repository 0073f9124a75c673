//go:build linux

package main

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Server-sent events: clients subscribe with GET /events and stay idle until
// the orchestrator asks the server (command "broadcast ID" on stdin) to send
// one event to every subscriber. The answer says how many subscribers the
// event was written to, once every write is done.
//
// The std server is the usual way: a handler per subscriber, waiting on its
// channel, writing and flushing through http.Flusher (chunked encoding).
func init() {
	registry["sse-std"] = startSSEStd
}

// sseEvent is the wire form of event id: the same bytes for every server.
func sseEvent(id string) []byte {
	return []byte("id: " + id + "\ndata: event " + id + "\n\n")
}

// parseBroadcast returns the event id of a "broadcast ID" command.
func parseBroadcast(line string) (string, error) {
	f := strings.Fields(line)
	if len(f) != 2 || f[0] != "broadcast" {
		return "", fmt.Errorf("unknown command %q (want: broadcast ID)", line)
	}
	return f[1], nil
}

// delivery is one event on its way to the subscribers of the std server:
// each subscriber writes it and counts down.
type delivery struct {
	event  []byte
	left   atomic.Int64
	failed atomic.Int64
	all    chan struct{} // closed when left reaches 0
}

func (d *delivery) finish(ok bool) {
	if !ok {
		d.failed.Add(1)
	}
	if d.left.Add(-1) == 0 {
		close(d.all)
	}
}

// sseHub holds the std server's subscribers.
type sseHub struct {
	mu   sync.Mutex
	subs map[chan *delivery]struct{}
}

func (h *sseHub) add(ch chan *delivery) {
	h.mu.Lock()
	h.subs[ch] = struct{}{}
	h.mu.Unlock()
}

// remove unsubscribes ch and fails a delivery it had not written yet.
func (h *sseHub) remove(ch chan *delivery) {
	h.mu.Lock()
	delete(h.subs, ch)
	h.mu.Unlock()
	select {
	case d := <-ch:
		d.finish(false)
	default:
	}
}

func (h *sseHub) stats() map[string]int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return map[string]int64{"subscribers": int64(len(h.subs))}
}

// broadcast hands the event to every subscriber and waits until all have
// written it (or limit passes).
func (h *sseHub) broadcast(line string, limit time.Duration) string {
	id, err := parseBroadcast(line)
	if err != nil {
		return "ERROR " + err.Error()
	}
	start := time.Now()
	h.mu.Lock()
	d := &delivery{event: sseEvent(id), all: make(chan struct{})}
	d.left.Store(int64(len(h.subs)) + 1) // +1: ours, so that all closes once
	n := len(h.subs)
	for ch := range h.subs {
		ch <- d // buffered: a subscriber has written the previous event
	}
	h.mu.Unlock()
	d.finish(true)
	select {
	case <-d.all:
	case <-time.After(limit):
		return fmt.Sprintf("ERROR broadcast %s: %d of %d subscribers still writing after %v", id, d.left.Load(), n, limit)
	}
	return fmt.Sprintf("sent=%d failed=%d seconds=%.6f", n-int(d.failed.Load()), d.failed.Load(), time.Since(start).Seconds())
}

func startSSEStd(o options) (*started, error) {
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return nil, err
	}
	hub := &sseHub{subs: map[chan *delivery]struct{}{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /events", func(w http.ResponseWriter, r *http.Request) {
		f, ok := w.(http.Flusher)
		if !ok {
			http.Error(w, "no flusher", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
		w.WriteHeader(http.StatusOK)
		f.Flush()
		ch := make(chan *delivery, 1)
		hub.add(ch)
		defer hub.remove(ch)
		for {
			select {
			case d := <-ch:
				_, err := w.Write(d.event) // net/http frames it as a chunk

				if err == nil {
					f.Flush()
				}
				d.finish(err == nil)
				if err != nil {
					return
				}
			case <-r.Context().Done():
				return
			}
		}
	})
	return &started{addr: ln.Addr(), stats: hub.stats,
		commands: func(line string) string { return hub.broadcast(line, o.broadcastLimit) },
		serve:    func() error { return http.Serve(ln, mux) }}, nil
}
