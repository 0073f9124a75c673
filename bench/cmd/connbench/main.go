//go:build linux

package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

// roleOf returns the -role flag's value in args ("" for the orchestrator).
func roleOf(args []string) string {
	for i, a := range args {
		for _, p := range []string{"-role=", "--role="} {
			if v, ok := strings.CutPrefix(a, p); ok {
				return v
			}
		}
		if (a == "-role" || a == "--role") && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

func run(args []string) int {
	switch role := roleOf(args); role {
	case "client":
		return runClient(args, os.Stdin, os.Stdout, os.Stderr)
	case "", "orchestrator":
	default:
		fmt.Fprintf(os.Stderr, "connbench: unknown -role %q (client, or none)\n", role)
		return 2
	}
	cfg, err := parseFlags(args, os.Stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(os.Stderr, "connbench: %v\n", err)
		return 2
	}
	// Every exit path kills the children: Ctrl-C, SIGTERM, -timeout.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		s := <-sigs
		killAll()
		removeTemp()
		fmt.Fprintf(os.Stderr, "\nconnbench: %v: stopped, every started process killed\n", s)
		os.Exit(130)
	}()
	timer := time.AfterFunc(cfg.timeout, func() {
		killAll()
		removeTemp()
		fmt.Fprintf(os.Stderr, "\nconnbench: -timeout %v exceeded: stopped, every started process killed\n", cfg.timeout)
		os.Exit(1)
	})
	defer timer.Stop()
	command := "go run ./cmd/connbench"
	if len(args) > 0 {
		command += " " + strings.Join(args, " ")
	}
	code := orchestrate(cfg, command, os.Stdout, os.Stderr)
	killAll()
	return code
}
