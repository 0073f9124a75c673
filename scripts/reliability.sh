#!/usr/bin/env bash
# Reliability runs that do not fit the unit tests (issue 6; scripts/RELIABILITY.md
# has the figures): each fuzz target for a short time, the 100,000 connection
# open/close cycles without the race detector (under -race `go test` runs 25,000),
# and a 30-second soak at 2,000 connections. Every step is bounded; the whole
# script takes about 2-3 minutes.
#
# FUZZTIME, SOAK_CONNS and SOAK_DURATION override the defaults.
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime=${FUZZTIME:-15s}
step() { printf '\n=== reliability: %s\n' "$*"; }

for target in FuzzSniffRequestLine FuzzParkRule; do
	step "fuzz $target for $fuzztime"
	# A short minimize time: a new interesting input is kept either way, and
	# minimizing slow park-rule inputs would eat the fuzzing time.
	go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" -fuzzminimizetime 3s .
done

step "100,000 open/close cycles (no race detector)"
go test -count=1 -timeout 5m -run '^TestReliabilityOpenCloseCycles$' -v . | grep -E '^(---|ok|FAIL|PASS)|stats'

step "soak: ${SOAK_CONNS:-2000} connections for ${SOAK_DURATION:-30s}"
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
(cd bench && go build -o "$bin/soak" ./cmd/soak) # the soak lives in the bench module
timeout 10m "$bin/soak" -conns "${SOAK_CONNS:-2000}" -duration "${SOAK_DURATION:-30s}"
