// Package serverproto is the small contract between connbench's orchestrator
// and every server it measures, whichever module the server lives in (the root
// module's servers, and the peers in bench/):
//
//   - the server takes -addr (the orchestrator passes 127.0.0.1:0) and, once it
//     accepts connections, prints one line "LISTENING <host:port>" on stdout;
//   - on SIGUSR1 it runs runtime.GC and debug.FreeOSMemory, then prints one line
//     "STATS goroutines=N [key=value ...]" (Stats' keys, e.g. parked=...);
//   - on SIGUSR2 it prints the same line without collecting garbage;
//   - it exits when its stdin reaches EOF (the orchestrator went away), on
//     SIGTERM or SIGINT, or after -max, whichever comes first.
//
// A server that does not speak this protocol can still be measured (RSS and
// CPU from /proc), but without GC before measuring and without goroutine counts.
package serverproto
