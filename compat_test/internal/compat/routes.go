package compat

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
)

// BigSize is the size of BigBody.
const BigSize = 1 << 20

// BigBody is BigSize bytes of a pattern whose period is far longer than any
// read or write, so that a lost, repeated or reordered chunk changes it.
var BigBody = func() []byte {
	b := make([]byte, BigSize)
	for i := range b {
		b[i] = byte(i*13 + i>>10)
	}
	return b
}()

// Sum is the hex SHA-256 of b, as the /echo route reports it.
func Sum(b []byte) string { h := sha256.Sum256(b); return hex.EncodeToString(h[:]) }

// AddRoutes registers the routes the suites share:
//
//	/hello  "hello"
//	/echo   the request body back, with its Sum in the X-Body-Sha256 header
//	/big    big, with its Content-Length
func AddRoutes(mux *http.ServeMux, big []byte) {
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") })
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		// Read all first: an HTTP/1 handler may not read the body after
		// writing (net/http's documented rule), even on std.
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("X-Body-Sha256", Sum(body))
		w.Write(body)
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(big)))
		w.Write(big)
	})
}
