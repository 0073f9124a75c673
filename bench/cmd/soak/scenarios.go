package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"time"
)

// opTimeout bounds every client operation: a stuck exchange is an error.
const opTimeout = 60 * time.Second

// worker is one client connection slot: it holds at most one connection at
// a time and runs scenarios on it until the end of the run.
type worker struct {
	id   int
	addr string
	rng  *rand.Rand
	t    *tally
	seq  int

	conn net.Conn
	br   *bufio.Reader
}

// scenario runs one operation on the worker's connection. It returns an
// unexpected error (the connection is then dropped).
type scenario struct {
	name   string
	weight int
	run    func(w *worker) error
}

var scenarios = []scenario{
	{"keepalive", 50, (*worker).keepAlive},
	{"trickle", 5, (*worker).trickle},
	{"pipelined", 10, (*worker).pipelined},
	{"upload", 12, (*worker).upload},
	{"echo", 5, (*worker).echo},
	{"abrupt", 6, (*worker).abrupt},
	{"close", 12, (*worker).closeClean},
}

func (w *worker) pick() scenario {
	total := 0
	for _, s := range scenarios {
		total += s.weight
	}
	n := w.rng.IntN(total)
	for _, s := range scenarios {
		if n < s.weight {
			return s
		}
		n -= s.weight
	}
	return scenarios[0]
}

// token names the worker's next request; responses must carry it back.
func (w *worker) token() string {
	w.seq++
	return fmt.Sprintf("w%d-%d", w.id, w.seq)
}

func (w *worker) dial() error {
	d := net.Dialer{LocalAddr: sourceAddr(w.id), Timeout: opTimeout}
	c, err := d.Dial("tcp", w.addr)
	if err != nil {
		return fail("dial", err)
	}
	w.conn, w.br = c, bufio.NewReader(c)
	w.t.dials.Add(1)
	w.t.open.Add(1)
	return nil
}

// drop closes the connection; reset sends an RST instead of a FIN.
func (w *worker) drop(reset bool) {
	if w.conn == nil {
		return
	}
	if tc, ok := w.conn.(*net.TCPConn); ok && reset {
		tc.SetLinger(0)
	}
	w.conn.Close()
	w.conn, w.br = nil, nil
	w.t.open.Add(-1)
}

// sourceAddr spreads client sockets over 127.0.0.2..127.0.0.251.
func sourceAddr(id int) *net.TCPAddr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+id%250))}
}

func blobRequest(tok string, n int) string {
	return fmt.Sprintf("GET /blob?t=%s&n=%d HTTP/1.1\r\nHost: soak\r\n\r\n", tok, n)
}

// readBlob reads one /blob response and checks every byte of it.
func (w *worker) readBlob(tok string, n int) error {
	resp, err := http.ReadResponse(w.br, nil)
	if err != nil {
		return fail("read", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return failf("status", "status %d for %s", resp.StatusCode, tok)
	}
	if got := resp.Header.Get("X-Token"); got != tok {
		return failf("crossed", "response for %q on the connection of %q", got, tok)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fail("read", err)
	}
	if len(body) != n {
		return failf("body", "%s: %d bytes, want %d", tok, len(body), n)
	}
	for i, b := range body {
		if b != blobByte(tok, i) {
			return failf("body", "%s: byte %d is %#x, want %#x", tok, i, b, blobByte(tok, i))
		}
	}
	w.t.requests.Add(1)
	w.t.bytesChecked.Add(int64(n))
	return nil
}

func (w *worker) send(s string) error {
	if _, err := io.WriteString(w.conn, s); err != nil {
		return fail("write", err)
	}
	return nil
}

// keepAlive: one request on the keep-alive connection, which usually woke
// from hibernation for it.
func (w *worker) keepAlive() error {
	tok, n := w.token(), w.rng.IntN(16<<10)
	start := time.Now()
	w.conn.SetDeadline(start.Add(opTimeout))
	if err := w.send(blobRequest(tok, n)); err != nil {
		return err
	}
	if err := w.readBlob(tok, n); err != nil {
		return err
	}
	w.t.latency(time.Since(start))
	return nil
}

// trickle: the request arrives a few bytes at a time.
func (w *worker) trickle() error {
	tok, n := w.token(), w.rng.IntN(4<<10)
	req := blobRequest(tok, n)
	w.conn.SetDeadline(time.Now().Add(opTimeout))
	for len(req) > 0 {
		k := min(len(req), 1+w.rng.IntN(10))
		if err := w.send(req[:k]); err != nil {
			return err
		}
		req = req[k:]
		time.Sleep(time.Duration(1+w.rng.IntN(20)) * time.Millisecond)
	}
	return w.readBlob(tok, n)
}

// pipelined: three requests in one write, three responses in order.
func (w *worker) pipelined() error {
	var toks [3]string
	var sizes [3]int
	var req string
	for i := range toks {
		toks[i], sizes[i] = w.token(), w.rng.IntN(8<<10)
		req += blobRequest(toks[i], sizes[i])
	}
	w.conn.SetDeadline(time.Now().Add(opTimeout))
	if err := w.send(req); err != nil {
		return err
	}
	for i := range toks {
		if err := w.readBlob(toks[i], sizes[i]); err != nil {
			return err
		}
	}
	return nil
}

// upload: a random body, sometimes behind Expect: 100-continue; the answer
// is its SHA-256.
func (w *worker) upload() error {
	body := make([]byte, 1+w.rng.IntN(256<<10))
	for i := range body {
		body[i] = byte(w.rng.Uint32())
	}
	sum := sha256.Sum256(body)
	want := hex.EncodeToString(sum[:])
	expect := w.rng.IntN(3) == 0
	w.conn.SetDeadline(time.Now().Add(opTimeout))
	head := fmt.Sprintf("POST /sum HTTP/1.1\r\nHost: soak\r\nContent-Length: %d\r\n", len(body))
	if expect {
		head += "Expect: 100-continue\r\n"
	}
	if err := w.send(head + "\r\n"); err != nil {
		return err
	}
	if expect {
		resp, err := http.ReadResponse(w.br, nil)
		if err != nil {
			return fail("read", err)
		}
		if resp.StatusCode != http.StatusContinue {
			return failf("status", "status %d, want 100 Continue", resp.StatusCode)
		}
	}
	if _, err := w.conn.Write(body); err != nil {
		return fail("write", err)
	}
	resp, err := http.ReadResponse(w.br, nil)
	if err != nil {
		return fail("read", err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return fail("read", err)
	}
	if string(got) != want {
		return failf("checksum", "upload of %d bytes: server sum %q, want %q", len(body), got, want)
	}
	w.t.requests.Add(1)
	w.t.bytesChecked.Add(int64(len(body)))
	return nil
}

// echo: upgrade the connection (websocket-style handshake, hijacked by the
// server), exchange a few frames with pauses, then close it.
func (w *worker) echo() error {
	defer w.drop(false)
	var k [16]byte
	for i := range k {
		k[i] = byte(w.rng.Uint32())
	}
	key := base64.StdEncoding.EncodeToString(k[:])
	w.conn.SetDeadline(time.Now().Add(opTimeout))
	if err := w.send("GET /echo HTTP/1.1\r\nHost: soak\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n\r\n"); err != nil {
		return err
	}
	resp, err := http.ReadResponse(w.br, nil)
	if err != nil {
		return fail("read", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Accept") != wsAccept(key) {
		return failf("handshake", "status %d, accept %q", resp.StatusCode, resp.Header.Get("Sec-WebSocket-Accept"))
	}
	w.t.requests.Add(1)
	for range 1 + w.rng.IntN(4) {
		msg := make([]byte, 1+w.rng.IntN(64<<10))
		for i := range msg {
			msg[i] = byte(w.rng.Uint32())
		}
		frame := binary.BigEndian.AppendUint32(nil, uint32(len(msg)))
		w.conn.SetDeadline(time.Now().Add(opTimeout))
		if _, err := w.conn.Write(append(frame, msg...)); err != nil {
			return fail("write", err)
		}
		got := make([]byte, 4+len(msg))
		if _, err := io.ReadFull(w.br, got); err != nil {
			return fail("read", err)
		}
		if !bytes.Equal(got[:4], frame) || !bytes.Equal(got[4:], msg) {
			return failf("echo", "echoed frame of %d bytes differs", len(msg))
		}
		w.t.echoMessages.Add(1)
		w.t.bytesChecked.Add(int64(len(msg)))
		time.Sleep(time.Duration(100+w.rng.IntN(900)) * time.Millisecond)
	}
	return nil
}

// abrupt injects a fault: the client resets its connection mid-request,
// mid-response, or while it is idle (usually hibernating).
func (w *worker) abrupt() error {
	defer w.drop(true)
	w.conn.SetDeadline(time.Now().Add(opTimeout))
	switch w.rng.IntN(3) {
	case 0:
		req := blobRequest(w.token(), 100)
		w.send(req[:len(req)/2])
		w.t.inject("reset-mid-request")
	case 1:
		w.send(blobRequest(w.token(), 4<<20))
		io.ReadFull(w.br, make([]byte, 16<<10))
		w.t.inject("reset-mid-response")
	default:
		w.t.inject("reset-idle")
	}
	return nil
}

// closeClean closes the connection normally; the next scenario dials anew.
func (w *worker) closeClean() error {
	w.drop(false)
	return nil
}
