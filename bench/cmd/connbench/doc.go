// Command connbench measures what pollnet is for: server memory per idle
// connection, side by side with std and the peers users would otherwise
// pick, and what it costs in throughput, latency and CPU.
//
//	go run ./cmd/connbench                 # from the repository root: every scenario, default servers
//	go run ./cmd/connbench -smoke          # a tiny run (CI)
//	go run ./cmd/connbench -runs 3         # three runs: the report shows min-median-max
//	go run ./cmd/connbench -scenarios http -servers std,pollnet-serve,nbhttp,gnetv2,pollnet-gnet
//	go run ./cmd/connbench -h              # every flag and server
//
// Scenarios, each with std (or the usual way on std) beside pollnet and its
// peers, in the same run:
//
//   - http: idle HTTP/1 keep-alive connections arriving two ways (steps:
//     connbench's client grows the set through -points, measuring at each;
//     burst: a fresh server, N/2 and N connections opened at once by 64
//     concurrent dialers), a trickle load (every idle connection sends one
//     request every few seconds: with hibernation each one wakes a parked
//     connection), and closed-loop keep-alive load at -load-conns;
//   - ws: idle WebSockets (gobwas/ws with a goroutine per connection,
//     gorilla/websocket, nbio, pollnet's gobwas/ws + OnReadable), one echoed
//     message per connection afterwards, and the latency of a message on an
//     idle WebSocket;
//   - sse: idle server-sent-event subscribers (std's Flusher handler,
//     pollnet's hijack + OnReadable with one broadcaster goroutine), the
//     server CPU of broadcasting one event to all of them, every subscriber
//     checked to receive every event exactly once;
//   - tls: idle HTTPS/1.1 keep-alive connections (TLS 1.3, an ECDSA P-256
//     certificate generated for the run), a second request on every TLS
//     session, and keep-alive load over TLS.
//
// Processes: this binary is the orchestrator and, re-executed with
// -role=client, the clients (one per server holding idle connections, one
// for the load). The servers are programs of their own, built with go build
// at the start: bench/servers (everything on net/http or std net), the peers
// in bench/peers, and examples/gnethttp of the root module (pollnet-gnet).
// They talk to the orchestrator over stdin and stdout (the servers through
// package serverproto of the root module); every child runs in its own
// process group, dies with the orchestrator (Pdeathsig) and is killed on
// every exit path. Client processes spread their source addresses over
// 127.0.0.2-9 and stay under 18,000 connections each.
//
// Measurements: RSS and CPU time from /proc (github.com/prometheus/procfs);
// latency in HDR histograms (github.com/HdrHistogram/hdrhistogram-go) that
// the clients send to the orchestrator, which merges the rounds before taking
// percentiles. Every figure of a run lands in a flat table of metrics; the
// report's tables, its targets (targets.go: figure, target, comparison, unit)
// and the chart are computed from those tables, with -runs > 1 as the median
// and the spread over the runs. Output: the text tables on stdout, and
// report.md, memory.svg (gonum.org/v1/plot) and results.json in -out.
// Progress bars (github.com/vbauerster/mpb) appear only on a terminal.
package main
