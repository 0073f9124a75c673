//go:build unix

package serverproto

import (
	"bufio"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Handler body every server under test answers with.
const Body = "Hello, World!"

// Flags are the flags every server shares.
type Flags struct {
	Addr string
	Max  time.Duration
}

// Register adds -addr and -max to fs.
func (f *Flags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.Addr, "addr", "127.0.0.1:0", "listen address (loopback)")
	fs.DurationVar(&f.Max, "max", 10*time.Minute, "hard upper bound on the server's lifetime")
}

var outMu sync.Mutex

// Println writes one protocol line to stdout atomically.
func Println(line string) {
	outMu.Lock()
	defer outMu.Unlock()
	fmt.Fprintln(os.Stdout, line)
}

// Ready announces the listening address.
func Ready(addr net.Addr) { Println("LISTENING " + addr.String()) }

// FormatStats renders a STATS line: goroutines first, then extra keys sorted.
func FormatStats(goroutines int, extra map[string]int64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "STATS goroutines=%d", goroutines)
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%d", k, extra[k])
	}
	return b.String()
}

var (
	commandMu sync.Mutex
	command   func(line string) string
)

// HandleCommands makes h the handler of the commands read on stdin; it runs
// them one at a time, and its result is printed as "REPLY <result>".
func HandleCommands(h func(line string) string) {
	commandMu.Lock()
	defer commandMu.Unlock()
	command = h
}

func runCommand(line string) string {
	commandMu.Lock()
	h := command
	commandMu.Unlock()
	if h == nil {
		return "ERROR no command handler"
	}
	return h(line)
}

// Supervise installs the signal handlers and lifetime bounds described in the
// package comment. stats may be nil. stop is called (once, from another
// goroutine) when the server must exit; after it returns, the process exits.
func Supervise(max time.Duration, stats func() map[string]int64, stop func()) {
	var once sync.Once
	quit := func(code int) {
		once.Do(func() {
			if stop != nil {
				stop()
			}
			os.Exit(code)
		})
	}
	time.AfterFunc(max, func() {
		fmt.Fprintln(os.Stderr, "server: -max exceeded, exiting")
		quit(3)
	})
	go func() { // commands until stdin's EOF: then the orchestrator is gone
		lines := bufio.NewScanner(os.Stdin)
		for lines.Scan() {
			Println("REPLY " + runCommand(lines.Text()))
		}
		quit(0)
	}()
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		for s := range sigs {
			switch s {
			case syscall.SIGUSR1, syscall.SIGUSR2:
				if s == syscall.SIGUSR1 {
					runtime.GC()
					debug.FreeOSMemory()
				}
				var extra map[string]int64
				if stats != nil {
					extra = stats()
				}
				// This goroutine and the stdin watcher are the protocol's own.
				Println(FormatStats(runtime.NumGoroutine(), extra))
			default:
				quit(0)
			}
		}
	}()
}
