// Command gnetredis is a tiny RESP server on pollnet's gnet/, enough for
// redis-benchmark's PING_INLINE, PING_MBULK (PING) and ECHO: it parses inline
// and multi-bulk commands, pipelined, and answers PING with +PONG (or the
// bulk argument), ECHO with its argument, and anything else with an error.
// Like the other examples it uses only the gnet v2 API.
package main

import (
	"bytes"
	"errors"
	"flag"
	"log"
	"strconv"

	"github.com/pollnet/pollnet/gnet"
)

type redisServer struct {
	gnet.BuiltinEventEngine
	addr string
}

var errProto = errors.New("protocol error")

// parse returns the arguments of the first complete command in b and its
// length; n == 0 means incomplete.
func parse(b []byte) (args [][]byte, n int, err error) {
	if len(b) == 0 {
		return nil, 0, nil
	}
	line := func(from int) (int, bool) { // index after "\r\n"
		i := bytes.Index(b[from:], []byte("\r\n"))
		if i < 0 {
			return 0, false
		}
		return from + i + 2, true
	}
	if b[0] != '*' { // inline command
		end, ok := line(0)
		if !ok {
			return nil, 0, nil
		}
		return bytes.Fields(b[:end-2]), end, nil
	}
	end, ok := line(0)
	if !ok {
		return nil, 0, nil
	}
	count, err := strconv.Atoi(string(b[1 : end-2]))
	if err != nil || count < 0 || count > 1024 {
		return nil, 0, errProto
	}
	pos := end
	for range count {
		if pos >= len(b) {
			return nil, 0, nil
		}
		if b[pos] != '$' {
			return nil, 0, errProto
		}
		e, ok := line(pos)
		if !ok {
			return nil, 0, nil
		}
		size, err := strconv.Atoi(string(b[pos+1 : e-2]))
		if err != nil || size < 0 || size > 64<<20 {
			return nil, 0, errProto
		}
		if len(b) < e+size+2 {
			return nil, 0, nil
		}
		args = append(args, b[e:e+size])
		pos = e + size + 2
	}
	return args, pos, nil
}

func bulk(out, s []byte) []byte {
	out = append(out, '$')
	out = strconv.AppendInt(out, int64(len(s)), 10)
	out = append(out, "\r\n"...)
	out = append(out, s...)
	return append(out, "\r\n"...)
}

func (rs *redisServer) OnTraffic(c gnet.Conn) gnet.Action {
	buf, _ := c.Peek(-1)
	var out []byte
	used := 0
	for {
		args, n, err := parse(buf[used:])
		if err != nil {
			c.Write(append(out, "-ERR Protocol error\r\n"...))
			return gnet.Close
		}
		if n == 0 {
			break
		}
		used += n
		if len(args) == 0 {
			continue
		}
		switch cmd := string(bytes.ToUpper(args[0])); {
		case cmd == "PING" && len(args) == 1:
			out = append(out, "+PONG\r\n"...)
		case cmd == "PING" && len(args) == 2, cmd == "ECHO" && len(args) == 2:
			out = bulk(out, args[1])
		case cmd == "CONFIG": // redis-benchmark asks for "save" and "appendonly"
			out = append(out, "*0\r\n"...)
		default:
			out = append(out, "-ERR unknown command '"...)
			out = append(out, args[0]...)
			out = append(out, "'\r\n"...)
		}
	}
	if used > 0 {
		c.Discard(used)
		c.Write(out)
	}
	return gnet.None
}

func main() {
	addr := flag.String("addr", "127.0.0.1:6380", "listen address")
	flag.Parse()
	rs := &redisServer{addr: "tcp://" + *addr}
	log.Printf("gnetredis listening on %s", rs.addr)
	log.Fatal(gnet.Run(rs, rs.addr, gnet.WithMulticore(true)))
}
