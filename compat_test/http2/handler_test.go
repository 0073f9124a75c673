package http2compat

import (
	"io"
	"net/http"

	"github.com/pollnet/pollnet/compat_test/internal/compat"
)

// newMux serves the routes the suites use:
//
//	/         reads any body, answers "ok" (h2spec's target path)
//	/proto    the request's protocol, e.g. "HTTP/2.0"
//
// and compat.AddRoutes' /hello, /echo and /big (compat.BigBody).
func newMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, "ok")
	})
	compat.AddRoutes(mux, compat.BigBody)
	mux.HandleFunc("/proto", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.Proto) })
	return mux
}
