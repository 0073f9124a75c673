#!/usr/bin/env bash
# load.sh: keep-alive HTTPS/1.1 load (wrk) against std's srv.ServeTLS and
# pollnet's ServeServerTLS (the tlsidle servers: same handler, certificate
# and TLS settings), alternating std and pollnet, ROUNDS rounds per
# connection count; prints each run and the median req/s and p99 ratios
# (pollnet / std).
#
# Usage (from bench/): tlsidle/load.sh [ROUNDS] [SECONDS] [CONNS...]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
secs=${2:-5}
shift 2 || true
conns=("${@:-100 1000}")
[[ ${#conns[@]} -eq 1 ]] && read -ra conns <<<"${conns[0]}"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }

work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/tlsidle" ./tlsidle

# start KIND: starts a server, sets ADDR.
start() {
	rm -f "$work/fifo"
	mkfifo "$work/fifo"
	"$work/tlsidle" -role server -server "$1" <"$work/fifo" >"$work/$1.out" 2>&1 &
	PID=$!
	exec 3>"$work/fifo" # the server exits when this closes
	for _ in $(seq 100); do grep -q LISTENING "$work/$1.out" 2>/dev/null && break; sleep 0.05; done
	ADDR=$(awk '/LISTENING/ {print $2}' "$work/$1.out")
	ADMIN=$(awk '/LISTENING/ {print $3}' "$work/$1.out")
}
stop() { exec 3>&-; wait 2>/dev/null || true; }

# cpu PID: the process's user+system CPU time in clock ticks.
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# p99 in microseconds from wrk --latency output.
us() {
	awk -v v="$1" 'BEGIN {
		n = v + 0; u = v; sub(/[0-9.]+/, "", u)
		if (u == "s") n *= 1e6; else if (u == "ms") n *= 1e3; else if (u == "us") n *= 1
		printf "%.0f", n }'
}

median() { sort -g | awk '{a[NR] = $1} END {if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

for c in "${conns[@]}"; do
	: >"$work/ratios-rps"
	: >"$work/ratios-p99"
	: >"$work/ratios-cpu"
	for r in $(seq "$rounds"); do
		declare -A rps p99 cpr
		for kind in std pollnet; do
			start "$kind"
			cpu0=$(cpu "$PID")
			wrk -t2 -c"$c" -d"${secs}s" --timeout 10s --latency "https://$ADDR/" >"$work/wrk.out" 2>&1 || true
			cpu1=$(cpu "$PID")
			st=$(curl -sS "http://$ADMIN/stats" | grep -o '"Parks":[0-9]*,"Wakes":[0-9]*' || true)
			stop
			rps[$kind]=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.out")
			p99[$kind]=$(us "$(awk '$1 == "99%" {print $2}' "$work/wrk.out")")
			reqs=$(awk '/requests in/ {print $1}' "$work/wrk.out")
			cpr[$kind]=$(awk -v t=$((cpu1 - cpu0)) -v n="$reqs" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.1f", t / hz * 1e6 / n}')
			errs=$(grep -E 'Socket errors|Non-2xx' "$work/wrk.out" | tr -s ' ' || true)
			printf 'c=%-5s round %d %-8s %10s req/s  p99 %8s us  server CPU %6s us/req  %s %s\n' "$c" "$r" "$kind" "${rps[$kind]}" "${p99[$kind]}" "${cpr[$kind]}" "$st" "$errs"
		done
		awk -v a="${rps[pollnet]}" -v b="${rps[std]}" 'BEGIN {print a / b}' >>"$work/ratios-rps"
		awk -v a="${p99[pollnet]}" -v b="${p99[std]}" 'BEGIN {print a / b}' >>"$work/ratios-p99"
		awk -v a="${cpr[pollnet]}" -v b="${cpr[std]}" 'BEGIN {print a / b}' >>"$work/ratios-cpu"
	done
	printf 'c=%s: pollnet/std req/s median %.3f (range %s), p99 median %.3f (range %s), server CPU/req median %.3f (range %s), %d rounds of %ss\n' "$c" \
		"$(median <"$work/ratios-rps")" "$(sort -g "$work/ratios-rps" | sed -n '1p;$p' | paste -sd-)" \
		"$(median <"$work/ratios-p99")" "$(sort -g "$work/ratios-p99" | sed -n '1p;$p' | paste -sd-)" \
		"$(median <"$work/ratios-cpu")" "$(sort -g "$work/ratios-cpu" | sed -n '1p;$p' | paste -sd-)" "$rounds" "$secs"
done
