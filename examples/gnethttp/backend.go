//go:build unix

package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/pollnet/pollnet/gnet"
)

// -iouring runs the responder's loops on io_uring: the benchmarks compare
// both backends of pollnet's gnet/ with gnet v2 on the same program. This
// file is the only difference from bench/peers/gnetv2http besides the imports.
var iouring = flag.Bool("iouring", false, "run the event loops on io_uring (Linux 6.1+)")

// backendOption is the Run option -iouring selects.
func backendOption() gnet.Option { return gnet.WithIOUring(*iouring) }

// checkBackend reports the backend on stderr and exits if io_uring was
// asked for and is unavailable: a benchmark must not measure epoll by mistake.
func checkBackend(eng gnet.Engine) {
	fmt.Fprintf(os.Stderr, "gnethttp: backend %s\n", eng.Backend())
	if *iouring && eng.Backend() != gnet.BackendIOUring {
		fmt.Fprintf(os.Stderr, "gnethttp: %v\n", eng.IOUringErr())
		os.Exit(1)
	}
}
