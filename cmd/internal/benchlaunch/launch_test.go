package benchlaunch

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

func TestFindBench(t *testing.T) {
	root := t.TempDir()
	bench := filepath.Join(root, "bench")
	sub := filepath.Join(root, "gnet", "pkg")
	for _, d := range []string{bench, sub, filepath.Join(bench, "cmd")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(bench, "go.mod"), []byte("module "+benchModule+"\n\ngo 1.26.0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, from := range []string{root, sub, bench, filepath.Join(bench, "cmd")} {
		got, err := FindBench(from)
		if err != nil || got != bench {
			t.Errorf("FindBench(%s) = %q, %v; want %q", from, got, err, bench)
		}
	}
	if _, err := FindBench(t.TempDir()); err == nil {
		t.Error("FindBench found a bench module where there is none")
	}
}

// TestRunForwardingExitCode runs this test binary as a child that exits
// with a chosen code.
func TestRunForwardingExitCode(t *testing.T) {
	if code := os.Getenv("BENCHLAUNCH_EXIT"); code != "" {
		n, _ := strconv.Atoi(code)
		os.Exit(n)
	}
	for _, want := range []int{0, 3} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestRunForwardingExitCode$")
		cmd.Env = append(os.Environ(), "BENCHLAUNCH_EXIT="+strconv.Itoa(want))
		got, err := runForwarding(cmd)
		if err != nil || got != want {
			t.Errorf("exit %d: got %d, %v", want, got, err)
		}
	}
}
