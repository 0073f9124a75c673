//go:build linux

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/pollnet/pollnet/internal/gomod"
)

// serverInfo describes one server connbench can measure.
type serverInfo struct {
	name    string
	kind    string   // http, ws, sse or tls: what the client speaks to it
	program string   // key of programs
	args    []string // beyond -addr
	// waitFor is the server's STATS key that counts idle connections given
	// back to pollnet ("parked" by hibernation, "waiting" in OnReadable):
	// the orchestrator waits until it reaches the connections held before
	// measuring. "" for servers that keep their idle connections as they are.
	waitFor string
	about   string
}

// catalog lists every server, in report order within its kind.
var catalog = []serverInfo{
	{name: "std", kind: "http", program: "servers", about: "std: http.Serve on net.Listen"},
	{name: "pollnet-listener", kind: "http", program: "servers", about: "http.Serve on a pollnet listener (no hibernation)"},
	{name: "pollnet-serve", kind: "http", program: "servers", waitFor: "parked", about: "pollnet.Serve (idle connections hibernate)"},
	{name: "nbhttp", kind: "http", program: "nbhttp", about: "nbio's nbhttp, same handler (peer)"},
	{name: "gnetv2", kind: "http", program: "gnetv2http", about: "raw HTTP/1.1 responder on gnet v2 (peer)"},
	{name: "pollnet-gnet", kind: "http", program: "gnethttp", about: "the same responder on pollnet's gnet/"},
	{name: "ws-gobwas", kind: "ws", program: "servers", about: "gobwas/ws upgrade on http.Serve, a goroutine per connection (std)"},
	{name: "ws-gorilla", kind: "ws", program: "servers", about: "gorilla/websocket on http.Serve (std)"},
	{name: "ws-nbio", kind: "ws", program: "nbhttp", args: []string{"-websocket"}, about: "nbio's WebSocket server, non-blocking mode (peer)"},
	{name: "ws-pollnet", kind: "ws", program: "servers", waitFor: "waiting", about: "gobwas/ws upgrade on pollnet.Serve, pollnet.OnReadable between messages"},
	{name: "sse-std", kind: "sse", program: "servers", about: "std: a Flusher handler per subscriber waiting on a channel"},
	{name: "sse-pollnet", kind: "sse", program: "servers", waitFor: "waiting", about: "pollnet.Serve, hijack + OnReadable, one broadcaster goroutine"},
	{name: "tls-std", kind: "tls", program: "servers", about: "std: http.ServeTLS"},
	{name: "tls-pollnet", kind: "tls", program: "servers", waitFor: "parked", about: "pollnet.ServeTLS (idle connections hibernate)"},
}

// defaultServers are the servers measured when no list is given.
var defaultServers = map[string][]string{
	"http": {"std", "pollnet-listener", "pollnet-serve"},
	"ws":   {"ws-gobwas", "ws-gorilla", "ws-nbio", "ws-pollnet"},
	"sse":  {"sse-std", "sse-pollnet"},
	"tls":  {"tls-std", "tls-pollnet"},
}

// baselineServer is, for each kind, the server the others are compared with.
var baselineServer = map[string]string{"http": "std", "ws": "ws-gobwas", "sse": "sse-std", "tls": "tls-std"}

// programs: where each server program's main package lives, relative to the
// repository root, and the module directory to build it in.
var programs = map[string]struct{ moduleDir, pkg string }{
	"servers":    {"bench", "./servers"},
	"nbhttp":     {"bench", "./peers/nbhttp"},
	"gnetv2http": {"bench", "./peers/gnetv2http"},
	"gnethttp":   {".", "./examples/gnethttp"},
}

func infoOf(name string) serverInfo {
	for _, s := range catalog {
		if s.name == name {
			return s
		}
	}
	panic("connbench: no server " + name)
}

func serverNamesOf(kind string) []string {
	var out []string
	for _, s := range catalog {
		if s.kind == kind {
			out = append(out, s.name)
		}
	}
	return out
}

func serverHelp() string {
	var b strings.Builder
	for _, s := range catalog {
		fmt.Fprintf(&b, "  %-17s %-4s %s\n", s.name, s.kind, s.about)
	}
	return b.String()
}

// serverSpec says how to start one server under test.
type serverSpec struct {
	serverInfo
	path     string
	args     []string
	profiles bool // takes -cpuprofile
}

// findRepo returns the directory, at or above dir, whose go.mod declares
// module github.com/pollnet/pollnet.
func findRepo(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && gomod.ModulePath(b) == "github.com/pollnet/pollnet" {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no pollnet repository (go.mod of github.com/pollnet/pollnet) at or above %s: use -repo", dir)
		}
	}
}

// buildPrograms builds the programs the requested servers need into binDir
// with go build, one go command per module.
func buildPrograms(repo, binDir string, names []string, logf func(string, ...any)) error {
	byModule := map[string][]string{}
	seen := map[string]bool{}
	for _, name := range names {
		p := programs[infoOf(name).program]
		if !seen[p.pkg] {
			seen[p.pkg] = true
			byModule[p.moduleDir] = append(byModule[p.moduleDir], p.pkg)
		}
	}
	for mod, pkgs := range byModule {
		dir := filepath.Join(repo, mod)
		start := time.Now()
		logf("building %s in %s", strings.Join(pkgs, " "), dir)
		cmd := exec.Command("go", append([]string{"build", "-o", binDir + string(os.PathSeparator)}, pkgs...)...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s (in %s): %v\n%s", strings.Join(pkgs, " "), dir, err, out)
		}
		logf("built in %v", time.Since(start).Round(100*time.Millisecond))
	}
	return nil
}

// availableServers asks the servers program which servers it was built with
// (some need library APIs that may not exist yet).
func availableServers(binDir string) (map[string]bool, error) {
	out, err := exec.Command(filepath.Join(binDir, "servers"), "-list").Output()
	if err != nil {
		return nil, fmt.Errorf("servers -list: %w", err)
	}
	have := map[string]bool{}
	for _, n := range strings.Fields(string(out)) {
		have[n] = true
	}
	return have, nil
}

// specFor returns how to start server name.
func specFor(cfg *config, binDir, name string, tlsFiles [2]string) serverSpec {
	info := infoOf(name)
	spec := serverSpec{serverInfo: info, path: filepath.Join(binDir, filepath.Base(programs[info.program].pkg)),
		args: append([]string{"-addr=127.0.0.1:0"}, info.args...)}
	if info.program == "servers" {
		spec.args = append(spec.args, "-server="+name, "-grace="+cfg.grace.String())
		spec.profiles = cfg.profile
		if info.kind == "tls" {
			spec.args = append(spec.args, "-cert="+tlsFiles[0], "-key="+tlsFiles[1])
		}
	}
	return spec
}

// profilePath is where a server's CPU profile of one phase goes.
func profilePath(out, name, phase string) string {
	p := filepath.Join(out, name+"."+phase+".cpu.prof")
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}
