package handovercompat

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/pollnet/pollnet"
	"github.com/pollnet/pollnet/compat_test/internal/compat"
)

// Environment of a child process.
const (
	childEnv     = "POLLNET_HANDOVER_CHILD" // "activation" or "restart": run as the child
	hibernateEnv = "POLLNET_HANDOVER_HIBERNATE"
)

// handler answers /pid with the serving process's pid, /hello with "hello".
func handler(stats func() pollnet.Stats) http.Handler {
	mux := http.NewServeMux()
	pid := strconv.Itoa(os.Getpid())
	mux.HandleFunc("/pid", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, pid) })
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") })
	mux.HandleFunc("/stats", func(w http.ResponseWriter, r *http.Request) { json.NewEncoder(w).Encode(stats()) })
	return mux
}

// runChild is the child process: it serves on the listening socket it
// inherited as fd 3 until SIGTERM, then shuts down and prints its listener's
// final Stats. Its stdout protocol: "ready", then "stats {json}".
func runChild() int {
	if os.Getenv(childEnv) == "activation" {
		// sd_listen_fds(3): the fds are ours only if LISTEN_PID is our pid.
		if os.Getenv("LISTEN_PID") != strconv.Itoa(os.Getpid()) || os.Getenv("LISTEN_FDS") != "1" {
			fmt.Fprintf(os.Stderr, "child: LISTEN_PID=%q LISTEN_FDS=%q, pid %d\n", os.Getenv("LISTEN_PID"), os.Getenv("LISTEN_FDS"), os.Getpid())
			return 2
		}
		os.Unsetenv("LISTEN_PID")
		os.Unsetenv("LISTEN_FDS")
	}
	var lc pollnet.ListenConfig
	hibernate := os.Getenv(hibernateEnv) == "1"
	if hibernate {
		lc.IdleGrace = compat.Grace
	}
	f := os.NewFile(3, "inherited-listener")
	ln, err := lc.FileListener(f)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child: FileListener:", err)
		return 2
	}
	f.Close() // the Listener holds its own copy

	srv := &http.Server{Handler: handler(ln.Stats)}
	if hibernate {
		pollnet.Hibernate(srv)
	}
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	fmt.Println("ready")
	select {
	case <-term:
	case err := <-done:
		fmt.Fprintln(os.Stderr, "child: Serve:", err)
		return 2
	}
	if err := srv.Shutdown(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "child: Shutdown:", err)
		return 2
	}
	<-done
	stats, _ := json.Marshal(ln.Stats())
	fmt.Printf("stats %s\n", stats)
	return 0
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
