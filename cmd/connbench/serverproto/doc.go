// Package serverproto is the small contract between connbench's orchestrator
// and every server it measures, whichever module the server lives in (the
// servers and peers of the bench module, examples/gnethttp of this one). It
// stays in the root module, with no dependency beyond std, because
// examples/gnethttp speaks it too:
//
//   - the server takes -addr (the orchestrator passes 127.0.0.1:0) and, once it
//     accepts connections, prints one line "LISTENING <host:port>" on stdout;
//   - on SIGUSR1 it runs runtime.GC and debug.FreeOSMemory, then prints one line
//     "STATS goroutines=N [key=value ...]" (Stats' keys, e.g. parked=...);
//   - on SIGUSR2 it prints the same line without collecting garbage;
//   - every line it reads on stdin is a command for the handler registered
//     with HandleCommands (e.g. "broadcast 3" for an SSE server); the
//     handler's answer is printed as one line "REPLY <answer>" (or
//     "REPLY ERROR no command handler");
//   - it exits when its stdin reaches EOF (the orchestrator went away), on
//     SIGTERM or SIGINT, or after -max, whichever comes first.
//
// A server that does not speak this protocol can still be measured (RSS and
// CPU from /proc), but without GC before measuring and without goroutine counts.
package serverproto
