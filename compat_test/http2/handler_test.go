package http2compat

import (
	"io"
	"net/http"
	"strconv"
)

// bigSize is the size of /big's body.
const bigSize = 1 << 20

// newMux serves the routes the suites use:
//
//	/         reads any body, answers "ok" (h2spec's target path)
//	/hello    "hello"
//	/echo     the request body, back
//	/big      bigSize bytes of bigBody
//	/proto    the request's protocol, e.g. "HTTP/2.0"
func newMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, "ok")
	})
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
		w.Write(body)
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(bigSize))
		w.Write(bigBody(bigSize))
	})
	mux.HandleFunc("/proto", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.Proto) })
	return mux
}

// bigBody returns n bytes of a fixed pattern.
func bigBody(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*13 + i>>10)
	}
	return b
}
