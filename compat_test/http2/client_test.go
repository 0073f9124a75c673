package http2compat

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/pollnet/pollnet/compat_test/internal/compat"
)

// get fetches url with c and checks the status, the body and the protocol.
func get(c *http.Client, url, wantBody, wantProto string) error {
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("GET %s: reading the body: %w", url, err)
	}
	if resp.StatusCode != 200 || string(body) != wantBody || resp.Proto != wantProto {
		return fmt.Errorf("GET %s: %d %s, %d bytes (want 200 %s, %d bytes, equal)",
			url, resp.StatusCode, resp.Proto, len(body), wantProto, len(wantBody))
	}
	return nil
}

// echo posts body to base/echo and checks it comes back.
func echo(c *http.Client, base string, body []byte, wantProto string) error {
	resp, err := c.Post(base+"/echo", "application/octet-stream", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("POST /echo: reading the body: %w", err)
	}
	if resp.StatusCode != 200 || !bytes.Equal(got, body) || resp.Proto != wantProto {
		return fmt.Errorf("POST /echo %d bytes: %d %s, %d bytes back", len(body), resp.StatusCode, resp.Proto, len(got))
	}
	return nil
}

// exercise runs n concurrent requests (GET /big, POST /echo of up to 256 KiB,
// GET /hello) on c, all expected over wantProto.
func exercise(t *testing.T, c *http.Client, base, wantProto string, n int) {
	t.Helper()
	big := string(compat.BigBody)
	errs := compat.Concurrently(n, func(i int) error {
		switch i % 3 {
		case 0:
			return get(c, base+"/big", big, wantProto)
		case 1:
			return echo(c, base, bytes.Repeat([]byte{byte(i)}, (i*4099)%(256<<10)), wantProto)
		default:
			return get(c, base+"/hello", "hello", wantProto)
		}
	})
	var msgs []string
	for _, err := range errs {
		msgs = append(msgs, err.Error())
	}
	if len(msgs) > 0 {
		t.Fatalf("%d of %d requests failed:\n%s", len(msgs), n, strings.Join(msgs, "\n"))
	}
}
