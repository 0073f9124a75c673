#!/usr/bin/env bash
# Headless Chromium against the chat and SSE examples of examples/longlived
# (served by cmd/browserserver on a hibernating pollnet listener): the test
# page joins the chat, subscribes to the events, and reports what it saw.
# Installs chromium with apt-get if missing. Bounded: 60 s for the report.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v chromium >/dev/null; then
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

tmp=$(mktemp -d)
browser=""
cleanup() {
	if [ -n "$browser" ]; then
		# Chromium runs in its own process group (setsid): end all of its
		# processes, which write to the profile directory until they exit.
		kill -- -"$browser" 2>/dev/null || true
		wait "$browser" 2>/dev/null || true
	fi
	# A straggler may still write there for a moment: retry, and never let
	# the cleanup decide the script's exit status.
	rm -rf "$tmp" 2>/dev/null || { sleep 1; rm -rf "$tmp" 2>/dev/null; } || true
}
trap cleanup EXIT

go build -o "$tmp/browserserver" ./cmd/browserserver
"$tmp/browserserver" -addrfile "$tmp/addr" -wait 60s &
server=$!
for _ in $(seq 100); do
	[ -s "$tmp/addr" ] && break
	sleep 0.1
done

setsid timeout 90 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
	--disable-background-networking --disable-component-update --disable-sync \
	--user-data-dir="$tmp/profile" "http://$(cat "$tmp/addr")/" >"$tmp/chromium.log" 2>&1 &
browser=$!

rc=0
wait "$server" || rc=$?
if [ "$rc" -ne 0 ]; then
	echo "chromium's log:"
	tail -20 "$tmp/chromium.log"
fi
exit "$rc"
