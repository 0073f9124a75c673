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
	for path, stats := range map[string]func() any{"/stats": stats, "/tlsstats": tlsStats} {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(stats())
		})
	}
	return mux
}

// h2cHandler adds h2c (prior knowledge and Upgrade) to h.
func h2cHandler(h http.Handler) http.Handler {
	//lint:ignore SA1019 curl --http2 on http:// uses the h2c Upgrade, which only x/net h2c serves
	return h2c.NewHandler(h, &http2.Server{})
}
