//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"testing"
)

// tlsMux is hibMux plus /tls, which describes the request's TLS state:
// version, cipher suite, ALPN, SNI, resumption, peer certificates, and
// keying material exported from the session (the same for every request on
// one TLS session, different between sessions).
func tlsMux() *http.ServeMux {
	mux := hibMux()
	mux.HandleFunc("/tls", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, describeTLS(r.TLS))
	})
	return mux
}

func describeTLS(st *tls.ConnectionState) string {
	if st == nil {
		return "no TLS"
	}
	ekm, err := st.ExportKeyingMaterial("pollnet test", nil, 8)
	if err != nil {
		return "exporter: " + err.Error()
	}
	return fmt.Sprintf("%s %s alpn=%q sni=%q resumed=%v complete=%v peers=%d ekm=%x",
		tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite), st.NegotiatedProtocol,
		st.ServerName, st.DidResume, st.HandshakeComplete, len(st.PeerCertificates), ekm)
}

// HTTPS/1.1 keep-alive connections hibernate between requests and wake on
// the same TLS session: every request on one TCP connection, the same
// exported keying material, bodies intact.
func TestServeTLSHibernates(t *testing.T) {
	ts := startTLS(t, false, tlsMux(), nil)
	client := ts.client(t, false)
	var ct connTracker
	session := ""
	for i := range 4 {
		req, _ := http.NewRequestWithContext(t.Context(), "GET", ts.url("/tls"), nil)
		resp, desc := ct.do(t, client, req)
		if resp.StatusCode != 200 || resp.ProtoMajor != 1 {
			t.Fatalf("request %d: %s over %s", i, resp.Status, resp.Proto)
		}
		if session == "" {
			session = desc
		}
		if desc != session {
			t.Fatalf("request %d: TLS state %q, first %q", i, desc, session)
		}
		body := randomBytes(100000+i, uint64(i))
		req = newRequest(t, "POST", ts.ln, "/sum", body)
		req.URL.Scheme = "https"
		if _, got := ct.do(t, client, req); got != bodySum(body) {
			t.Fatalf("request %d: sum %q, want %q", i, got, bodySum(body))
		}
		waitParked(t, ts.pl, 1)
	}
	ct.oneConn(t, "")
	// A connection woken after a long park parks again at once when no
	// byte is there (no grace): it may park between GET and POST too.
	if st := ts.pl.Stats(); st.Parks < 4 || st.Wakes != st.Parks-1 || st.Accepted != 1 {
		t.Fatalf("stats %+v: want at least 4 parks, one wake fewer, 1 accepted", st)
	}
	t.Logf("TLS state: %s", session)
}

// Unhijack of a view: an HTTPS long-poll answered from an event gives its
// connection back; a request the client sent early (plaintext buffered
// above crypto/tls) is served next, and the connection hibernates
// afterwards like any other. Only the same *tls.Conn (keys, sequence
// numbers) can decrypt what the client sends on its one TLS session.
func TestServeTLSUnhijackLongPoll(t *testing.T) {
	event := make(chan string)
	ts := startTLS(t, false, longPollMux(t, event), nil)
	client := tlsRaw(t, ts)
	// The poll and, pipelined behind it, the next request.
	client.write("GET /poll HTTP/1.1\r\nHost: x\r\n\r\n" + getRequest("/next"))
	event <- "news" // taken once the poll is hijacked
	client.expect("GET", 200, "news")
	client.expect("GET", 200, "hello /next")
	waitParked(t, ts.pl, 1)
	client.write(getRequest("/again"))
	client.expect("GET", 200, "hello /again")
	if st := ts.pl.Stats(); st.Accepted != 1 || st.Wakes != 1 {
		t.Fatalf("stats %+v: want one connection, woken once", st)
	}
}
