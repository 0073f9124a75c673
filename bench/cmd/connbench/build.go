//go:build linux

package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// serverSpec says how to start one server under test.
type serverSpec struct {
	name       string
	path       string
	args       []string
	hibernates bool // idle connections park: wait for them before measuring
	profiles   bool // takes -cpuprofile
}

// peerPackages: where each peer's main package lives, relative to the repo
// root, and the module directory to build it in.
var peerPackages = map[string]struct{ moduleDir, pkg string }{
	"nbhttp":       {"bench", "./peers/nbhttp"},
	"gnetv2":       {"bench", "./peers/gnetv2http"},
	"pollnet-gnet": {".", "./examples/gnethttp"},
}

// findRepo returns the directory, at or above dir, whose go.mod declares
// module github.com/pollnet/pollnet.
func findRepo(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && modulePath(b) == "github.com/pollnet/pollnet" {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no pollnet repository (go.mod of github.com/pollnet/pollnet) at or above %s: use -repo", dir)
		}
	}
}

// modulePath returns the module path declared in a go.mod text.
func modulePath(gomod []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(gomod))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}

// serverSpecs resolves every requested server to a command, building the peers
// into binDir with go build.
func serverSpecs(cfg *config, self, binDir string, logf func(string, ...any)) ([]serverSpec, error) {
	var specs []serverSpec
	byModule := map[string][]string{} // module dir -> packages to build
	for _, name := range cfg.servers {
		if p, ok := peerPackages[name]; ok {
			byModule[p.moduleDir] = append(byModule[p.moduleDir], p.pkg)
			continue
		}
		if _, ok := rootServers[name]; !ok {
			return nil, fmt.Errorf("server %q is not built into this binary (built with -tags connbench_nopollnet?)", name)
		}
	}
	if len(byModule) > 0 {
		repo := cfg.repo
		if repo == "" {
			wd, err := os.Getwd()
			if err != nil {
				return nil, err
			}
			if repo, err = findRepo(wd); err != nil {
				return nil, err
			}
		}
		for mod, pkgs := range byModule {
			dir := filepath.Join(repo, mod)
			start := time.Now()
			logf("building %s in %s", strings.Join(pkgs, " "), dir)
			cmd := exec.Command("go", append([]string{"build", "-o", binDir + string(os.PathSeparator)}, pkgs...)...)
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			if err != nil {
				return nil, fmt.Errorf("go build %s (in %s): %v\n%s", strings.Join(pkgs, " "), dir, err, out)
			}
			logf("built in %v", time.Since(start).Round(100*time.Millisecond))
		}
	}
	for _, name := range cfg.servers {
		spec := serverSpec{name: name, args: []string{"-addr=127.0.0.1:0"}}
		if p, ok := peerPackages[name]; ok {
			spec.path = filepath.Join(binDir, filepath.Base(p.pkg))
			if _, err := os.Stat(spec.path); err != nil {
				return nil, errors.New("built binary missing: " + spec.path)
			}
		} else {
			spec.path = self
			spec.args = append(spec.args, "-role=server", "-server="+name, "-grace="+cfg.grace.String())
			spec.profiles = cfg.profile
		}
		spec.hibernates = name == "pollnet-serve"
		specs = append(specs, spec)
	}
	return specs, nil
}

// profilePath is where a server's CPU profile of one phase goes.
func profilePath(out, name, phase string) string {
	p := filepath.Join(out, name+"."+phase+".cpu.prof")
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}
