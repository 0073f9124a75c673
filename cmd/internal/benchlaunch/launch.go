// Package benchlaunch runs a command of the bench module (bench/cmd/NAME)
// from the repository root, so that `go run ./cmd/connbench` works in a fresh
// clone while the benchmark's dependencies stay in bench/go.mod, out of the
// library's go.mod.
//
// The launcher builds the real command with the go command into a temporary
// directory and runs it in the caller's working directory with the same
// arguments, standard streams and environment; it forwards SIGINT, SIGTERM
// and SIGHUP and exits with the command's exit code (128+N when a signal N
// ended it, as a shell reports it).
package benchlaunch

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/pollnet/pollnet/internal/gomod"
)

// benchModule is the module path of the bench module, declared in bench/go.mod.
const benchModule = "github.com/pollnet/pollnet/bench"

// Run builds bench/cmd/<name> and runs it with args; it returns the exit
// code for os.Exit.
func Run(name string, args []string) int {
	code, err := run(name, args)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
	}
	return code
}

func run(name string, args []string) (int, error) {
	wd, err := os.Getwd()
	if err != nil {
		return 1, err
	}
	dir, err := FindBench(wd)
	if err != nil {
		return 1, err
	}
	tmp, err := os.MkdirTemp("", name+"-")
	if err != nil {
		return 1, err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, name)
	build := exec.Command("go", "build", "-o", bin, "./cmd/"+name)
	build.Dir = dir
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return 1, fmt.Errorf("building %s in %s: %w", "./cmd/"+name, dir, err)
	}
	return runForwarding(exec.Command(bin, args...))
}

// runForwarding runs cmd with the launcher's streams, forwarding the
// signals that ask a program to stop, and returns its exit code.
func runForwarding(cmd *exec.Cmd) (int, error) {
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		return 1, err
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			select {
			case s := <-sigs:
				_ = cmd.Process.Signal(s)
			case <-done:
				return
			}
		}
	}()
	err := cmd.Wait()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return exit.ExitCode(), nil
	}
	if err != nil {
		return 1, err
	}
	return 0, nil
}

// FindBench returns the bench module's directory: dir/bench, or the bench
// directory of the first directory above dir that has one, or dir itself
// when it is inside the bench module.
func FindBench(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		for _, cand := range []string{filepath.Join(d, "bench"), d} {
			if b, err := os.ReadFile(filepath.Join(cand, "go.mod")); err == nil && gomod.ModulePath(b) == benchModule {
				return cand, nil
			}
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no bench module (bench/go.mod of %s) at or above %s: run from the pollnet repository", benchModule, dir)
		}
	}
}
