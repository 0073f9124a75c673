package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"

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

func routes(stats func() any) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") })
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		// HTTP/1 handlers read the whole body before writing (net/http's rule).
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
		w.Write(bigBody)
	})
	mux.HandleFunc("/stats", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(stats())
	})
	return mux
}

// h2cHandler adds h2c (prior knowledge and Upgrade) to h.
func h2cHandler(h http.Handler) http.Handler {
	//lint:ignore SA1019 curl --http2 on http:// uses the h2c Upgrade, which only x/net h2c serves
	return h2c.NewHandler(h, &http2.Server{})
}
