package http2compat

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/pollnet/pollnet"
	"github.com/pollnet/pollnet/compat_test/internal/compat"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// TestH2C: x/net's h2c handler on a pollnet listener. Prior-knowledge and
// Upgrade connections speak HTTP/2 and never park; plain HTTP/1 requests to
// the same server still hibernate when hibernation is on.
func TestH2C(t *testing.T) {
	for _, m := range compat.PollnetModes {
		t.Run(m.String(), func(t *testing.T) {
			compat.CheckLeaks(t)
			hs := compat.ServeHTTP(t, m, h2cHandler(newMux()), nil, nil)

			t.Run("prior-knowledge", func(t *testing.T) {
				tr := &http.Transport{Protocols: new(http.Protocols)}
				tr.Protocols.SetUnencryptedHTTP2(true)
				defer tr.CloseIdleConnections()
				c := &http.Client{Transport: tr}
				before := hs.Stats()
				exercise(t, c, hs.URL, "HTTP/2.0", 24)
				// The transport may dial several connections for the first
				// burst; after the pause it must reuse them, none parked.
				mid := hs.Stats()
				time.Sleep(compat.IdlePause)
				exercise(t, c, hs.URL, "HTTP/2.0", 24)
				if s := hs.Stats(); s.Accepted != mid.Accepted || s.Parks != before.Parks {
					t.Fatalf("want the same connections and no park: before %+v, after the first burst %+v, at the end %+v", before, mid, s)
				}
			})
			t.Run("upgrade", func(t *testing.T) { h2cUpgrade(t, hs) })
			t.Run("http1-on-the-same-server", func(t *testing.T) {
				tr := &http.Transport{}
				defer tr.CloseIdleConnections()
				c := &http.Client{Transport: tr}
				before := hs.Stats()
				for range 3 {
					if err := get(c, hs.URL+"/proto", "HTTP/1.1", "HTTP/1.1"); err != nil {
						t.Fatal(err)
					}
					if m == compat.Hibernating {
						compat.WaitStats(t, hs.Ln, "the HTTP/1 connection to park", func(s pollnet.Stats) bool { return s.Parked == 1 })
					}
					time.Sleep(compat.IdlePause)
				}
				s := hs.Stats()
				wantParks := uint64(0)
				if m == compat.Hibernating {
					wantParks = 3
				}
				if s.Accepted-before.Accepted != 1 || s.Parks-before.Parks != wantParks || s.Wakes-before.Wakes != wantParks-min(wantParks, 1) {
					t.Fatalf("want 1 connection, %d parks: before %+v, after %+v", wantParks, before, s)
				}
			})

			compat.WaitDrained(t, hs.Ln)
		})
	}
}

// h2cUpgrade speaks the RFC 7540 section 3.2 upgrade by hand (Go's client
// does not): an HTTP/1.1 request with "Upgrade: h2c", 101, then HTTP/2 on
// the same connection, whose stream 1 carries the response to that request.
// Two more requests follow, the second after an idle pause.
func h2cUpgrade(t *testing.T, hs *compat.HTTPServer) {
	before := hs.Stats()
	nc, err := net.Dial("tcp", hs.Ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(60 * time.Second)) // a lost frame fails, never hangs

	// SETTINGS_MAX_CONCURRENT_STREAMS = 100, as the HTTP2-Settings payload.
	settings := base64.RawURLEncoding.EncodeToString([]byte{0, 3, 0, 0, 0, 100})
	fmt.Fprintf(nc, "GET /proto HTTP/1.1\r\nHost: compat\r\nConnection: Upgrade, HTTP2-Settings\r\n"+
		"Upgrade: h2c\r\nHTTP2-Settings: %s\r\n\r\n", settings)
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade answered %d", resp.StatusCode)
	}
	if _, err := io.WriteString(nc, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(nc, br)
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	// x/net's h2c hands the upgrade request itself, as read (HTTP/1.1),
	// to the handler; its response comes on stream 1 in HTTP/2 frames.
	if body := readResponse(t, fr, 1); body != "HTTP/1.1" {
		t.Fatalf("stream 1: body %q", body)
	}
	var hbuf bytes.Buffer
	enc := hpack.NewEncoder(&hbuf)
	for i, streamID := range []uint32{3, 5} {
		if i == 1 {
			time.Sleep(compat.IdlePause)
		}
		hbuf.Reset()
		for _, f := range []hpack.HeaderField{
			{Name: ":method", Value: "GET"}, {Name: ":scheme", Value: "http"},
			{Name: ":authority", Value: "compat"}, {Name: ":path", Value: "/proto"},
		} {
			enc.WriteField(f)
		}
		err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: streamID, BlockFragment: hbuf.Bytes(), EndStream: true, EndHeaders: true})
		if err != nil {
			t.Fatal(err)
		}
		if body := readResponse(t, fr, streamID); body != "HTTP/2.0" {
			t.Fatalf("stream %d: body %q", streamID, body)
		}
	}
	if s := hs.Stats(); s.Accepted-before.Accepted != 1 || s.Parks != before.Parks {
		t.Fatalf("want one connection and no park: before %+v, after %+v", before, s)
	}
}

// readResponse reads frames until stream id ends, answering SETTINGS and
// PING, and returns its body; the status must be 200.
func readResponse(t *testing.T, fr *http2.Framer, id uint32) string {
	t.Helper()
	var body bytes.Buffer
	status := ""
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatalf("stream %d: %v", id, err)
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				if err := fr.WriteSettingsAck(); err != nil {
					t.Fatal(err)
				}
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				fr.WritePing(true, f.Data)
			}
		case *http2.GoAwayFrame:
			t.Fatalf("stream %d: GOAWAY %v", id, f.ErrCode)
		case *http2.RSTStreamFrame:
			t.Fatalf("stream %d: RST_STREAM on %d: %v", id, f.StreamID, f.ErrCode)
		case *http2.MetaHeadersFrame:
			if f.StreamID == id {
				status = f.PseudoValue("status")
				if f.StreamEnded() {
					return body.String()
				}
			}
		case *http2.DataFrame:
			if f.StreamID == id {
				body.Write(f.Data())
				if f.StreamEnded() {
					if status != "200" {
						t.Fatalf("stream %d: status %q", id, status)
					}
					return body.String()
				}
			}
		}
	}
}
