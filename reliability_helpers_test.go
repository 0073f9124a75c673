//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Helpers shared by the reliability_*_test.go and fuzz_*_test.go files.

// relTokenHandler answers every request with a body naming the request's
// token (query parameter "t"), so a client can check that the response it
// read belongs to the request it sent on that connection. /sum returns the
// SHA-256 of the request body; /big?n= returns n bytes of a known pattern.
func relTokenHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/tok", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "token=%s", r.URL.Query().Get("t"))
	})
	mux.HandleFunc("/sum", func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		if _, err := io.Copy(h, r.Body); err != nil {
			return // the peer went away mid-body
		}
		fmt.Fprintf(w, "%x", h.Sum(nil))
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		w.Header().Set("Content-Length", strconv.Itoa(n))
		relWritePattern(w, n)
	})
	return mux
}

// relPattern is the byte at offset i of /big's body.
func relPattern(i int) byte { return byte('a' + i%26) }

func relWritePattern(w io.Writer, n int) error {
	buf := make([]byte, 32<<10)
	for off := 0; off < n; {
		m := min(len(buf), n-off)
		for i := range buf[:m] {
			buf[i] = relPattern(off + i)
		}
		if _, err := w.Write(buf[:m]); err != nil {
			return err
		}
		off += m
	}
	return nil
}

func relSHA(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// relClient is a raw HTTP/1.1 keep-alive client on one TCP connection.
type relClient struct {
	c  net.Conn
	br *bufio.Reader
}

// relSourceAddr spreads client sockets over 127.0.0.2..127.0.0.251 so that
// many connections do not exhaust one source address's ephemeral ports.
var relSourceCounter atomic.Uint32

func relSourceAddr() *net.TCPAddr {
	n := relSourceCounter.Add(1)
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+n%250))}
}

// relDial connects to addr from a spread-out loopback source address.
func relDial(addr string) (net.Conn, error) {
	d := net.Dialer{LocalAddr: relSourceAddr(), Timeout: 10 * time.Second}
	return d.Dial("tcp", addr)
}

func newBufReader(c net.Conn) *bufio.Reader { return bufio.NewReader(c) }

func relDialClient(t testing.TB, addr string) *relClient {
	t.Helper()
	c, err := relDial(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &relClient{c: c, br: bufio.NewReader(c)}
}

// roundTrip sends one request and reads its response, with a 20 s bound.
func (rc *relClient) roundTrip(req string) (*http.Response, []byte, error) {
	rc.c.SetDeadline(time.Now().Add(20 * time.Second))
	defer rc.c.SetDeadline(time.Time{})
	if _, err := io.WriteString(rc.c, req); err != nil {
		return nil, nil, err
	}
	resp, err := http.ReadResponse(rc.br, nil)
	if err != nil {
		return nil, nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, body, err
}

// token asks /tok for token and checks the answer names it.
func (rc *relClient) token(tok string) error {
	_, body, err := rc.roundTrip("GET /tok?t=" + tok + " HTTP/1.1\r\nHost: x\r\n\r\n")
	if err != nil {
		return err
	}
	if want := "token=" + tok; string(body) != want {
		return fmt.Errorf("response %q on the connection of token %q: crossed connections", body, want)
	}
	return nil
}

// relReset closes c with an RST instead of a FIN (SO_LINGER 0), which also
// leaves no TIME_WAIT entry behind.
func relReset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}

// relServe serves relTokenHandler with hibernation and the given options.
func relServe(t *testing.T, grace time.Duration, configure func(*http.Server)) *Listener {
	t.Helper()
	ln, _ := serveTest(t, ListenConfig{IdleGrace: grace}, relTokenHandler(), configure)
	return ln
}

// relIsPeerGone reports whether err is what a reader or writer sees when its
// peer goes away: EOF, a reset, or a broken pipe.
func relIsPeerGone(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
