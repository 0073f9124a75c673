#!/usr/bin/env bash
# gnet-clients.sh: real clients nobody here wrote, against gnet/ examples.
#   - wrk against examples/gnethttp (HTTP/1.1 keep-alive): zero socket
#     errors and zero non-2xx responses required;
#   - redis-benchmark (Debian redis-tools) against examples/gnetredis (RESP
#     PING/ECHO): exit status 0 and no error replies required; redis-cli
#     checks the exact replies.
# Installs wrk / redis-tools with apt-get if missing. Bounded: about 30 s.
set -euo pipefail
cd "$(dirname "$0")/.."

updated=0
need() { # need <command> <debian package>
	command -v "$1" >/dev/null 2>&1 && return 0
	if [ "$updated" = 0 ]; then apt-get update -qq; updated=1; fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
}
need wrk wrk
need redis-benchmark redis-tools

tmp=$(mktemp -d)
pids=()
cleanup() {
	exec 3>&- 2>/dev/null || true
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

go build -o "$tmp/gnethttp" ./examples/gnethttp
go build -o "$tmp/gnetredis" ./examples/gnetredis

# --- wrk -> gnethttp. It speaks connbench's server protocol: prints
# "LISTENING host:port" and exits when stdin closes (fd 3 holds the fifo).
mkfifo "$tmp/in"
timeout 100 "$tmp/gnethttp" -addr 127.0.0.1:0 <"$tmp/in" >"$tmp/http.out" 2>&1 &
pids+=($!)
exec 3>"$tmp/in"
for _ in $(seq 100); do grep -q '^LISTENING' "$tmp/http.out" && break; sleep 0.1; done
addr=$(sed -n 's/^LISTENING //p' "$tmp/http.out")
[ -n "$addr" ] || fail "gnethttp did not start: $(cat "$tmp/http.out")"
body=$(curl -s --max-time 5 "http://$addr/" || true)
[ "$body" = "Hello, World!" ] || fail "gnethttp answered '$body'"
for c in 100 1000; do
	out=$(timeout 30 wrk -t2 -c$c -d3s "http://$addr/")
	echo "$out" | sed -n 's/^/  wrk -c'$c': /p' | grep -E 'Requests/sec|Socket|Non-2xx' || true
	echo "$out" | grep -q 'Requests/sec' || fail "wrk -c$c: no result"
	rps=$(echo "$out" | awk '/Requests\/sec/ {print int($2)}')
	[ "$rps" -gt 0 ] || fail "wrk -c$c: 0 requests/s"
	if echo "$out" | grep -qE 'Socket errors|Non-2xx'; then fail "wrk -c$c: errors: $out"; fi
done
echo "ok: wrk against examples/gnethttp"

# --- redis-benchmark -> gnetredis
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
timeout 100 "$tmp/gnetredis" -addr "127.0.0.1:$port" >"$tmp/redis.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do redis-cli -p "$port" PING >/dev/null 2>&1 && break; sleep 0.1; done
[ "$(redis-cli -p "$port" PING)" = "PONG" ] || fail "PING"
[ "$(redis-cli -p "$port" ECHO 'hello gnet')" = "hello gnet" ] || fail "ECHO"
for args in "-t ping -n 50000 -c 50" "-t ping -n 50000 -c 50 -P 16" "-n 30000 -c 50 ECHO hello"; do
	# shellcheck disable=SC2086
	out=$(timeout 30 redis-benchmark -h 127.0.0.1 -p "$port" -q $args 2>&1) || fail "redis-benchmark $args: exit $?: $out"
	echo "$out" | tr '\r' '\n' | grep -E 'requests per second' | sed 's/^/  redis-benchmark: /' | tail -3
	if echo "$out" | grep -qiE 'error|ERR '; then fail "redis-benchmark $args: $out"; fi
	echo "$out" | grep -q 'requests per second' || fail "redis-benchmark $args: no result: $out"
done
echo "ok: redis-benchmark against examples/gnetredis"
