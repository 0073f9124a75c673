#!/usr/bin/env bash
# Runs all of pollnet's tests: the library under the race detector, the
# compatibility suite and the benchmark tools (their own modules), the
# benchmark command's smoke run and the real-client scripts (curl, wrk,
# h2load, redis-benchmark, headless Chromium; installed with apt-get if
# missing). README.md gives this as the test command; .ci/run runs it.
set -euo pipefail
cd "$(dirname "$0")"

step() { printf '\n=== %s\n' "$*"; }

step "library: go test -race ./..."
go test -race -count=1 -timeout 15m ./...

# CI tests both supported Go releases. The go command fetches the second
# toolchain through the module proxy; the root package holds everything that
# depends on net/http's internals (DESIGN.md section 11).
step "library on Go 1.27.3: GOTOOLCHAIN=go1.27.3 go test -race ."
GOTOOLCHAIN=go1.27.3 go test -race -count=1 -timeout 15m .

step "compatibility suite: compat_test/"
(cd compat_test && go test -race -count=1 -timeout 15m ./...)

step "benchmark tools: bench/ (connbench, soak, peers)"
(cd bench && go test -race -count=1 -timeout 10m ./...)

for s in scripts/*.sh compat_test/clients.sh compat_test/chromium.sh; do
	[ -x "$s" ] || continue
	step "$s"
	"$s"
done

step "benchmark command smoke run"
go run ./cmd/connbench -smoke -scenarios http,ws,sse,tls \
	-servers std,pollnet-listener,pollnet-serve,nbhttp,gnetv2,pollnet-gnet -out "$(mktemp -d)"
