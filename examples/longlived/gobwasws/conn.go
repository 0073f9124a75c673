// Package gobwasws serves WebSockets with github.com/gobwas/ws on pollnet so
// that an idle connection holds no goroutine and no buffer: between messages
// it waits in pollnet.OnReadable, and a goroutine runs only while a frame is
// read and handled.
//
// The read side of a Conn is one goroutine at a time: the handler's, then
// each OnReadable callback's in turn. Writes may come from any goroutine.
package gobwasws

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"github.com/pollnet/pollnet"
)

// Config says how connections are served.
type Config struct {
	// IdleTimeout: after this long without a frame from the client the
	// server sends a ping; after as long again without one it closes the
	// connection (status 1001). Both waits are read deadlines on the waiting
	// connection: no timer or goroutine per connection. 0: never.
	IdleTimeout time.Duration
	// WriteTimeout bounds each write: a client that does not read loses its
	// connection instead of blocking the writer for ever. 0: no bound.
	WriteTimeout time.Duration
	// MaxMessageSize bounds a message, all fragments together. 0: 16 MiB.
	MaxMessageSize int64
	// OnMessage handles a text or binary message. It runs on the Conn's
	// read side: the next message is read when it returns.
	OnMessage func(c *Conn, op ws.OpCode, payload []byte)
	// OnClose, if set, runs once when the connection is closed.
	OnClose func(c *Conn)
}

// Conn is one WebSocket connection.
type Conn struct {
	nc  net.Conn
	cfg *Config

	// Read side only.
	pending []byte // bytes read above the socket during the upgrade, not parsed yet
	pinged  bool   // a ping for idleness is out and unanswered

	wmu       sync.Mutex
	closeSent bool // a close frame was sent: nothing may follow it
	closeOnce sync.Once
}

// readers lend bufio.Readers to connections while they read: an idle
// connection holds none.
var readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4096) }}

// errClosing ends the read side after a close frame.
var errClosing = errors.New("gobwasws: close handshake done")

// Upgrade upgrades the request's connection. Nothing is read from it until
// Start.
func (cfg *Config) Upgrade(w http.ResponseWriter, r *http.Request) (*Conn, error) {
	nc, rw, _, err := ws.UpgradeHTTP(r, w)
	if err != nil {
		return nil, err
	}
	c := &Conn{nc: nc, cfg: cfg}
	// Frames the client sent right behind its upgrade request are in the
	// hijack's reader: they are this program's to parse before any wait.
	if n := rw.Reader.Buffered(); n > 0 {
		b, _ := rw.Reader.Peek(n)
		c.pending = bytes.Clone(b)
	}
	return c, nil
}

// Start serves the connection: it returns once the connection waits for
// its next frame, or has closed.
func (c *Conn) Start() {
	if len(c.pending) > 0 {
		c.serve()
	} else {
		c.wait()
	}
}

// NetConn returns the connection under the WebSocket.
func (c *Conn) NetConn() net.Conn { return c.nc }

// wait re-arms OnReadable, with the idle deadline unless the connection is
// closing. The read side ends here: until the socket is readable (or the
// deadline passes) nothing runs.
func (c *Conn) wait() {
	if t := c.cfg.IdleTimeout; t > 0 && !c.closing() {
		c.nc.SetReadDeadline(time.Now().Add(t))
	}
	if err := pollnet.OnReadable(c.nc, c.serve); err != nil {
		c.Close()
	}
}

// serve reads and handles frames as long as bytes are at hand (in the
// socket or in the borrowed reader), then waits again.
func (c *Conn) serve() {
	br := readers.Get().(*bufio.Reader)
	br.Reset(pendingReader{c})
	defer func() {
		br.Reset(nil)
		readers.Put(br)
	}()
	for {
		// Nothing is read for the next frame until its first byte is
		// there: a timeout here is idleness, not a broken frame.
		if _, err := br.Peek(1); err != nil {
			if c.idle(err) {
				c.wait()
			} else {
				c.Close()
			}
			return
		}
		if err := c.readFrame(br); err != nil {
			c.Close()
			return
		}
		// Whatever the reader holds beyond that frame must be handled
		// before waiting: the socket will not report it again.
		if br.Buffered() == 0 && len(c.pending) == 0 {
			break
		}
	}
	c.wait()
}

// idle handles a read that found nothing until the read deadline: the first
// time the client is pinged, the second time the closing handshake starts.
// It reports whether the connection waits on.
func (c *Conn) idle(err error) bool {
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || c.closing() {
		return false
	}
	if c.pinged {
		return c.CloseWith(ws.StatusGoingAway, "idle") == nil
	}
	c.pinged = true
	return c.writeFrame(ws.NewPingFrame(nil)) == nil
}

// readFrame reads one frame, and for a data frame the whole message. The
// idle deadline still holds: a frame must arrive whole within it.
func (c *Conn) readFrame(br *bufio.Reader) error {
	c.pinged = false
	maxSize := c.cfg.MaxMessageSize
	if maxSize == 0 {
		maxSize = 16 << 20
	}
	rd := wsutil.Reader{
		Source:         br,
		State:          ws.StateServerSide,
		CheckUTF8:      true,
		MaxMessageSize: maxSize,
		OnIntermediate: c.control, // control frames between fragments
	}
	hdr, err := rd.NextFrame()
	if err != nil {
		if isProtocolError(err) {
			c.CloseWith(ws.StatusProtocolError, "")
		}
		return err
	}
	if hdr.OpCode.IsControl() {
		return c.control(hdr, &rd)
	}
	payload, err := io.ReadAll(&rd)
	if err != nil {
		if isProtocolError(err) {
			c.CloseWith(ws.StatusProtocolError, "")
		}
		return err
	}
	if c.cfg.OnMessage != nil {
		c.cfg.OnMessage(c, hdr.OpCode, payload)
	}
	return nil
}

// control answers a ping with a pong, and a close frame with a close frame
// (unless it answers ours) and the end of the connection.
func (c *Conn) control(hdr ws.Header, r io.Reader) error {
	payload, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	switch hdr.OpCode {
	case ws.OpPing:
		return c.writeFrame(ws.NewPongFrame(payload))
	case ws.OpClose:
		// The client's answer to ours, or its own close: then answer it.
		if !c.closing() {
			code, _ := ws.ParseCloseFrameData(payload)
			if code.Empty() {
				code = ws.StatusNoStatusRcvd
			}
			c.CloseWith(code, "")
		}
		c.Close()
		return errClosing
	}
	return nil // a pong
}

// WriteMessage sends one unfragmented message.
func (c *Conn) WriteMessage(op ws.OpCode, p []byte) error {
	return c.writeFrame(ws.NewFrame(op, true, p))
}

// WritePrepared sends a frame compiled with ws.CompileFrame: a broadcast
// compiles its frame once and writes the same bytes to every connection.
func (c *Conn) WritePrepared(frame []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.writeLocked(frame)
}

func (c *Conn) writeFrame(f ws.Frame) error {
	b, err := ws.CompileFrame(f)
	if err != nil {
		return err
	}
	return c.WritePrepared(b)
}

func (c *Conn) writeLocked(b []byte) error {
	if c.closeSent {
		return net.ErrClosed
	}
	if t := c.cfg.WriteTimeout; t > 0 {
		c.nc.SetWriteDeadline(time.Now().Add(t))
	}
	if _, err := c.nc.Write(b); err != nil {
		// A frame cut in the middle leaves nothing to save.
		c.closeSent = true
		go c.Close()
		return err
	}
	return nil
}

// closeWait bounds the wait for the client's answer to a close frame.
const closeWait = 5 * time.Second

// CloseWith starts the closing handshake: it sends a close frame; the
// connection closes when the client answers with its own, or after
// closeWait. It may be called from any goroutine.
func (c *Conn) CloseWith(code ws.StatusCode, reason string) error {
	var body []byte
	if code != ws.StatusNoStatusRcvd {
		body = ws.NewCloseFrameBody(code, reason)
	}
	c.wmu.Lock()
	err := c.writeLocked(ws.MustCompileFrame(ws.NewCloseFrame(body)))
	c.closeSent = true
	c.wmu.Unlock()
	if err != nil {
		c.Close()
		return err
	}
	return c.nc.SetReadDeadline(time.Now().Add(closeWait))
}

func (c *Conn) closing() bool {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.closeSent
}

// Close closes the connection without a close frame.
func (c *Conn) Close() {
	c.closeOnce.Do(func() {
		c.nc.Close()
		if c.cfg.OnClose != nil {
			c.cfg.OnClose(c)
		}
	})
}

// isProtocolError tells a malformed frame from a failed connection.
func isProtocolError(err error) bool {
	var ne net.Error
	return !errors.As(err, &ne) && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) &&
		!errors.Is(err, net.ErrClosed) && !errors.Is(err, errClosing)
}

// pendingReader reads what the upgrade left above the socket, then the
// socket.
type pendingReader struct{ c *Conn }

func (r pendingReader) Read(p []byte) (int, error) {
	if len(r.c.pending) > 0 {
		n := copy(p, r.c.pending)
		r.c.pending = r.c.pending[n:]
		return n, nil
	}
	return r.c.nc.Read(p)
}
