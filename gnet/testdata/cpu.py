#!/usr/bin/env python3
"""Server CPU time per request and req/s under wrk, pollnet gnet/ vs gnet v2;
the order alternates per round (A B, B A, ...).

Usage: cpu.py POLLNET_BIN GNETV2_BIN [rounds] [wrk_seconds]
CPU per request is far less sensitive to other load on the machine than req/s.
"""
import fcntl, os, re, statistics, subprocess, sys, time

bins = {"pollnet": sys.argv[1], "gnetv2": sys.argv[2]}
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
secs = sys.argv[4] if len(sys.argv) > 4 else "4"
tck = os.sysconf("SC_CLK_TCK")

def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / tck  # utime + stime

res = {n: {100: [], 1000: []} for n in bins}
rps = {n: {100: [], 1000: []} for n in bins}
p99 = {n: {100: [], 1000: []} for n in bins}
for i in range(rounds):
    with open("/tmp/pollnet-bench.lock", "a") as lk:
        fcntl.flock(lk, fcntl.LOCK_EX)
        order = list(bins.items()) if i % 2 == 0 else list(bins.items())[::-1]
        for name, b in order:
            p = subprocess.Popen([b, "-addr", "127.0.0.1:0"], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, text=True)
            addr = None
            while addr is None:
                m = re.match(r"LISTENING (\S+)", p.stdout.readline())
                if m: addr = m.group(1)
            for c in (100, 1000):
                c0 = cpu(p.pid)
                w = subprocess.run(["wrk", "-t2", f"-c{c}", f"-d{secs}s", "--latency", f"http://{addr}/"],
                                   capture_output=True, text=True, timeout=60).stdout
                c1 = cpu(p.pid)
                n = int(re.search(r"(\d+) requests in", w).group(1))
                r = float(re.search(r"Requests/sec:\s+([\d.]+)", w).group(1))
                m = re.search(r"99%\s+([\d.]+)(us|ms|s)", w)
                p99[name][c].append(float(m.group(1)) * {"us": 1e-3, "ms": 1, "s": 1e3}[m.group(2)])
                res[name][c].append((c1 - c0) / n * 1e6)
                rps[name][c].append(r)
                print(f"round {i+1} {name} c{c}: {r:.0f} req/s, p99 {p99[name][c][-1]:.2f} ms, server CPU {(c1-c0)/n*1e6:.2f} us/request", flush=True)
            p.stdin.close(); p.wait(timeout=20)
        fcntl.flock(lk, fcntl.LOCK_UN)
for c in (100, 1000):
    a, b = statistics.median(res["pollnet"][c]), statistics.median(res["gnetv2"][c])
    ra, rb = statistics.median(rps["pollnet"][c]), statistics.median(rps["gnetv2"][c])
    pa, pb = statistics.median(p99["pollnet"][c]), statistics.median(p99["gnetv2"][c])
    print(f"c{c}: p99 pollnet {pa:.2f} ms, gnetv2 {pb:.2f} ms, ratio {pa/pb:.3f}")
    print(f"c{c}: CPU/request pollnet {a:.2f} us, gnetv2 {b:.2f} us, ratio {a/b:.3f}; req/s ratio {ra/rb:.3f}")
