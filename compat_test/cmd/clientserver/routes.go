package main

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/pollnet/pollnet/compat_test/internal/compat"
	"golang.org/x/net/http2"

	//lint:ignore SA1019 curl --http2 on http:// uses the h2c Upgrade, which only x/net h2c serves
	"golang.org/x/net/http2/h2c"
)

const (
	bigLine = "pollnet compat big body 0123456789abcdefghijklmnopqrstuvwxyz"
	bigSize = 1 << 20
)

// bigBody is bigLine+"\n" repeated, cut at bigSize bytes.
var bigBody = bytes.Repeat([]byte(bigLine+"\n"), bigSize/(len(bigLine)+1)+1)[:bigSize]

func routes(stats, tlsStats func() any) http.Handler {
	mux := http.NewServeMux()
	compat.AddRoutes(mux, bigBody)
	mux.HandleFunc("/page", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(browserPage))
	})
	for path, stats := range map[string]func() any{"/stats": stats, "/tlsstats": tlsStats} {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(stats())
		})
	}
	return mux
}

// browserPage is what browser.sh loads: while the page loads, its script
// fetches /hello three times on the page's connection, pausing 300 ms
// (longer than the idle grace) before each, and writes what it got. The
// pauses are busy loops: the page's load, which the browser waits for,
// must include them.
const browserPage = `<!doctype html><html><body><pre id="out"></pre><script>
function pause(ms) { const end = Date.now() + ms; while (Date.now() < end) {} }
const got = [];
for (let i = 0; i < 3; i++) {
	pause(300);
	const x = new XMLHttpRequest();
	x.open("GET", "/hello", false);
	x.send();
	got.push(x.status + " " + x.responseText);
}
document.getElementById("out").textContent = "fetched: " + got.join(", ");
</script></body></html>`

// h2cHandler adds h2c (prior knowledge and Upgrade) to h.
func h2cHandler(h http.Handler) http.Handler {
	//lint:ignore SA1019 curl --http2 on http:// uses the h2c Upgrade, which only x/net h2c serves
	return h2c.NewHandler(h, &http2.Server{})
}
