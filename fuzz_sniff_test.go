//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"testing"
)

// refClassify is the reference for guard 4 of the hibernation rule, written
// from its specification rather than from classifyRequestLine: a connection
// may hibernate only if its first bytes are 1 to 7 upper-case ASCII letters
// and a space, and the letters are not "PRI" (the HTTP/2 preface). A head
// that could still become such a line is undecided.
func refClassify(head []byte) int32 {
	letters := 0
	for letters < len(head) && head[letters] >= 'A' && head[letters] <= 'Z' {
		letters++
	}
	if letters == len(head) { // only letters so far
		if letters <= 7 {
			return protoUnknown
		}
		return protoOther
	}
	if head[letters] != ' ' || letters == 0 || letters > 7 {
		return protoOther
	}
	if string(head[:letters]) == "PRI" {
		return protoOther
	}
	return protoHTTP1
}

// FuzzSniffRequestLine checks classifyRequestLine and idleState.sniff against
// the reference: the verdict on a connection's first bytes must not depend on
// how they are split across reads, a decided verdict must never change as
// more bytes arrive, and sniff must agree with classifyRequestLine.
//
// data is the stream; splits cuts it into reads (each byte is the length of
// the next read, 0 meaning an empty read).
func FuzzSniffRequestLine(f *testing.F) {
	for _, s := range []struct{ data, splits string }{
		{"GET / HTTP/1.1\r\n", "\x01\x01\x01\x01"},
		{"POST /x HTTP/1.1\r\n", "\x03\x00\x02"},
		{"OPTIONS * HTTP/1.1\r\n", "\x07\x01"},
		{"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "\x02\x02"},
		{"PRIX / HTTP/1.1\r\n", "\x04\x01"},
		{"PR", "\x01"},
		{"ABCDEFGH / HTTP/1.1\r\n", "\x08"},
		{"ABCDEFG / HTTP/1.1\r\n", "\x07\x01"},
		{"get / HTTP/1.1\r\n", ""},
		{"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", "\x01"},
		{" GET / HTTP/1.1\r\n", "\x01"},
		{"GET\t/ HTTP/1.1\r\n", "\x03\x01"},
		{"SSH-2.0-OpenSSH_9.6\r\n", "\x05"},
		{"", ""},
	} {
		f.Add([]byte(s.data), []byte(s.splits))
	}
	f.Fuzz(func(t *testing.T, data, splits []byte) {
		if len(data) > 64 {
			data = data[:64] // only the first 8 bytes can matter
		}
		want := refClassify(data[:min(len(data), 8)])

		// classifyRequestLine on every prefix: undecided until decided, then
		// the same verdict for every longer prefix, and that verdict is the
		// reference's.
		decided := protoUnknown
		for i := 0; i <= len(data); i++ {
			got := classifyRequestLine(data[:i])
			if ref := refClassify(data[:min(i, 8)]); got != ref {
				t.Fatalf("classifyRequestLine(%q) = %d, reference %d", data[:i], got, ref)
			}
			if decided != protoUnknown && got != decided {
				t.Fatalf("verdict changed from %d to %d at prefix %q", decided, got, data[:i])
			}
			decided = got
		}

		// sniff fed the same bytes in the fuzzer's split: same verdict.
		var s idleState
		rest := data
		for _, n := range splits {
			k := min(int(n), len(rest))
			s.sniff(rest[:k])
			rest = rest[k:]
		}
		s.sniff(rest)
		if got := s.proto.Load(); got != want {
			t.Fatalf("sniff of %q split by %v = %d, reference %d", data, splits, got, want)
		}
		if int(s.headLen) > len(s.head) {
			t.Fatalf("headLen %d past the head buffer", s.headLen)
		}
	})
}
