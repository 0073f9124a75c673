//go:build linux

package main

// target is one goal of the project (issues 12, 13 and 14; BENCHMARKS.md's
// targets), checked on a measure of one server in one scenario. The whole
// list is data: the report evaluates each row the same way, on the median
// over the runs.
type target struct {
	Figure   string
	Scenario string
	Server   string
	measure
	Cmp   string  // "<=" or ">="
	Limit float64 // in Unit
	Unit  string  // "B", "x", "+µs" (a difference), "goroutines": see format
	AtN   int     // the N the target is stated at (0: any); another N is indicative only
}

// Keep-alive throughput and latency against std, and against gnet v2.
var (
	rpsVsStd = measure{Quantity: "rps", Versus: "std", Relation: "ratio"}
	p99VsStd = measure{Quantity: "p99_us", Versus: "std", Relation: "ratio"}
)

var targets = []target{
	{Figure: "pollnet.Serve RSS per idle HTTP/1 connection, connbench client (steps)", Scenario: "http-steps", Server: "pollnet-serve",
		measure: measure{Quantity: "rss_per_conn"}, Cmp: "<=", Limit: 256, Unit: "B", AtN: 18000},
	{Figure: "pollnet.Serve marginal RSS per connection (steps)", Scenario: "http-steps", Server: "pollnet-serve",
		measure: measure{Quantity: "marginal"}, Cmp: "<=", Limit: 64, Unit: "B", AtN: 18000},
	{Figure: "pollnet.Serve RSS per idle HTTP/1 connection, 64-way connect burst", Scenario: "http-burst", Server: "pollnet-serve",
		measure: measure{Quantity: "rss_per_conn"}, Cmp: "<=", Limit: 256, Unit: "B", AtN: 18000},
	{Figure: "pollnet.Serve marginal RSS per connection (burst)", Scenario: "http-burst", Server: "pollnet-serve",
		measure: measure{Quantity: "marginal"}, Cmp: "<=", Limit: 64, Unit: "B", AtN: 18000},

	{Figure: "pollnet.Serve keep-alive req/s, 100 conns", Scenario: "http-load-100", Server: "pollnet-serve", measure: rpsVsStd, Cmp: ">=", Limit: 0.97, Unit: "x"},
	{Figure: "pollnet.Serve keep-alive p99, 100 conns", Scenario: "http-load-100", Server: "pollnet-serve", measure: p99VsStd, Cmp: "<=", Limit: 1.10, Unit: "x"},
	{Figure: "pollnet.Serve keep-alive req/s, 1,000 conns", Scenario: "http-load-1000", Server: "pollnet-serve", measure: rpsVsStd, Cmp: ">=", Limit: 0.97, Unit: "x"},
	{Figure: "pollnet.Serve keep-alive p99, 1,000 conns", Scenario: "http-load-1000", Server: "pollnet-serve", measure: p99VsStd, Cmp: "<=", Limit: 1.10, Unit: "x"},
	{Figure: "pollnet listener keep-alive req/s, 100 conns", Scenario: "http-load-100", Server: "pollnet-listener", measure: rpsVsStd, Cmp: ">=", Limit: 0.97, Unit: "x"},
	{Figure: "pollnet listener keep-alive p99, 100 conns", Scenario: "http-load-100", Server: "pollnet-listener", measure: p99VsStd, Cmp: "<=", Limit: 1.10, Unit: "x"},
	{Figure: "pollnet listener keep-alive req/s, 1,000 conns", Scenario: "http-load-1000", Server: "pollnet-listener", measure: rpsVsStd, Cmp: ">=", Limit: 0.97, Unit: "x"},
	{Figure: "pollnet listener keep-alive p99, 1,000 conns", Scenario: "http-load-1000", Server: "pollnet-listener", measure: p99VsStd, Cmp: "<=", Limit: 1.10, Unit: "x"},

	{Figure: "pollnet.Serve trickle: server CPU per request", Scenario: "http-steps", Server: "pollnet-serve",
		measure: measure{Quantity: "trickle_cpu_us", Versus: "std", Relation: "ratio"}, Cmp: "<=", Limit: 1.25, Unit: "x"},
	{Figure: "pollnet.Serve trickle: woken request p50 - std's", Scenario: "http-steps", Server: "pollnet-serve",
		measure: measure{Quantity: "trickle_p50_us", Versus: "std", Relation: "diff"}, Cmp: "<=", Limit: 100, Unit: "+µs"},
	{Figure: "pollnet.Serve trickle: woken request p99 - std's", Scenario: "http-steps", Server: "pollnet-serve",
		measure: measure{Quantity: "trickle_p99_us", Versus: "std", Relation: "diff"}, Cmp: "<=", Limit: 200, Unit: "+µs"},

	{Figure: "RSS per idle WebSocket (gobwas/ws + OnReadable)", Scenario: "ws", Server: "ws-pollnet",
		measure: measure{Quantity: "rss_per_conn"}, Cmp: "<=", Limit: 512, Unit: "B", AtN: 18000},
	{Figure: "goroutines with every WebSocket idle (O(1))", Scenario: "ws", Server: "ws-pollnet",
		measure: measure{Quantity: "goroutines"}, Cmp: "<=", Limit: 32, Unit: "goroutines"},
	{Figure: "message on an idle WebSocket: p99 - std's (gobwas/ws, goroutine per conn)", Scenario: "ws", Server: "ws-pollnet",
		measure: measure{Quantity: "trickle_p99_us", Versus: "ws-gobwas", Relation: "diff"}, Cmp: "<=", Limit: 200, Unit: "+µs"},
	{Figure: "RSS per idle SSE subscriber", Scenario: "sse", Server: "sse-pollnet",
		measure: measure{Quantity: "rss_per_conn"}, Cmp: "<=", Limit: 512, Unit: "B", AtN: 18000},
	{Figure: "goroutines with every SSE subscriber idle (O(1))", Scenario: "sse", Server: "sse-pollnet",
		measure: measure{Quantity: "goroutines"}, Cmp: "<=", Limit: 32, Unit: "goroutines"},
	{Figure: "server CPU to broadcast one event to every subscriber", Scenario: "sse", Server: "sse-pollnet",
		measure: measure{Quantity: "broadcast_cpu_us", Versus: "sse-std", Relation: "ratio"}, Cmp: "<=", Limit: 1.0, Unit: "x", AtN: 18000},

	{Figure: "RSS per idle HTTPS/1.1 keep-alive connection", Scenario: "tls", Server: "tls-pollnet",
		measure: measure{Quantity: "rss_per_conn"}, Cmp: "<=", Limit: 9000, Unit: "B", AtN: 8000},
	{Figure: "RSS per idle HTTPS connection vs std's (under a third)", Scenario: "tls", Server: "tls-pollnet",
		measure: measure{Quantity: "rss_per_conn", Versus: "tls-std", Relation: "ratio"}, Cmp: "<=", Limit: 0.333, Unit: "x", AtN: 8000},
	{Figure: "pollnet.ServeTLS keep-alive req/s, 100 conns", Scenario: "tls-load-100", Server: "tls-pollnet",
		measure: measure{Quantity: "rps", Versus: "tls-std", Relation: "ratio"}, Cmp: ">=", Limit: 0.95, Unit: "x"},
	{Figure: "pollnet.ServeTLS keep-alive p99, 100 conns", Scenario: "tls-load-100", Server: "tls-pollnet",
		measure: measure{Quantity: "p99_us", Versus: "tls-std", Relation: "ratio"}, Cmp: "<=", Limit: 1.10, Unit: "x"},
	{Figure: "pollnet.ServeTLS keep-alive req/s, 1,000 conns", Scenario: "tls-load-1000", Server: "tls-pollnet",
		measure: measure{Quantity: "rps", Versus: "tls-std", Relation: "ratio"}, Cmp: ">=", Limit: 0.95, Unit: "x"},
	{Figure: "pollnet.ServeTLS keep-alive p99, 1,000 conns", Scenario: "tls-load-1000", Server: "tls-pollnet",
		measure: measure{Quantity: "p99_us", Versus: "tls-std", Relation: "ratio"}, Cmp: "<=", Limit: 1.10, Unit: "x"},

	{Figure: "pollnet gnet/ RSS per idle connection", Scenario: "http-steps", Server: "pollnet-gnet",
		measure: measure{Quantity: "rss_per_conn"}, Cmp: "<=", Limit: 256, Unit: "B", AtN: 18000},
	{Figure: "pollnet gnet/ req/s vs gnet v2, 100 conns", Scenario: "http-load-100", Server: "pollnet-gnet",
		measure: measure{Quantity: "rps", Versus: "gnetv2", Relation: "ratio"}, Cmp: ">=", Limit: 1.0, Unit: "x"},
	{Figure: "pollnet gnet/ p99 vs gnet v2, 100 conns", Scenario: "http-load-100", Server: "pollnet-gnet",
		measure: measure{Quantity: "p99_us", Versus: "gnetv2", Relation: "ratio"}, Cmp: "<=", Limit: 1.10, Unit: "x"},
	{Figure: "pollnet gnet/ req/s vs gnet v2, 1,000 conns", Scenario: "http-load-1000", Server: "pollnet-gnet",
		measure: measure{Quantity: "rps", Versus: "gnetv2", Relation: "ratio"}, Cmp: ">=", Limit: 1.0, Unit: "x"},
	{Figure: "pollnet gnet/ p99 vs gnet v2, 1,000 conns", Scenario: "http-load-1000", Server: "pollnet-gnet",
		measure: measure{Quantity: "p99_us", Versus: "gnetv2", Relation: "ratio"}, Cmp: "<=", Limit: 1.10, Unit: "x"},
}

// met reports whether v meets the target.
func (t target) met(v float64) bool {
	if t.Cmp == ">=" {
		return v >= t.Limit
	}
	return v <= t.Limit
}
