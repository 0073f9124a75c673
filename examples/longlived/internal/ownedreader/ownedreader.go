// Package ownedreader lets a program see what a WebSocket library has
// buffered above the socket. gorilla/websocket and coder/websocket read
// through the bufio.Reader that http.Hijacker returns; wrapping the
// ResponseWriter hands them one the program made, whose Buffered the program
// checks before it waits in pollnet.OnReadable: bytes already in that buffer
// will never make the socket readable again.
package ownedreader

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
)

// ResponseWriter wraps the handler's ResponseWriter for a library's upgrade.
type ResponseWriter struct {
	http.ResponseWriter
	// Size of the reader made at hijack (0: 4096, net/http's own size).
	Size int
	// Reader is what the library reads through, once it has hijacked.
	Reader *bufio.Reader
	// OnHijack, if set, is told the hijacked connection (for libraries
	// that do not expose it).
	OnHijack func(net.Conn)
}

// Hijack hijacks the connection and returns a reader of the program's own,
// fed first with whatever net/http had read past the request.
func (w *ResponseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	var src io.Reader = c
	if n := rw.Reader.Buffered(); n > 0 {
		b, _ := rw.Reader.Peek(n)
		src = io.MultiReader(bytes.NewReader(bytes.Clone(b)), c)
	}
	size := w.Size
	if size == 0 {
		size = 4096
	}
	w.Reader = bufio.NewReaderSize(src, size)
	if w.OnHijack != nil {
		w.OnHijack(c)
	}
	return c, bufio.NewReadWriter(w.Reader, rw.Writer), nil
}

// Unwrap lets http.ResponseController reach the wrapped writer.
func (w *ResponseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
