package http2compat

import (
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/summerwind/h2spec/config"
	"github.com/summerwind/h2spec/generic"
	"github.com/summerwind/h2spec/hpack"
	h2spechttp2 "github.com/summerwind/h2spec/http2"
	"github.com/summerwind/h2spec/spec"
)

// h2specScore is one h2spec run's result.
type h2specScore struct {
	Passed, Failed, Skipped int
	FailedCases             []string // "section/seq description", sorted
}

func (s h2specScore) String() string {
	return fmt.Sprintf("%d passed, %d failed, %d skipped of %d", s.Passed, s.Failed, s.Skipped, s.Passed+s.Failed+s.Skipped)
}

// h2specMu: h2spec prints through process-wide state (its log package and
// os.Stdout), so runs never overlap.
var h2specMu sync.Mutex

// runH2Spec runs h2spec's generic, http2 and hpack groups (not the strict
// ones, as the h2spec command does by default) against addr. h2spec prints
// its report to stdout; it goes to a file that is logged if the test fails.
func runH2Spec(t *testing.T, addr string, useTLS bool) h2specScore {
	t.Helper()
	h2specMu.Lock()
	defer h2specMu.Unlock()
	host, portStr, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portStr)
	c := &config.Config{
		Host:         host,
		Port:         port,
		Path:         "/",
		Timeout:      2 * time.Second, // the h2spec command's default
		MaxHeaderLen: 4000,
		TLS:          useTLS,
		Insecure:     true,
	}
	groups := []*spec.TestGroup{generic.Spec(), h2spechttp2.Spec(), hpack.Spec()}

	out, err := os.CreateTemp(t.TempDir(), "h2spec-*.log")
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = out
	for _, g := range groups {
		g.Test(c)
	}
	os.Stdout = stdout
	out.Close()
	t.Cleanup(func() {
		if t.Failed() {
			report, _ := os.ReadFile(out.Name())
			t.Logf("h2spec report for %s:\n%s", addr, report)
		}
	})

	var s h2specScore
	for _, g := range groups {
		collect(g, &s)
	}
	slices.Sort(s.FailedCases)
	return s
}

func collect(g *spec.TestGroup, s *h2specScore) {
	for i, tc := range append(g.Tests, g.StrictTests...) {
		switch r := tc.Result; {
		case r == nil: // not run (strict)
		case r.Failed:
			s.Failed++
			s.FailedCases = append(s.FailedCases, fmt.Sprintf("%s/%d %s", g.ID(), i+1, tc.Desc))
		case r.Skipped:
			s.Skipped++
		default:
			s.Passed++
		}
	}
	for _, sub := range g.Groups {
		collect(sub, s)
	}
}
