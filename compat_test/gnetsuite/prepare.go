package gnetsuite

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/format"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

const (
	// GnetModule and GnetVersion name the suite's source.
	GnetModule  = "github.com/panjf2000/gnet/v2"
	GnetVersion = "v2.9.7"
	// OursModule is the path gnet v2 programs switch to.
	OursModule = "github.com/pollnet/pollnet/gnet"
)

// SuiteFiles are the gnet v2 root-package test files the suite runs. Its
// other root test files test internals (eventloop_unix_test.go,
// conn_matrix_test.go) or Windows (os_windows_test.go).
var SuiteFiles = []string{"gnet_test.go", "client_test.go", "os_unix_test.go"}

// testDeps are the modules the suite's files import beyond gnet, at the
// versions gnet v2.9.7's go.mod requires.
var testDeps = []string{
	"github.com/stretchr/testify@v1.10.0",
	"go.uber.org/zap@v1.27.0",
	"golang.org/x/sync@v0.11.0",
}

// GnetDir returns the directory of gnet v2.9.7 in the module cache,
// downloading it if needed.
func GnetDir() (string, error) {
	out, err := exec.Command("go", "mod", "download", "-json", GnetModule+"@"+GnetVersion).Output()
	if err != nil {
		return "", fmt.Errorf("go mod download %s: %v", GnetModule, err)
	}
	var m struct{ Dir string }
	if err := json.Unmarshal(out, &m); err != nil || m.Dir == "" {
		return "", fmt.Errorf("go mod download %s: no directory in %s", GnetModule, out)
	}
	return m.Dir, nil
}

// RewriteImports returns src with every import path under
// github.com/panjf2000/gnet/v2 moved under github.com/pollnet/pollnet/gnet,
// the module path prefix swap a gnet v2 program makes to switch. It changes
// nothing else.
func RewriteImports(name string, src []byte) ([]byte, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, name, src, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	for _, imp := range f.Imports {
		p, err := strconv.Unquote(imp.Path.Value)
		if err != nil {
			return nil, err
		}
		if p == GnetModule || strings.HasPrefix(p, GnetModule+"/") {
			imp.Path.Value = strconv.Quote(OursModule + strings.TrimPrefix(p, GnetModule))
		}
	}
	var buf bytes.Buffer
	if err := format.Node(&buf, fset, f); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// importPaths lists a file's imports (for checking a rewrite).
func importPaths(name string, src []byte) ([]string, error) {
	f, err := parser.ParseFile(token.NewFileSet(), name, src, parser.ImportsOnly)
	if err != nil {
		return nil, err
	}
	var ps []string
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		ps = append(ps, p)
	}
	return ps, nil
}

// PrepareOurs makes, in dir, a copy of the library module at repo (go.mod,
// go.sum, gnet/ and internal/ without their tests) with the suite's files,
// rewritten, in gnet/, and the suite's dependencies added to go.mod.
func PrepareOurs(repo, gnetDir, dir string) (pkgDir string, err error) {
	for _, f := range []string{"go.mod", "go.sum"} {
		if err := copyFile(filepath.Join(repo, f), filepath.Join(dir, f)); err != nil {
			return "", err
		}
	}
	for _, sub := range []string{"gnet", "internal"} {
		if err := copyTree(filepath.Join(repo, sub), filepath.Join(dir, sub), func(rel string) bool {
			return strings.HasSuffix(rel, ".go") && !strings.HasSuffix(rel, "_test.go") && !strings.Contains(rel, "testdata")
		}); err != nil {
			return "", err
		}
	}
	for _, name := range SuiteFiles {
		src, err := os.ReadFile(filepath.Join(gnetDir, name))
		if err != nil {
			return "", err
		}
		out, err := RewriteImports(name, src)
		if err != nil {
			return "", fmt.Errorf("%s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, "gnet", name), out, 0o644); err != nil {
			return "", err
		}
	}
	// The suite's dependencies: gnet v2's go.sum has their checksums.
	sum, err := os.ReadFile(filepath.Join(gnetDir, "go.sum"))
	if err != nil {
		return "", err
	}
	if err := appendFile(filepath.Join(dir, "go.sum"), sum); err != nil {
		return "", err
	}
	args := []string{"mod", "edit"}
	for _, d := range testDeps {
		args = append(args, "-require", d)
	}
	if err := goCmd(dir, args...); err != nil {
		return "", err
	}
	return filepath.Join(dir, "gnet"), nil
}

// ForceIOUring makes the copy of gnet/ in pkgDir run every engine on
// io_uring (gnet's test switch forceIOUring, set by an added test file), so
// that the suite runs on that backend too.
func ForceIOUring(pkgDir string) error {
	src := "package gnet\n\n// Added by compat_test/gnetsuite: every engine asks for io_uring.\nfunc init() { forceIOUring = true }\n"
	return os.WriteFile(filepath.Join(pkgDir, "zz_force_iouring_test.go"), []byte(src), 0o644)
}

// PrepareControl makes, in dir, a writable copy of gnet v2.9.7 whose root
// package keeps only the suite's test files.
func PrepareControl(gnetDir, dir string) (pkgDir string, err error) {
	keep := map[string]bool{}
	for _, f := range SuiteFiles {
		keep[f] = true
	}
	err = copyTree(gnetDir, dir, func(rel string) bool {
		if filepath.Dir(rel) == "." && strings.HasSuffix(rel, "_test.go") {
			return keep[rel]
		}
		return true
	})
	return dir, err
}

// Build compiles the test binary of the package in pkgDir to bin.
func Build(pkgDir, bin string, race bool) error {
	args := []string{"test", "-c", "-mod=mod", "-o", bin}
	if race {
		args = append(args, "-race")
	}
	return goCmd(pkgDir, append(args, ".")...)
}

func goCmd(dir string, args ...string) error {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
	}
	return nil
}

func copyTree(src, dst string, keep func(rel string) bool) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !d.Type().IsRegular() || !keep(rel) {
			return nil
		}
		return copyFile(p, filepath.Join(dst, rel))
	})
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}

func appendFile(name string, b []byte) error {
	f, err := os.OpenFile(name, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := f.Write(append([]byte("\n"), b...)); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
