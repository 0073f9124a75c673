//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

// http.ServeFile over a connection that parks between requests: Range
// requests (206, exact bytes), multi-range, the whole file, and a large file
// sent through Conn.ReadFrom (sendfile on Linux).
func TestHibernateServeFileRange(t *testing.T) {
	dir := t.TempDir()
	small := randomBytes(1<<20+123, 1)
	large := randomBytes(9<<20+7, 2) // three sendfile chunks (4 MiB each)
	for name, b := range map[string][]byte{"small.bin": small, "large.bin": large} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, filepath.Join(dir, filepath.Base(r.URL.Path)))
	})
	ln, _ := serveTest(t, hibConfig(), mux, nil)
	var ct connTracker
	client := &http.Client{Transport: newTestTransport(t)}
	n := len(small)
	requests := 0
	get := func(path, rng string, status int, want []byte) *http.Response {
		t.Helper()
		req := newRequest(t, "GET", ln, path, nil)
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		resp, body := ct.do(t, client, req)
		if resp.StatusCode != status {
			t.Fatalf("%s Range %q: status %d, want %d", path, rng, resp.StatusCode, status)
		}
		if want != nil && !bytes.Equal([]byte(body), want) {
			t.Fatalf("%s Range %q: %d bytes %s, want %d bytes %s", path, rng, len(body), bodySum([]byte(body)), len(want), bodySum(want))
		}
		requests++
		waitParked(t, ln, 1)
		if want == nil {
			resp.Body = io.NopCloser(bytes.NewReader([]byte(body)))
		}
		return resp
	}

	resp := get("/small.bin", "bytes=100-199", 206, small[100:200])
	if cr := resp.Header.Get("Content-Range"); cr != fmt.Sprintf("bytes 100-199/%d", n) {
		t.Fatalf("Content-Range %q", cr)
	}
	get("/small.bin", "bytes=-500", 206, small[n-500:])
	get("/small.bin", "bytes=4096-", 206, small[4096:])
	get("/small.bin", "bytes=100000-199999", 206, small[100000:200000])
	get("/small.bin", "", 200, small)
	get("/small.bin", fmt.Sprintf("bytes=%d-", n+10), http.StatusRequestedRangeNotSatisfiable, nil)
	get("/large.bin", "", 200, large)

	// Two ranges: a multipart/byteranges body.
	resp = get("/small.bin", "bytes=0-9,5000-5999", 206, nil)
	mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/byteranges" {
		t.Fatalf("multi-range Content-Type %q: %v", resp.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(resp.Body, params["boundary"])
	for i, want := range [][]byte{small[0:10], small[5000:6000]} {
		part, err := mr.NextPart()
		if err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
		got, _ := io.ReadAll(part)
		if !bytes.Equal(got, want) {
			t.Fatalf("part %d: %d bytes, want %d bytes", i, len(got), len(want))
		}
	}
	if _, err := mr.NextPart(); err != io.EOF {
		t.Fatalf("want 2 parts, got more: %v", err)
	}

	ct.oneConn(t, "")
	if st := ln.Stats(); st.Accepted != 1 || st.Parks != uint64(requests) || st.Wakes != uint64(requests-1) {
		t.Fatalf("stats %+v: want 1 accepted, %d parks, %d wakes", st, requests, requests-1)
	}
}
