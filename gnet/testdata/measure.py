#!/usr/bin/env python3
"""Side-by-side measurement of pollnet gnet/ vs gnet v2 HTTP responders.

Usage: measure.py POLLNET_BIN GNETV2_BIN CONNHOLD_BIN [rounds] [wrk_seconds]
Each round holds /tmp/pollnet-bench.lock (flock) and measures A then B:
RSS per idle connection at N=18000 (connhold), then wrk -c100 and -c1000.
Prints one line per measurement and medians/ratios at the end.
"""
import fcntl, os, re, signal, statistics, subprocess, sys, time

pollnet, gnetv2, connhold = sys.argv[1:4]
rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 3
wrk_s = sys.argv[5] if len(sys.argv) > 5 else "5"
N = 18000

def rss(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024

def stats(p):
    p.send_signal(signal.SIGUSR1)
    while True:
        line = p.stdout.readline()
        if not line:
            raise SystemExit("server died")
        if line.startswith("STATS"):
            return line.strip()

def measure(name, binpath):
    p = subprocess.Popen([binpath, "-addr", "127.0.0.1:0"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    addr = None
    while addr is None:
        line = p.stdout.readline()
        m = re.match(r"LISTENING (\S+)", line)
        if m: addr = m.group(1)
    time.sleep(0.5)
    stats(p); time.sleep(0.5)
    rss0 = rss(p.pid)
    ready = f"/tmp/measure.{os.getpid()}.ready"
    if os.path.exists(ready): os.unlink(ready)
    ch = subprocess.Popen([connhold, "-addr", addr, "-n", str(N), "-src",
                           "127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5", "-hold", "8s",
                           "-ready", ready, "-max", "3m"], stdout=subprocess.PIPE, text=True)
    t0 = time.time()
    while not os.path.exists(ready):
        if ch.poll() is not None or time.time() - t0 > 150:
            raise SystemExit("connhold failed: " + ch.stdout.read())
        time.sleep(0.2)
    time.sleep(2)
    st = stats(p); time.sleep(1)
    rssN = rss(p.pid)
    out = ch.communicate(timeout=200)[0]
    res = re.search(r"RESULT .*", out).group(0)
    ok = re.search(r"fail1=0 .*fail2=0", res) is not None
    per = (rssN - rss0) / N
    r = {"rss_per_conn": per, "rss_ok": ok}
    print(f"{name}: RSS0={rss0} RSS{N}={rssN} per_conn={per:.0f}B {st} | {res}", flush=True)
    for c in (100, 1000):
        w = subprocess.run(["wrk", "-t2", f"-c{c}", f"-d{wrk_s}s", "--latency", f"http://{addr}/"],
                           capture_output=True, text=True, timeout=120).stdout
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", w).group(1))
        p99s = re.search(r"99%\s+([\d.]+)(us|ms|s)", w)
        p99 = float(p99s.group(1)) * {"us": 1e-3, "ms": 1, "s": 1e3}[p99s.group(2)]
        errs = re.search(r"Socket errors:.*", w)
        non2xx = re.search(r"Non-2xx.*", w)
        r[f"rps{c}"], r[f"p99_{c}"] = rps, p99
        print(f"{name}: wrk -c{c}: {rps:.0f} req/s p99 {p99:.2f} ms"
              f" {errs.group(0) if errs else ''} {non2xx.group(0) if non2xx else ''}", flush=True)
    p.stdin.close()
    try: p.wait(timeout=20)
    except subprocess.TimeoutExpired: p.kill(); p.wait()
    return r

res = {"pollnet": [], "gnetv2": []}
for i in range(rounds):
    with open("/tmp/pollnet-bench.lock", "a") as lk:
        fcntl.flock(lk, fcntl.LOCK_EX)
        print(f"--- round {i+1} (lock held)", flush=True)
        order = [("pollnet", pollnet), ("gnetv2", gnetv2)]
        for name, b in order:
            res[name].append(measure(name, b))
        fcntl.flock(lk, fcntl.LOCK_UN)
    time.sleep(1)

print("--- medians over", rounds, "rounds (A B alternating)")
med = {n: {k: statistics.median(x[k] for x in v) for k in v[0] if k != "rss_ok"} for n, v in res.items()}
for n, m in med.items():
    print(n, {k: round(v, 2) for k, v in m.items()})
a, b = med["pollnet"], med["gnetv2"]
print(f"RSS/conn: pollnet {a['rss_per_conn']:.0f} B, gnetv2 {b['rss_per_conn']:.0f} B, ratio {a['rss_per_conn']/b['rss_per_conn']:.2f}")
for c in (100, 1000):
    print(f"c{c}: throughput ratio {a[f'rps{c}']/b[f'rps{c}']:.3f}, p99 ratio {a[f'p99_{c}']/b[f'p99_{c}']:.3f}")
print("all connhold checks ok:", all(x["rss_ok"] for v in res.values() for x in v))
