//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// curl fetching several URLs in one run reuses one connection; --rate spaces
// the transfers (250 ms apart, grace 20 ms) so the connection parks between
// them. One transfer is an upload with Expect: 100-continue. curl must be
// installed (CI installs it); without it the test is skipped.
func TestHibernateCurlReuse(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not installed (CI installs it)")
	}
	ln, _ := serveTest(t, hibConfig(), hibMux(), nil)
	upload := randomBytes(300000, 7)
	file := filepath.Join(t.TempDir(), "upload.bin")
	if err := os.WriteFile(file, upload, 0o600); err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	const format = `|%{num_connects}|%{local_port}|%{http_code}\n`
	args := []string{"-s", "--rate", "4/s",
		"-w", format, base + "/c0", base + "/c1",
		"--next", "-w", format, "-H", "Expect: 100-continue", "--data-binary", "@" + file, base + "/sum",
		"--next", "-w", format, base + "/c3",
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, curl, args...).Output()
	if err != nil {
		t.Fatalf("curl %v: %v\n%s", args, err, out)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	bodies := []string{"hello /c0", "hello /c1", bodySum(upload), "hello /c3"}
	if len(lines) != len(bodies) {
		t.Fatalf("curl output %q: want %d transfers", out, len(bodies))
	}
	port := ""
	for i, line := range lines {
		f := strings.Split(line, "|")
		if len(f) != 4 {
			t.Fatalf("transfer %d: output line %q", i, line)
		}
		wantConnects := "0"
		if i == 0 {
			wantConnects, port = "1", f[2]
		}
		if f[0] != bodies[i] || f[1] != wantConnects || f[2] != port || f[3] != "200" {
			t.Fatalf("transfer %d: body %q, connects %s, port %s, status %s; want %q, %s, %s, 200 (all output %q)",
				i, f[0], f[1], f[2], f[3], bodies[i], wantConnects, port, out)
		}
	}
	waitStats(t, ln, "curl's connection closed", func(s Stats) bool { return s.Open == 0 })
	st := ln.Stats()
	t.Logf("curl: %d transfers on one connection (port %s); stats %+v", len(lines), port, st)
	// How many of the three gaps parked depends on scheduling; at least one
	// must have (each gap is > 10x the grace period).
	if st.Accepted != 1 || st.Parks == 0 || st.Wakes == 0 || st.Parks != st.Wakes+st.PeerGone {
		t.Fatalf("stats %+v: want 1 accepted, parks and wakes, every park ended by a wake or the peer", st)
	}
}
