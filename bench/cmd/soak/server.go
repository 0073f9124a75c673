package main

import (
	"bufio"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/pollnet/pollnet"
)

// serverStats is what the server reports when the client asks (a line
// "stats" on its stdin), as one JSON line "STATS {...}" on its stdout.
type serverStats struct {
	Goroutines int
	FDs        int
	RSS        int64 // bytes, after a GC and returning free memory to the OS
	Pollnet    pollnet.Stats
	// Held is how many connections net/http holds now (between its
	// StateNew and StateClosed or StateHijacked) and Hijacked how many
	// hijacked echo sessions run: with pollnet, Open - Parked - Held -
	// Hijacked sockets are woken and waiting for Accept.
	Held, Hijacked int64
}

// runServer is the server process: it serves until its stdin closes.
func runServer(o options) error {
	var nl net.Listener
	var err error
	if o.std {
		nl, err = net.Listen("tcp", o.addr)
	} else {
		lc := pollnet.ListenConfig{IdleGrace: o.grace}
		nl, err = lc.Listen(context.Background(), "tcp", o.addr)
	}
	if err != nil {
		return err
	}
	var held, hijacked atomic.Int64
	srv := &http.Server{
		Handler:           soakHandler(&hijacked),
		ReadHeaderTimeout: time.Minute,
		IdleTimeout:       10 * time.Minute, // longer than any think time: no keep-alive race
		ConnState: func(c net.Conn, s http.ConnState) {
			switch s {
			case http.StateNew:
				held.Add(1)
			case http.StateClosed, http.StateHijacked:
				held.Add(-1)
			}
		},
	}
	if !o.std {
		pollnet.Hibernate(srv)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(nl) }()
	fmt.Printf("ADDR %s\n", nl.Addr())

	cmds := bufio.NewScanner(os.Stdin)
	for cmds.Scan() {
		if cmds.Text() != "stats" {
			continue
		}
		runtime.GC()
		debug.FreeOSMemory()
		st := serverStats{
			Goroutines: runtime.NumGoroutine(),
			FDs:        countFDs(),
			RSS:        residentBytes(),
			Held:       held.Load(),
			Hijacked:   hijacked.Load(),
		}
		if ln, ok := nl.(*pollnet.Listener); ok {
			st.Pollnet = ln.Stats()
		}
		b, _ := json.Marshal(st)
		fmt.Printf("STATS %s\n", b)
	}
	srv.Close()
	if err := <-served; err != http.ErrServerClosed {
		return err
	}
	return nil
}

// soakHandler serves the soak's requests. Every answer is a function of the
// request, so the client can check every byte:
//
//	/blob?t=TOKEN&n=N  N bytes of blobByte(TOKEN, i)
//	/sum               the hex SHA-256 of the request body
//	/echo              hijacks and echoes length-prefixed frames after a
//	                   websocket-style 101 handshake
func soakHandler(hijacked *atomic.Int64) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/blob", func(w http.ResponseWriter, r *http.Request) {
		tok := r.URL.Query().Get("t")
		n, err := strconv.Atoi(r.URL.Query().Get("n"))
		if err != nil || n < 0 || n > 16<<20 {
			http.Error(w, "bad n", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(n))
		w.Header().Set("X-Token", tok)
		buf := make([]byte, min(n, 32<<10))
		for off := 0; off < n; off += len(buf) {
			m := min(len(buf), n-off)
			fillBlob(buf[:m], tok, off)
			if _, err := w.Write(buf[:m]); err != nil {
				return // an injected abrupt close
			}
		}
	})
	mux.HandleFunc("/sum", func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		if _, err := io.Copy(h, r.Body); err != nil {
			return
		}
		fmt.Fprintf(w, "%x", h.Sum(nil))
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		hijacked.Add(1)
		defer hijacked.Add(-1)
		serveEcho(w, r)
	})
	return mux
}

// blobByte is byte i of /blob's body for token tok.
func blobByte(tok string, i int) byte {
	if tok == "" {
		return byte(i)
	}
	return tok[i%len(tok)] ^ byte(i*7)
}

func fillBlob(b []byte, tok string, off int) {
	for i := range b {
		b[i] = blobByte(tok, off+i)
	}
}

// wsAccept is the Sec-WebSocket-Accept value for key (RFC 6455).
func wsAccept(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

// serveEcho hijacks the connection and echoes frames (a 4-byte big-endian
// length, then the payload) until the client closes it.
func serveEcho(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("Sec-WebSocket-Key")
	if r.Header.Get("Upgrade") != "websocket" || key == "" {
		http.Error(w, "upgrade required", http.StatusUpgradeRequired)
		return
	}
	c, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer c.Close()
	fmt.Fprintf(rw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", wsAccept(key))
	if rw.Flush() != nil {
		return
	}
	var hdr [4]byte
	for {
		if _, err := io.ReadFull(rw, hdr[:]); err != nil {
			return
		}
		n := binary.BigEndian.Uint32(hdr[:])
		if n > 1<<20 {
			return
		}
		rw.Write(hdr[:])
		if _, err := io.CopyN(rw, rw, int64(n)); err != nil {
			return
		}
		if rw.Flush() != nil {
			return
		}
	}
}
