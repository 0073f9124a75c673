//go:build linux

package main

import (
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseFlagsDefaults(t *testing.T) {
	c, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.n != 18000 || !reflect.DeepEqual(c.points, []int{1000, 6000, 12000, 18000}) {
		t.Errorf("n=%d points=%v", c.n, c.points)
	}
	if !reflect.DeepEqual(c.servers, []string{"std", "pollnet-listener", "pollnet-serve"}) {
		t.Errorf("servers=%v", c.servers)
	}
	if !reflect.DeepEqual(c.loadConns, []int{100, 1000}) || c.out != "connbench-out" || c.rounds < 1 {
		t.Errorf("loadConns=%v out=%q rounds=%d", c.loadConns, c.out, c.rounds)
	}
}

func TestParseFlagsSmokeKeepsExplicitFlags(t *testing.T) {
	c, err := parseFlags([]string{"-smoke", "-n", "50", "-servers", "std"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.n != 50 || !reflect.DeepEqual(c.points, []int{50}) {
		t.Errorf("explicit -n lost: n=%d points=%v", c.n, c.points)
	}
	if c.rounds != 1 || c.duration >= time.Second || c.trickleDuration > 2*time.Second {
		t.Errorf("smoke defaults not applied: %+v", c)
	}
}

func TestParseFlagsPoints(t *testing.T) {
	c, err := parseFlags([]string{"-n", "5000", "-points", "6000, 1000,1000,3000"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{1000, 3000, 5000}; !reflect.DeepEqual(c.points, want) {
		t.Errorf("points = %v, want %v", c.points, want)
	}
}

func TestParseFlagsErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-n", "0"}, "-n 0"},
		{[]string{"-n", "19000"}, "open-file limit"},
		{[]string{"-servers", "std,apache"}, `unknown server "apache"`},
		{[]string{"-servers", "std,std"}, "twice"},
		{[]string{"-servers", ","}, "no server"},
		{[]string{"-points", "a"}, "not an integer"},
		{[]string{"-points", "-5"}, "must be positive"},
		{[]string{"-load-conns", "0"}, "out of"},
		{[]string{"-duration", "0s"}, "-duration"},
		{[]string{"-rounds", "0"}, "-rounds"},
		{[]string{"-grace", "5s", "-trickle-interval", "2s"}, "must exceed -grace"},
		{[]string{"-trickle-duration", "1s", "-trickle-interval", "2s"}, "at least -trickle-interval"},
		{[]string{"-out", ""}, "-out"},
		{[]string{"-trickle-rounds", "0"}, "-trickle-rounds"},
		{[]string{"-bogus"}, "not defined"},
		{[]string{"extra"}, "unexpected argument"},
	} {
		_, err := parseFlags(tc.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want it to contain %q", tc.args, err, tc.want)
		}
	}
}

func TestRoleOf(t *testing.T) {
	for args, want := range map[string]string{
		"":                     "",
		"-n 5":                 "",
		"-role=server -x":      "server",
		"-x --role client":     "client",
		"-role":                "",
		"--role=orchestrator ": "orchestrator",
	} {
		if got := roleOf(strings.Fields(args)); got != want {
			t.Errorf("roleOf(%q) = %q, want %q", args, got, want)
		}
	}
}

func TestModulePath(t *testing.T) {
	if got := modulePath([]byte("// x\nmodule github.com/pollnet/pollnet\n\ngo 1.26\n")); got != "github.com/pollnet/pollnet" {
		t.Errorf("got %q", got)
	}
	if got := modulePath([]byte("go 1.26\n")); got != "" {
		t.Errorf("got %q", got)
	}
}
