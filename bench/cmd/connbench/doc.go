// Command connbench measures what pollnet is for: server memory per idle
// keep-alive connection, side by side with std net/http and its peers, plus
// keep-alive throughput and latency and a load-balancer-like trickle load.
//
//	go run ./cmd/connbench                 # std, pollnet-listener, pollnet-serve; N = 18,000
//	go run ./cmd/connbench -smoke          # a tiny run (CI)
//	go run ./cmd/connbench -servers std,pollnet-serve,nbhttp,gnetv2,pollnet-gnet
//	go run ./cmd/connbench -h              # every flag
//
// One binary, three roles. The orchestrator (default) re-executes itself as
// the servers under test (-role=server) and as clients (-role=client): one
// per server to open, hold and re-check its idle connections and run the
// trickle load, and one for the keep-alive load. Peers are built with go build
// from the bench/ module (nbhttp, gnetv2) and from examples/gnethttp
// (pollnet-gnet). Servers and clients talk to the orchestrator over their
// stdin and stdout (package serverproto for the servers); every child runs in
// its own process group, dies with the orchestrator (Pdeathsig) and is killed
// on every exit path.
//
// The phases: for each server in turn, memory at each N of -points (RSS after
// a GC in the server, per connection, and goroutines) and a second request on
// every connection; then the trickle, alternating the servers while each holds
// its connections; then the keep-alive load at each -load-conns, alternating
// the servers over -rounds. It prints a table with ratios against std and
// writes report.md, memory.svg and results.json to -out.
package main
