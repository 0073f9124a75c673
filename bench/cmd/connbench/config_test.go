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
	if !reflect.DeepEqual(c.loadConns, []int{100, 1000}) || c.out != "connbench-out" || c.rounds < 1 || c.runs != 1 {
		t.Errorf("loadConns=%v out=%q rounds=%d runs=%d", c.loadConns, c.out, c.rounds, c.runs)
	}
	if !reflect.DeepEqual(c.arrivals, []string{"steps", "burst"}) || c.wsN != 18000 || c.sseN != 18000 || c.tlsN != 8000 {
		t.Errorf("arrivals=%v ws=%d sse=%d tls=%d", c.arrivals, c.wsN, c.sseN, c.tlsN)
	}
	for _, s := range scenarioNames {
		if !c.scenarios[s] || !c.requestedByDefault[s] {
			t.Errorf("scenario %s: enabled %v, default servers %v", s, c.scenarios[s], c.requestedByDefault[s])
		}
	}
	if !reflect.DeepEqual(c.wsServers, defaultServers["ws"]) || !reflect.DeepEqual(c.tlsServers, defaultServers["tls"]) {
		t.Errorf("ws=%v tls=%v", c.wsServers, c.tlsServers)
	}
}

func TestServerListsChooseScenarios(t *testing.T) {
	for args, want := range map[string][]string{
		"-servers std,nbhttp":                     {"http"},
		"-servers std -ws-servers ws-gobwas":      {"http", "ws"},
		"-servers std -scenarios http,tls":        {"http", "tls"},
		"-n 100":                                  {"http", "ws", "sse", "tls"},
		"-tls-servers tls-std -scenarios sse,tls": {"sse", "tls"},
	} {
		c, err := parseFlags(strings.Fields(args), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range scenarioNames {
			if c.scenarios[s] {
				got = append(got, s)
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: scenarios %v, want %v", args, got, want)
		}
	}
}

func TestMakePlanDropsUnbuiltDefaults(t *testing.T) {
	c, err := parseFlags([]string{"-scenarios", "ws,tls"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{"ws-gobwas": true, "ws-gorilla": true, "tls-std": true}
	p, err := makePlan(c, have)
	if err != nil {
		t.Fatal(err)
	}
	// ws-nbio is a peer program: never dropped by the servers program's list.
	if want := []string{"ws-gobwas", "ws-gorilla", "ws-nbio"}; !reflect.DeepEqual(p.servers["ws"], want) {
		t.Errorf("ws = %v, want %v", p.servers["ws"], want)
	}
	if len(p.servers["http"]) != 0 || len(p.notes) != 2 {
		t.Errorf("http=%v notes=%q", p.servers["http"], p.notes)
	}
	c, _ = parseFlags([]string{"-scenarios", "tls", "-tls-servers", "tls-pollnet"}, io.Discard)
	if _, err := makePlan(c, have); err == nil {
		t.Error("an explicitly requested server that is not built: no error")
	}
}

func TestParseFlagsSmokeKeepsExplicitFlags(t *testing.T) {
	c, err := parseFlags([]string{"-smoke", "-n", "50", "-servers", "std", "-ws-n", "40"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.n != 50 || !reflect.DeepEqual(c.points, []int{50}) {
		t.Errorf("explicit -n lost: n=%d points=%v", c.n, c.points)
	}
	if c.wsN != 40 || c.sseN != 200 {
		t.Errorf("smoke: ws-n %d (explicit 40), sse-n %d (smoke 200)", c.wsN, c.sseN)
	}
	if c.rounds != 1 || c.duration >= time.Second || c.trickleDuration > 2*time.Second {
		t.Errorf("smoke defaults not applied: %+v", c)
	}
}

func TestTimeoutScalesWithRuns(t *testing.T) {
	c, err := parseFlags([]string{"-runs", "3", "-timeout", "2m"}, io.Discard)
	if err != nil || c.timeout != 6*time.Minute {
		t.Errorf("timeout %v, %v; want 6m", c.timeout, err)
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
		{[]string{"-n", "1"}, "-n 1"},
		{[]string{"-ws-n", "20000"}, "-ws-n 20000"},
		{[]string{"-runs", "0"}, "-runs"},
		{[]string{"-arrival", "trickle"}, `unknown name "trickle"`},
		{[]string{"-scenarios", "http,grpc"}, `unknown name "grpc"`},
		{[]string{"-ws-servers", "std"}, `unknown name "std"`},
		{[]string{"-sse-events", "0"}, "-sse-events"},
		{[]string{"-n", "19000"}, "open-file limit"},
		{[]string{"-servers", "std,apache"}, `unknown name "apache"`},
		{[]string{"-servers", "std,std"}, "twice"},
		{[]string{"-servers", ","}, "empty list"},
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
		"-role=client -x":      "client",
		"-x --role client":     "client",
		"-role":                "",
		"--role=orchestrator ": "orchestrator",
	} {
		if got := roleOf(strings.Fields(args)); got != want {
			t.Errorf("roleOf(%q) = %q, want %q", args, got, want)
		}
	}
}
