package proxycompat

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"testing"
	"time"

	"github.com/pollnet/pollnet"
	"github.com/pollnet/pollnet/compat_test/internal/compat"
)

// upstream serves compat.AddRoutes' /hello, /echo and /big, and /stream
// (ten flushed chunks).
func upstream() http.Handler {
	mux := http.NewServeMux()
	compat.AddRoutes(mux, compat.BigBody)
	mux.HandleFunc("/stream", func(w http.ResponseWriter, r *http.Request) {
		for i := range 10 {
			fmt.Fprintf(w, "chunk %d\n", i)
			w.(http.Flusher).Flush()
		}
	})
	return mux
}

func TestReverseProxy(t *testing.T) {
	for _, m := range compat.PollnetModes {
		t.Run(m.String(), func(t *testing.T) {
			compat.CheckLeaks(t)
			up := compat.ServeHTTP(t, m, upstream(), nil, nil)
			target, _ := url.Parse(up.URL)
			var dialer pollnet.Dialer
			proxyTransport := &http.Transport{DialContext: dialer.DialContext, MaxIdleConnsPerHost: 8}
			rp := &httputil.ReverseProxy{
				Rewrite:   func(r *httputil.ProxyRequest) { r.SetURL(target) },
				Transport: proxyTransport,
			}
			front := compat.ServeHTTP(t, m, rp, nil, nil)
			clientTransport := &http.Transport{}
			client := &http.Client{Transport: clientTransport}

			t.Run("sequential-with-idle-pauses", func(t *testing.T) { sequential(t, client, front, up) })
			t.Run("concurrent", func(t *testing.T) { concurrent(t, client, front.URL) })
			t.Run("streamed-response", func(t *testing.T) { streamed(t, client, front.URL) })
			t.Run("chunked-upload", func(t *testing.T) { chunkedUpload(t, client, front.URL) })

			clientTransport.CloseIdleConnections()
			proxyTransport.CloseIdleConnections()
			compat.WaitDrained(t, front.Ln)
			compat.WaitDrained(t, up.Ln)
			if m == compat.PollnetPlain {
				if a, b := front.Stats(), up.Stats(); a.Parks != 0 || b.Parks != 0 {
					t.Errorf("parks without hibernation: front %+v, upstream %+v", a, b)
				}
			}
		})
	}
}

// sequential: requests one by one with idle pauses. Under hibernation, the
// client's connection parks on the proxy's listener and the proxy's
// connection parks on the upstream's, and both wake for the next request
// (the same TCP connections: one accepted on each listener).
func sequential(t *testing.T, c *http.Client, front, up *compat.HTTPServer) {
	fb, ub := front.Stats(), up.Stats()
	for i := range 4 {
		if err := check(c, "GET", front.URL+"/hello", nil, []byte("hello")); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if front.Mode == compat.Hibernating {
			compat.WaitStats(t, front.Ln, "the client's connection to park", func(s pollnet.Stats) bool { return s.Parks > fb.Parks+uint64(i) })
			compat.WaitStats(t, up.Ln, "the proxy's connection to park", func(s pollnet.Stats) bool { return s.Parks > ub.Parks+uint64(i) })
		}
		time.Sleep(compat.IdlePause)
	}
	fs, us := front.Stats(), up.Stats()
	if fs.Accepted-fb.Accepted != 1 || us.Accepted-ub.Accepted != 1 {
		t.Fatalf("want one connection per hop: front %+v -> %+v, upstream %+v -> %+v", fb, fs, ub, us)
	}
	if front.Mode == compat.Hibernating && (fs.Wakes-fb.Wakes != 3 || us.Wakes-ub.Wakes != 3) {
		t.Fatalf("want 3 wakes per hop: front %+v -> %+v, upstream %+v -> %+v", fb, fs, ub, us)
	}
}

// check makes one request and compares the body (and, for /echo, the
// upstream's digest of what it received).
func check(c *http.Client, method, url string, body, want []byte) error {
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if body == nil {
		req.Body = nil
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: reading: %w", method, url, err)
	}
	if resp.StatusCode != 200 || !bytes.Equal(got, want) {
		return fmt.Errorf("%s %s: %d, %d bytes, want 200 and %d bytes", method, url, resp.StatusCode, len(got), len(want))
	}
	if body != nil && resp.Header.Get("X-Body-Sha256") != compat.Sum(body) {
		return fmt.Errorf("%s %s: the upstream received a different body", method, url)
	}
	return nil
}

// concurrent: 30 requests at once, downloads and uploads of up to 1 MiB.
func concurrent(t *testing.T, c *http.Client, base string) {
	big := compat.BigBody
	errs := compat.Concurrently(30, func(i int) error {
		switch i % 3 {
		case 0:
			return check(c, "GET", base+"/big", nil, big)
		case 1:
			body := big[:(i*50021)%compat.BigSize]
			return check(c, "POST", base+"/echo", body, body)
		default:
			return check(c, "GET", base+"/hello", nil, []byte("hello"))
		}
	})
	for _, err := range errs {
		t.Error(err)
	}
}

// streamed: a flushed, chunked response arrives whole through the proxy.
func streamed(t *testing.T, c *http.Client, base string) {
	var want bytes.Buffer
	for i := range 10 {
		fmt.Fprintf(&want, "chunk %d\n", i)
	}
	if err := check(c, "GET", base+"/stream", nil, want.Bytes()); err != nil {
		t.Fatal(err)
	}
}

// chunkedUpload: a request body of unknown length (chunked) is forwarded.
func chunkedUpload(t *testing.T, c *http.Client, base string) {
	body := compat.BigBody[:1<<20-7]
	pr, pw := io.Pipe()
	go func() {
		for off := 0; off < len(body); off += 10000 {
			pw.Write(body[off:min(off+10000, len(body))])
		}
		pw.Close()
	}()
	resp, err := c.Post(base+"/echo", "application/octet-stream", pr)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 || !bytes.Equal(got, body) || resp.Header.Get("X-Body-Sha256") != compat.Sum(body) {
		t.Fatalf("chunked upload: %d, %d bytes back, %v", resp.StatusCode, len(got), err)
	}
}
