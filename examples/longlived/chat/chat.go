// Package chat is a broadcast chat room over WebSockets (github.com/gobwas/ws
// on pollnet): every text message a member sends goes to every member, the
// sender included, in one order that all members see. Idle members hold no
// goroutine and no buffer (see package gobwasws).
package chat

import (
	_ "embed"
	"net/http"
	"sync"

	"github.com/gobwas/ws"
	"github.com/pollnet/pollnet/examples/longlived/gobwasws"
)

// Room is a chat room. Its zero value is not usable: see New.
type Room struct {
	cfg gobwasws.Config

	// mu orders broadcasts: a message is written to every member before
	// the next one starts, so all members see the same order.
	mu      sync.Mutex
	members map[*gobwasws.Conn]struct{}
}

// New returns a room whose members are served with cfg (its OnMessage and
// OnClose are the room's).
func New(cfg gobwasws.Config) *Room {
	r := &Room{members: map[*gobwasws.Conn]struct{}{}}
	cfg.OnMessage = r.message
	cfg.OnClose = r.leave
	r.cfg = cfg
	return r
}

// ServeHTTP makes the request's connection a member.
func (r *Room) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	// Joined before the upgrade answers, so that no message sent after
	// the client sees the answer is missed; the room writes to a member
	// only once it is in the map, after the upgrade.
	r.mu.Lock()
	c, err := r.cfg.Upgrade(w, req)
	if err == nil {
		r.members[c] = struct{}{}
	}
	r.mu.Unlock()
	if err == nil {
		c.Start()
	}
}

// Members returns how many connections are in the room.
func (r *Room) Members() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.members)
}

func (r *Room) message(_ *gobwasws.Conn, op ws.OpCode, payload []byte) {
	if op != ws.OpText {
		return
	}
	r.Broadcast(payload)
}

// Broadcast sends a text message to every member. The frame is compiled
// once; a member that cannot take it within the write timeout is dropped
// (its connection closes), the others go on.
func (r *Room) Broadcast(text []byte) {
	frame := ws.MustCompileFrame(ws.NewTextFrame(text))
	r.mu.Lock()
	defer r.mu.Unlock()
	for c := range r.members {
		if c.WritePrepared(frame) != nil {
			delete(r.members, c)
		}
	}
}

func (r *Room) leave(c *gobwasws.Conn) {
	r.mu.Lock()
	delete(r.members, c)
	r.mu.Unlock()
}

// Page is a minimal browser client for the room.
//
//go:embed page.html
var Page []byte
