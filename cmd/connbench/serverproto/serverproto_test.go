//go:build unix

package serverproto

import (
	"flag"
	"testing"
	"time"
)

func TestFormatStats(t *testing.T) {
	got := FormatStats(7, map[string]int64{"wakes": 3, "parked": 2})
	if want := "STATS goroutines=7 parked=2 wakes=3"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := FormatStats(1, nil); got != "STATS goroutines=1" {
		t.Errorf("got %q", got)
	}
}

func TestFlags(t *testing.T) {
	var f Flags
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	f.Register(fs)
	if err := fs.Parse([]string{"-addr", "127.0.0.1:9", "-max", "3s"}); err != nil {
		t.Fatal(err)
	}
	if f.Addr != "127.0.0.1:9" || f.Max != 3*time.Second {
		t.Errorf("%+v", f)
	}
}

func TestCommands(t *testing.T) {
	defer HandleCommands(nil)
	if got := runCommand("broadcast 1"); got != "ERROR no command handler" {
		t.Errorf("no handler: %q", got)
	}
	HandleCommands(func(line string) string { return "done " + line })
	if got := runCommand("broadcast 1"); got != "done broadcast 1" {
		t.Errorf("handler: %q", got)
	}
}
