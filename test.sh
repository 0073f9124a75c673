#!/usr/bin/env bash
# Runs all of pollnet's tests: the library under the race detector, the
# compatibility suite (its own module), the benchmark command's smoke run and
# the real-client scripts (curl, wrk, h2load, redis-benchmark, headless
# Chromium; installed with apt-get if missing). README.md gives this as the
# test command; .ci/run runs it.
set -euo pipefail
cd "$(dirname "$0")"

step() { printf '\n=== %s\n' "$*"; }

step "library: go test -race ./..."
go test -race -count=1 -timeout 15m ./...

step "compatibility suite: compat_test/"
(cd compat_test && go test -race -count=1 -timeout 15m ./...)

for s in scripts/*.sh compat_test/clients.sh compat_test/chromium.sh; do
	[ -x "$s" ] || continue
	step "$s"
	"$s"
done

step "benchmark command smoke run"
go run ./cmd/connbench -smoke -servers std,pollnet-listener,pollnet-serve,nbhttp,gnetv2,pollnet-gnet -out "$(mktemp -d)"
