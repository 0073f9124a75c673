package gobwasws

import (
	"net/http"

	"github.com/gobwas/ws"
)

// Echo returns a handler that upgrades to a WebSocket and sends every
// message back as it came (text or binary).
func Echo(cfg Config) http.Handler {
	cfg.OnMessage = func(c *Conn, op ws.OpCode, payload []byte) {
		c.WriteMessage(op, payload)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := cfg.Upgrade(w, r); err == nil {
			c.Start()
		}
	})
}
