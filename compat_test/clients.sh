#!/usr/bin/env bash
# clients.sh: real HTTP clients that no one here wrote (curl, wrk, h2load)
# against cmd/clientserver on pollnet (hibernation on) and on std net, for
# comparison. Every check looks at status and body, not only at the exit
# code. Exits non-zero on any mismatch; kills its servers on exit; bounded
# (a few seconds per wrk run, fixed request counts elsewhere).
#
# Usage: compat_test/clients.sh   (from anywhere; .ci/run calls it)
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v curl >/dev/null || ! command -v wrk >/dev/null || ! command -v h2load >/dev/null ||
	! command -v openssl >/dev/null || ! command -v chromium >/dev/null; then
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl wrk nghttp2-client openssl chromium >/dev/null
fi

work=$(mktemp -d)
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	# Chromium's helper processes may still write to its profile in $work
	# for a moment after it exits: retry, and never let the cleanup decide
	# the script's exit status.
	rm -rf "$work" 2>/dev/null || { sleep 1; rm -rf "$work" 2>/dev/null; } || true
}
trap cleanup EXIT

fails=0
passes=0
pass() { passes=$((passes + 1)); echo "ok   $*"; }
fail() { fails=$((fails + 1)); echo "FAIL $*"; }
# check NAME WANT GOT
check() { if [[ "$2" == "$3" ]]; then pass "$1"; else fail "$1: want '$2', got '$3'"; fi; }

go build -o "$work/clientserver" ./cmd/clientserver

# Expected bodies.
big_line='pollnet compat big body 0123456789abcdefghijklmnopqrstuvwxyz'
big_sum=$( (yes "$big_line" || true) | head -c 1048576 | sha256sum | cut -d' ' -f1)
head -c 2097152 /dev/urandom >"$work/upload"
upload_sum=$(sha256sum <"$work/upload" | cut -d' ' -f1)
sum() { sha256sum <"$1" | cut -d' ' -f1; }

# start NAME FLAGS...: starts a server, sets PLAIN and TLS to its addresses.
start() {
	local name=$1
	shift
	"$work/clientserver" -addr-file "$work/$name.addr" "$@" >"$work/$name.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 200); do [[ -s "$work/$name.addr" ]] && break; sleep 0.05; done
	read -r plain tls <"$work/$name.addr" || { echo "server $name did not start"; cat "$work/$name.log"; exit 1; }
	PLAIN=${plain#plain=}
	TLS=${tls#tls=}
}

# curl_reuse NAME PROTO-FLAGS BASE: three URLs in one curl, one connection;
# --rate 4/s leaves 250 ms between requests (over the 50 ms idle grace, so a
# plaintext HTTP/1.1 connection hibernates and wakes between them).
curl_reuse() {
	local name=$1 flags=$2 base=$3 want_version=$4
	# shellcheck disable=SC2086
	curl -sS $flags --rate 4/s \
		-w '%{http_code} %{http_version} %{num_connects} %{size_download}\n' \
		-o "$work/r1" "$base/hello" -o "$work/r2" "$base/big" -o "$work/r3" "$base/hello" >"$work/curl.out" || true
	check "$name: statuses, versions, connections (1 then reused)" \
		"200 $want_version 1 5|200 $want_version 0 1048576|200 $want_version 0 5" "$(paste -sd'|' "$work/curl.out")"
	check "$name: bodies" "hello $big_sum hello" "$(cat "$work/r1") $(sum "$work/r2") $(cat "$work/r3")"
	rm -f "$work"/r[123]
}

# curl_each NAME FLAGS BASE VERSION: the same three URLs, one curl each.
# (curl 7.88 fails the second transfer of one invocation over h2c prior
# knowledge with "Error in the HTTP2 framing layer", against std net/http
# exactly as against pollnet: a client limitation, see README.md.)
curl_each() {
	local name=$1 flags=$2 base=$3 want_version=$4 out=""
	for path in hello big hello; do
		# shellcheck disable=SC2086
		out+="$(curl -sS $flags -w '%{http_code} %{http_version} %{size_download}' -o "$work/r" "$base/$path" || true) "
		out+="$(if [[ $path == big ]]; then sum "$work/r"; else cat "$work/r"; fi)|"
		rm -f "$work/r"
	done
	check "$name: statuses, versions, bodies" \
		"200 $want_version 5 hello|200 $want_version 1048576 $big_sum|200 $want_version 5 hello|" "$out"
}

# curl_continue NAME FLAGS BASE: two 2 MiB uploads with Expect: 100-continue
# on one connection, the second after an idle pause.
curl_continue() {
	local name=$1 flags=$2 base=$3
	# shellcheck disable=SC2086
	curl -sS $flags --rate 4/s -w '%{http_code} %{num_connects}\n' \
		-H 'Expect: 100-continue' --data-binary @"$work/upload" -o "$work/u1" "$base/echo" \
		--next $flags -w '%{http_code} %{num_connects}\n' \
		-H 'Expect: 100-continue' --data-binary @"$work/upload" -o "$work/u2" "$base/echo" >"$work/curl.out" || true
	check "$name: 100-continue statuses and connections" "200 1|200 0" "$(paste -sd'|' "$work/curl.out")"
	check "$name: 100-continue bodies" "$upload_sum $upload_sum" "$(sum "$work/u1") $(sum "$work/u2")"
	rm -f "$work"/u[12]
}

# wrk_check NAME URL WANT-LENGTH: wrk for 3 s; a Lua script checks every
# response's status and body length.
cat >"$work/check.lua" <<'LUA'
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) want = tonumber(args[1]); checked = 0; bad = 0 end
function response(status, headers, body)
	checked = checked + 1
	if status ~= 200 or #body ~= want then bad = bad + 1 end
end
function done(summary, latency, requests)
	local c, b = 0, 0
	for _, t in ipairs(threads) do c = c + t:get("checked"); b = b + t:get("bad") end
	io.write(string.format("checked %d bad %d\n", c, b))
end
LUA
wrk_check() {
	local name=$1 url=$2 want=$3 conns=$4
	wrk -t2 -c"$conns" -d3s --timeout 10s -s "$work/check.lua" "$url" -- "$want" >"$work/wrk.out" 2>&1 || true
	local checked bad
	read -r _ checked _ bad < <(grep '^checked ' "$work/wrk.out") || true
	if [[ -n "${checked:-}" && "$checked" -gt 0 && "$bad" == 0 ]] &&
		! grep -q 'Non-2xx' "$work/wrk.out" && ! grep -q 'Socket errors' "$work/wrk.out"; then
		pass "$name: wrk $conns connections, $checked responses checked, $(grep 'Requests/sec' "$work/wrk.out" | tr -s ' ')"
	else
		fail "$name: wrk"
		cat "$work/wrk.out"
	fi
}

# h2load_check NAME FLAGS URL N BODY-BYTES: N requests must all succeed,
# all 2xx, and carry N * BODY-BYTES of data.
h2load_check() {
	local name=$1 flags=$2 url=$3 n=$4 bytes=$5
	# shellcheck disable=SC2086
	h2load $flags -n "$n" -c 10 -m 10 "$url" >"$work/h2load.out" 2>&1 || true
	local want_data=$((n * bytes))
	if grep -q "requests: $n total, $n started, $n done, $n succeeded, 0 failed, 0 errored" "$work/h2load.out" &&
		grep -q "status codes: $n 2xx" "$work/h2load.out" &&
		grep -q "($want_data) data" "$work/h2load.out"; then
		pass "$name: h2load $n requests succeeded, $want_data body bytes"
	else
		fail "$name: h2load"
		cat "$work/h2load.out"
	fi
}

# openssl_session FLAGS LETTER: one TLS connection through openssl s_client:
# a request, an idle pause (the connection hibernates), s_client's command
# LETTER (K: a TLS 1.3 KeyUpdate asking for the server's; R: a TLS 1.2
# renegotiation), two more requests after pauses. Prints the number of
# responses and the alert s_client reports, if any.
openssl_session() {
	local flags=$1 letter=$2 req='GET /hello HTTP/1.1\nHost: x\n\n'
	{
		sleep 2 # s_client checks for its command letters per read of stdin: no request may wait unread
		# shellcheck disable=SC2059
		printf "$req"
		sleep 0.5
		printf '%s\n' "$letter"
		sleep 0.5
		# shellcheck disable=SC2059
		printf "$req"
		sleep 0.5
		printf 'GET /hello HTTP/1.1\nHost: x\nConnection: close\n\n'
		sleep 1
	} | {
		# shellcheck disable=SC2086
		timeout 20 openssl s_client -connect "$TLS" $flags -crlf >"$work/ossl.out" 2>&1 || true
	}
	echo "$(grep -o '200 OK' "$work/ossl.out" | wc -l) responses, $(grep -o 'alert [a-z ]*' "$work/ossl.out" | head -1)"
}

json_field() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"; }

run_suite() {
	local name=$1
	curl_reuse "$name http/1.1" "--http1.1" "http://$PLAIN" "1.1"
	curl_each "$name h2c prior knowledge" "--http2-prior-knowledge" "http://$PLAIN" "2"
	curl_reuse "$name h2c upgrade" "--http2" "http://$PLAIN" "2"
	curl_reuse "$name h2 over TLS" "-k --http2" "https://$TLS" "2"
	curl_reuse "$name http/1.1 over TLS" "-k --http1.1" "https://$TLS" "1.1"
	curl_continue "$name http/1.1" "--http1.1" "http://$PLAIN"
	curl_continue "$name h2 over TLS" "-k --http2" "https://$TLS"
	curl_continue "$name http/1.1 over TLS" "-k --http1.1" "https://$TLS"
	check "$name TLS 1.3 KeyUpdate after an idle pause" "3 responses, " "$(openssl_session -tls1_3 K)"
	renegotiation[$name]=$(openssl_session -tls1_2 R)
	browser "$name"
	wrk_check "$name /hello" "http://$PLAIN/hello" 5 50
	wrk_check "$name /big" "http://$PLAIN/big" 1048576 8
	h2load_check "$name h2c" "" "http://$PLAIN/hello" 2000 5
	h2load_check "$name h2 over TLS" "" "https://$TLS/hello" 2000 5
	h2load_check "$name http/1.1" "--h1" "http://$PLAIN/hello" 2000 5
	wrk_check "$name https /hello" "https://$TLS/hello" 5 50
	h2load_check "$name http/1.1 over TLS" "--h1" "https://$TLS/hello" 2000 5
}
declare -A renegotiation

# browser NAME: headless Chromium loads /page over HTTPS/1.1; the page's
# script fetches /hello three times with 300 ms pauses (the connection
# hibernates between them, on pollnet) and writes what it got.
browser() {
	local got
	got=$(timeout 90 chromium --headless --no-sandbox --disable-gpu --disable-http2 --ignore-certificate-errors \
		--user-data-dir="$work/chromium" --dump-dom "https://$TLS/page" 2>"$work/chromium.log" |
		grep -o 'fetched: [0-9][^<]*' || true)
	check "$1 Chromium over HTTPS/1.1, fetches with idle pauses" "fetched: 200 hello, 200 hello, 200 hello" "$got"
}

# hibernated WHAT PATH MIN: the listener whose stats PATH serves parked and
# woke connections at least MIN times.
hibernated() {
	local s parks wakes
	s=$(curl -sS "http://$PLAIN/$2")
	echo "pollnet $1 listener stats: $s"
	parks=$(json_field Parks <<<"$s")
	wakes=$(json_field Wakes <<<"$s")
	if [[ "${parks:-0}" -ge $3 && "${wakes:-0}" -ge $3 ]]; then
		pass "pollnet: idle $1 connections hibernated and woke (Parks $parks, Wakes $wakes)"
	else
		fail "pollnet: want $1 Parks and Wakes >= $3, stats $s"
	fi
}

start pollnet
echo "== pollnet (hibernation on, IdleGrace 50ms): plain $PLAIN, tls $TLS"
run_suite pollnet
# curl_reuse over http/1.1 and curl_continue park and wake the connection
# between requests: at least 2 + 1 wakes.
hibernated plain stats 3
# The same over TLS, the openssl sessions and the browser's fetches.
hibernated TLS tlsstats 7

start std -std
echo "== std: plain $PLAIN, tls $TLS"
run_suite std

check "TLS 1.2 renegotiation refused as std refuses it (${renegotiation[std]})" "${renegotiation[std]}" "${renegotiation[pollnet]}"

echo "clients: $passes passed, $fails failed"
[[ $fails == 0 ]]
