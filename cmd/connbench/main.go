// Command connbench measures what pollnet is for: server memory per idle
// connection, side by side with std and its peers, and what it costs in
// throughput, latency and CPU. The benchmark lives in the bench module
// (bench/cmd/connbench) so that its dependencies stay out of the library's
// go.mod; this launcher builds and runs it, so that from the repository root
//
//	go run ./cmd/connbench        # the default run
//	go run ./cmd/connbench -h     # every flag
//
// work in a fresh clone. Flags, exit code and signals pass through.
package main

import (
	"os"

	"github.com/pollnet/pollnet/cmd/internal/benchlaunch"
)

func main() { os.Exit(benchlaunch.Run("connbench", os.Args[1:])) }
