// Command soak runs pollnet through a long mixed workload and checks that
// nothing is lost and nothing leaks. It lives in the bench module
// (bench/cmd/soak); this launcher builds and runs it from the repository
// root, passing flags, exit code and signals through:
//
//	go run ./cmd/soak -conns 15000 -duration 5m
package main

import (
	"os"

	"github.com/pollnet/pollnet/cmd/internal/benchlaunch"
)

func main() { os.Exit(benchlaunch.Run("soak", os.Args[1:])) }
