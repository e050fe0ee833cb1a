#!/usr/bin/env python3
"""Runs the measurements of bench/serve.sh against a live `recital serve` and prints one JSON
record (standard library only; wrk for the HTTP load).

  serve_run.py --recital BIN --helper SERVE_BENCH --index DIR --inputs DIR --work DIR --mode quick|full
               [--llama-url URL --llama-model NAME --llama-prompts FILE] [--llama-status TEXT]
               [--only-streams ENDPOINT/TEXT/CONCURRENCY,...] [--port N]

--only-streams runs the streams phase alone, and of it the rows that match (bench/serve_streams.sh).

Phases (durations depend on --mode; see PLAN):
  inproc     serve_bench inproc: the scan.jsonl outputs scanned in-process (5 variants)
  scan_c1    wrk, 1 connection, POST /v1/scan: latency with no queueing
  paired     rounds of [in-process evaluate_json on 2 threads | wrk /v1/scan, 4 connections],
             the order alternating; per round the ratio of requests/s (HTTP ÷ in-process) and of
             CPU time per request (server ÷ in-process; robust to other processes taking a core)
  scan_c16   wrk, 16 connections: latency when overloaded
  filter_c4  wrk, 4 connections, POST /v1/filter
  streams    serve_bench stream against the scripted upstream, direct and through the proxy, then
             direct and through the null hop (serve_bench relay forwarding bytes, 2 worker threads
             like the server's: what any extra hop costs on this machine under the same load);
             chat content streams, then tool-call streams (the text JSON-escaped in a tool call's
             arguments fragments) and Responses streams (POST /v1/responses, output_text deltas)
  registry   notices and works: time to acknowledgement, then the first /v1/filter after it
  after      wrk /v1/scan (4 connections) and in-process evaluate_json again, after the works
             were registered (the index now has one delta shard per work), paired with the
             same measured just before the registry phase
  llama      (full mode, when --llama-url is given) the proxy in front of llama-cpp-python, through a
             recording relay (serve_bench relay) on both paths; the proxy's delay is measured against
             the relay's arrival times of the same run; then the null hop in front of the relay; then
             both again with the model pinned to CPU 1 and the rest to CPU 0 (--llama-pid)

For every wrk run it also records the server's CPU time per request (/proc/PID/stat) and how
busy the whole machine was (/proc/stat): other processes on the 2 cores show up there.
"""
import argparse
import shutil
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time

PLAN = {
    "quick": dict(inproc_secs=2, c1_secs=8, paired_rounds=5, paired_in_secs=2, paired_wrk_secs=4,
                  c16_secs=5, filter_secs=5, after_secs=5,
                  streams=[("held-out", 1, 6), ("quoting", 1, 4), ("held-out", 8, 16), ("held-out", 16, 16),
                           ("held-out", 1, 6, "tool-calls"), ("quoting", 1, 4, "tool-calls"),
                           ("held-out", 8, 16, "tool-calls"),
                           ("held-out", 1, 6, "responses"), ("quoting", 1, 4, "responses"),
                           ("held-out", 8, 16, "responses")]),
    "full": dict(inproc_secs=4, c1_secs=15, paired_rounds=7, paired_in_secs=3, paired_wrk_secs=6,
                 c16_secs=10, filter_secs=10, after_secs=10,
                 streams=[("held-out", 1, 12), ("quoting", 1, 8), ("held-out", 8, 32), ("held-out", 16, 32),
                          ("held-out", 32, 64),
                          ("held-out", 1, 12, "tool-calls"), ("quoting", 1, 8, "tool-calls"),
                          ("held-out", 8, 32, "tool-calls"), ("held-out", 16, 32, "tool-calls"),
                          ("held-out", 1, 12, "responses"), ("quoting", 1, 8, "responses"),
                          ("held-out", 8, 32, "responses"), ("held-out", 16, 32, "responses")]),
}


def log(msg):
    print(f"==> {msg}", file=sys.stderr, flush=True)


def cpu_ticks(pid):
    """utime + stime of a process, in clock ticks."""
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])


def machine_ticks():
    """(busy, total) jiffies of all CPUs."""
    v = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v) - idle, sum(v)


TCK = os.sysconf("SC_CLK_TCK")


def pin(pid, cpus):
    """Sets the CPU affinity of every thread of process `pid` (threads started later inherit it);
    True when every thread still running has exactly `cpus` afterwards."""
    ok = True
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            os.sched_setaffinity(int(tid), cpus)
            ok = ok and os.sched_getaffinity(int(tid)) == set(cpus)
        except ProcessLookupError:
            pass  # a thread that just exited
        except OSError:
            ok = False
    return ok


class Proc:
    """A child process whose stderr goes to a log file; waits for a line matching `ready`."""

    def __init__(self, name, argv, logdir, ready, timeout=60, env=None):
        self.name = name
        self.log_path = os.path.join(logdir, f"{name}.log")
        self.log = open(self.log_path, "w")
        self.p = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, env=env,
                                  start_new_session=True)
        t0 = time.time()
        while time.time() - t0 < timeout:
            if self.p.poll() is not None:
                raise SystemExit(f"serve_run.py: {name} exited ({self.p.returncode}); see {self.log_path}")
            if re.search(ready, open(self.log_path, errors="replace").read()):
                return
            time.sleep(0.05)
        raise SystemExit(f"serve_run.py: {name} not ready after {timeout} s; see {self.log_path}")

    @property
    def pid(self):
        return self.p.pid

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(15)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.log.close()


def wrk(url, bodies, conns, secs, server_pid, script):
    """One wrk run: its counts and percentiles, req/s, server CPU per request, machine busy."""
    c0, (b0, t0) = cpu_ticks(server_pid), machine_ticks()
    out = subprocess.run(["wrk", "-t1", f"-c{conns}", f"-d{secs}s", "--timeout", "10s", "-s", script, url,
                          "--", bodies], capture_output=True, text=True, check=True).stdout
    c1, (b1, t1) = cpu_ticks(server_pid), machine_ticks()
    m = re.search(r"^WRKJSON (.*)$", out, re.M)
    if not m:
        raise SystemExit(f"serve_run.py: no WRKJSON line from wrk:\n{out}")
    r = json.loads(m.group(1))
    n = max(r["requests"], 1)
    r.update(connections=conns, secs=secs, rps=r["requests"] / (r["duration_us"] / 1e6),
             server_cpu_ms_per_req=(c1 - c0) / TCK * 1e3 / n,
             server_cpu_cores=(c1 - c0) / TCK / (r["duration_us"] / 1e6),
             machine_busy=(b1 - b0) / max(t1 - t0, 1), response_bytes_mean=r["bytes"] / n,
             errors=sum(r[k] for k in r if k.startswith("errors_")))
    log(f"wrk {url.rsplit('/', 1)[-1]} c={conns}: {r['rps']:.0f} req/s, p50 {r['lat_p50_us'] / 1e3:.2f} ms, "
        f"p99 {r['lat_p99_us'] / 1e3:.2f} ms, server {r['server_cpu_ms_per_req']:.3f} CPU-ms/req, "
        f"machine busy {r['machine_busy']:.0%}, errors {r['errors']}")
    return r


def step_histogram(addr):
    """The service's histogram of filter steps (recital_scan_seconds: each stream step's scan and
    decision, and each whole scan): {upper bound in s: count}, with "sum" and "count"."""
    host, port = addr.rsplit(":", 1)
    c = http.client.HTTPConnection(host, int(port), timeout=10)
    c.request("GET", "/metrics")
    h = {}
    for line in c.getresponse().read().decode().splitlines():
        m = re.match(r'recital_scan_seconds_(bucket\{le="([^"]+)"\}|sum|count) (\S+)$', line)
        if m:
            h[m.group(2) or m.group(1)] = float(m.group(3))
    c.close()
    return h


def step_stats(before, after):
    """Filter steps between two step_histogram()s: how many, their mean, and how many took longer
    than 0.5, 1 and 2 ms (wall time on the worker, preemption by other processes included)."""
    n = after["count"] - before["count"]
    over = {f"over_{k}ms": n - (after[b] - before[b]) for k, b in (("0.5", "0.0005"), ("1", "0.001"), ("2", "0.002"))}
    return dict(n=n, mean_ms=(after["sum"] - before["sum"]) * 1e3 / max(n, 1), **over)


def stream_selected(row, patterns):
    """Whether a PLAN streams row (TEXT, CONCURRENCY, N[, ENDPOINT]) matches one of the comma-separated
    ENDPOINT/TEXT/CONCURRENCY patterns (`*` matches anything)."""
    kind, conc, _n, *endpoint = row
    have = (endpoint[0] if endpoint else "chat", kind, str(conc))
    for p in patterns.split(","):
        want = p.strip().split("/") + ["*"] * 3
        if all(w in ("*", h) for w, h in zip(want[:3], have)):
            return True
    return False


def helper_json(argv):
    out = subprocess.run(argv, capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"serve_run.py: {' '.join(argv[:2])} failed:\n{out.stderr[-3000:]}")
    for line in out.stderr.splitlines():
        if line.startswith("serve_bench"):
            print("   " + line, file=sys.stderr)
    return json.loads(out.stdout)


class Client:
    """Keep-alive JSON client."""

    def __init__(self, addr):
        host, port = addr.rsplit(":", 1)
        self.c = http.client.HTTPConnection(host, int(port), timeout=60)

    def post(self, path, body):
        data = json.dumps(body).encode()
        self.c.request("POST", path, data, {"Content-Type": "application/json"})
        r = self.c.getresponse()
        raw = r.read()
        return r.status, json.loads(raw) if raw else None


def registry(addr, items):
    """Notices and works, each followed at once by the /v1/filter that must honour it."""
    cl = Client(addr)
    rows = []
    for it in items:
        filt = {"text": it["quote"]}
        st, before = cl.post("/v1/filter", filt)
        t0 = time.perf_counter()
        if it["kind"] == "notice":
            st, ack = cl.post("/v1/notices", {"target": {"type": "document", "doc_id": it["doc_id"]},
                                              "reason": "bench/serve.sh: notice-to-effect"})
            want = "block"
            ident = it["doc_id"]
        else:
            st, ack = cl.post("/v1/works", {"title": it["title"], "text": it["text"],
                                            "license": "LicenseRef-Bench-AllRightsReserved"})
            want = "redact"
            ident = (ack or {}).get("id", "?")
        t_ack = time.perf_counter()
        ok_ack = st in (200, 201)
        # The first request after the acknowledgement; then poll (up to 10 s) if it did not honour it.
        tries, honoured, t_hon, first = 0, False, None, None
        while time.perf_counter() - t_ack < 10:
            tries += 1
            s2, after = cl.post("/v1/filter", filt)
            if first is None:
                first = after
                t_first = time.perf_counter()
            if s2 == 200 and after["action"] == want and (it["kind"] == "notice" or ident in json.dumps(after)):
                honoured, t_hon = True, time.perf_counter()
                break
            time.sleep(0.05)
        rows.append({
            "kind": it["kind"], "target": ident, "status": st, "acknowledged": ok_ack,
            "before_action": before.get("action") if before else None, "want": want,
            "first_action": (first or {}).get("action"), "honoured_by_first_request": honoured and tries == 1,
            "honoured": honoured, "tries": tries,
            "ack_ms": (t_ack - t0) * 1e3,
            "first_request_ms": (t_first - t_ack) * 1e3,
            "ack_to_effect_ms": ((t_hon - t_ack) * 1e3) if honoured else None,
            "post_to_effect_ms": ((t_hon - t0) * 1e3) if honoured else None,
            "server_effective_after_ms": (ack or {}).get("effective_after_ms"),
            "work_bytes": len(it["text"].encode()) if it["kind"] == "work" else None,
        })
        r = rows[-1]
        log(f"{it['kind']} {ident[:40]}: ack {r['ack_ms']:.1f} ms, before {r['before_action']}, "
            f"first after: {r['first_action']} ({'honoured' if r['honoured_by_first_request'] else 'NOT honoured'})")
    return rows


def scan_phases(rec, a, plan, scan_url, filter_url, body, srv, lua, inp):
    """/v1/scan at 1, 4 (paired with in-process) and 16 connections; /v1/filter at 4."""
    rec["scan_c1"] = wrk(scan_url, body, 1, plan["c1_secs"], srv.pid, lua)
    rec["paired"] = []
    for r in range(plan["paired_rounds"]):
        def inproc():
            return helper_json([a.helper, "inproc", a.index, inp("scan.jsonl"), "--rounds", "0",
                                "--variants", "evaluate_json", "--threads", "2",
                                "--secs", str(plan["paired_in_secs"])])["variants"]["evaluate_json"]
        if r % 2 == 0:
            ip = inproc()
            w = wrk(scan_url, body, 4, plan["paired_wrk_secs"], srv.pid, lua)
        else:
            w = wrk(scan_url, body, 4, plan["paired_wrk_secs"], srv.pid, lua)
            ip = inproc()
        rec["paired"].append({"inproc_2t": ip["throughput_2t"], "inproc_cpu_ms": ip["cpu_ms_per_op_2t"],
                              "wrk": w, "ratio": w["rps"] / ip["throughput_2t"],
                              "cpu_ratio": w["server_cpu_ms_per_req"] / ip["cpu_ms_per_op_2t"]})
        log(f"paired round {r + 1}: HTTP {w['rps']:.0f}/s ÷ in-process {ip['throughput_2t']:.0f}/s "
            f"= {rec['paired'][-1]['ratio']:.2f}; CPU per request {rec['paired'][-1]['cpu_ratio']:.2f}× in-process")
    rec["scan_c16"] = wrk(scan_url, body, 16, plan["c16_secs"], srv.pid, lua)
    rec["filter_c4"] = wrk(filter_url, body, 4, plan["filter_secs"], srv.pid, lua)


def registry_phases(rec, a, plan, scan_url, addr, body, srv, lua, inp):
    """/v1/scan before and after the registry phase (notices and works)."""
    log("before the registry: /v1/scan and in-process evaluate_json")
    rec["before_registry"] = {
        "wrk": wrk(scan_url, body, 4, plan["after_secs"], srv.pid, lua),
        "inproc": helper_json([a.helper, "inproc", a.index, inp("scan.jsonl"), "--rounds", "1",
                               "--variants", "evaluate_json", "--threads", "2",
                               "--secs", str(plan["paired_in_secs"])])["variants"]["evaluate_json"]}
    log("registry: notices, then works")
    items = [json.loads(l) for l in open(inp("registry.jsonl"))]
    rec["registry"] = registry(addr, items)
    rec["after_registry"] = {
        "wrk": wrk(scan_url, body, 4, plan["after_secs"], srv.pid, lua),
        "inproc": helper_json([a.helper, "inproc", a.index, inp("scan.jsonl"), "--rounds", "1",
                               "--variants", "evaluate_json", "--threads", "2",
                               "--secs", str(plan["paired_in_secs"])])["variants"]["evaluate_json"]}
    stats = subprocess.run([a.recital, "index", "stats", "--index", a.index, "--json"], capture_output=True,
                           text=True)
    try:
        rec["after_registry"]["shards"] = len(json.loads(stats.stdout)["shards"])
    except (ValueError, KeyError):
        rec["after_registry"]["shards"] = None


def main():
    ap = argparse.ArgumentParser()
    for a in ("recital", "helper", "index", "inputs", "work", "mode"):
        ap.add_argument(f"--{a}", required=True)
    ap.add_argument("--port", type=int, default=18480)
    ap.add_argument("--llama-url")
    ap.add_argument("--llama-model", default="smollm2")
    ap.add_argument("--llama-prompts")
    ap.add_argument("--llama-status", default="")
    ap.add_argument("--llama-pid", help="the model server's PID, to pin it to CPU 1 for a second llama run")
    ap.add_argument("--only-streams", metavar="ROWS",
                    help="run only the streams phase, and of it only these rows: comma-separated "
                         "ENDPOINT/TEXT/CONCURRENCY (chat|tool-calls|responses, held-out|quoting, 1|8|16…; "
                         "`*` for any), e.g. tool-calls/held-out/8,responses/*/*")
    a = ap.parse_args()
    plan = dict(PLAN[a.mode])
    if a.only_streams:
        plan["streams"] = [s for s in plan["streams"] if stream_selected(s, a.only_streams)]
    here = os.path.dirname(os.path.abspath(__file__))
    lua = os.path.join(here, "serve_post.lua")
    inp = lambda n: os.path.join(a.inputs, n)  # noqa: E731
    rec = {"mode": a.mode, "plan": plan, "loadavg_start": open("/proc/loadavg").read().split()[:3],
           "wrk": subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.splitlines()[0]
           if subprocess.run(["which", "wrk"], capture_output=True).returncode == 0 else None}
    t_start = time.time()

    if not a.only_streams:
        log("in-process baseline (serve_bench inproc)")
        rec["inproc"] = helper_json([a.helper, "inproc", a.index, inp("scan.jsonl"), "--rounds", "3",
                                     "--secs", str(plan["inproc_secs"])])

    # The scripted upstream serves stream-novel.jsonl then stream-quoting.jsonl.
    combined = os.path.join(a.work, "stream-texts.jsonl")
    nnovel = sum(1 for _ in open(inp("stream-novel.jsonl")))
    with open(combined, "w") as f:
        f.write(open(inp("stream-novel.jsonl")).read() + open(inp("stream-quoting.jsonl")).read())
    up_addr, addr = f"127.0.0.1:{a.port + 1}", f"127.0.0.1:{a.port}"
    procs = []
    try:
        # The upstream logs when each request arrived and each chunk left: the streams phases time
        # every proxied token from the moment the upstream sent the chunk that released it.
        up_log = os.path.join(a.work, "upstream-log.jsonl")
        up = Proc("upstream", [a.helper, "upstream", up_addr, combined, "--delay-ms", "20", "--first-ms", "20",
                               "--log", up_log],
                  a.work, r"listening on")
        procs.append(up)
        db = os.path.join(a.work, "serve.db")
        for p in (db, db + "-wal", db + "-shm"):
            if os.path.exists(p):
                os.remove(p)
        env = dict(os.environ)
        for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
            env.pop(k, None)
        null_addr = f"127.0.0.1:{a.port + 4}"
        procs.append(Proc("null-hop", [a.helper, "relay", null_addr, f"http://{up_addr}", "-", "--workers", "2"],
                          a.work, r"listening on"))
        srv = Proc("serve", [a.recital, "serve", "--index", a.index, "--db", db, "--addr", addr,
                             "--upstream", f"http://{up_addr}"], a.work, r"listening on http://", env=env)
        procs.append(srv)
        scan_url, filter_url = f"http://{addr}/v1/scan", f"http://{addr}/v1/filter"
        body = inp("scan-body.jsonl")
        log("warm-up (3 s)")
        wrk(scan_url, body, 4, 3, srv.pid, lua)
        if not a.only_streams:
            scan_phases(rec, a, plan, scan_url, filter_url, body, srv, lua, inp)
        rec["streams"] = []
        for kind, conc, n, *endpoint in plan["streams"]:
            endpoint = endpoint[0] if endpoint else "chat"
            log(f"streams ({endpoint}): {kind} text, {n} streams, {conc} at a time, direct and through the proxy")
            texts = nnovel if kind == "held-out" else sum(1 for _ in open(inp("stream-quoting.jsonl")))
            off = 0 if kind == "held-out" else nnovel
            load = open("/proc/loadavg").read().split()[:3]
            h0 = step_histogram(addr)
            c0, (b0, m0) = cpu_ticks(srv.pid), machine_ticks()
            t0 = time.time()
            s = helper_json([a.helper, "stream", "--direct", f"http://{up_addr}", "--proxy", f"http://{addr}", "--index", a.index,
                             "--streams", str(n), "--concurrency", str(conc), "--texts", str(texts),
                             "--offset", str(off), "--endpoint", endpoint, "--relay-log", up_log])
            b1, m1 = machine_ticks()
            s.update(kind=kind, wall_s=time.time() - t0, server_cpu_s=(cpu_ticks(srv.pid) - c0) / TCK,
                     machine_busy=(b1 - b0) / max(m1 - m0, 1), loadavg=load,
                     filter_steps=step_stats(h0, step_histogram(addr)))
            # The same streams through the null hop (a forwarding relay, no scanning), right after:
            # what any extra hop costs on this machine under the same load.
            nh = helper_json([a.helper, "stream", "--direct", f"http://{up_addr}", "--proxy", f"http://{null_addr}",
                              "--index", a.index, "--passthrough", "1", "--streams", str(n), "--concurrency", str(conc),
                              "--texts", str(texts), "--offset", str(off), "--endpoint", endpoint,
                              "--relay-log", up_log])
            s["null_hop"] = {k: nh.get(k) for k in ("overhead_ms", "overhead_vs_direct_run_ms", "itl_proxy_ms",
                                                    "errors", "text_mismatches", "request_to_upstream_ms")}
            rec["streams"].append(s)
            log(f"  TTFT p50 direct {s['ttft_direct_ms']['p50']:.1f} ms, proxy {s['ttft_proxy_ms']['p50']:.1f} ms; "
                f"overhead beyond hold-back p50 {s['overhead_ms']['p50']:.2f} ms, p99 {s['overhead_ms']['p99']:.2f} ms "
                f"(null hop p99 {nh['overhead_ms']['p99']:.2f} ms); "
                f"ITL p99 direct {s['itl_direct_ms']['p99']:.1f}, proxy {s['itl_proxy_ms']['p99']:.1f} ms; "
                f"server {s['server_cpu_s'] * 1e3 / max(s['pairs'] * (s['words_per_stream']['p50'] or 0), 1):.3f} "
                f"CPU-ms/token; filter steps {s['filter_steps']['n']:.0f}, mean {s['filter_steps']['mean_ms']:.3f} ms, "
                f"over 2 ms {s['filter_steps']['over_2ms']:.0f}; load {' '.join(load)}")

        if not a.only_streams:
            registry_phases(rec, a, plan, scan_url, addr, body, srv, lua, inp)
        srv.stop()
        procs.remove(srv)

        rec["llama"] = {"status": a.llama_status or ("not run (quick mode)" if a.mode == "quick" else "not run")}
        if a.llama_url and not a.only_streams:
            # client -> relay -> llama directly, and client -> recital -> relay -> llama: the relay
            # logs when each upstream chunk arrived, so the proxy's delay is measured within each run
            # (a real model's timing differs from run to run, unlike the scripted upstream's).
            log(f"llama: the proxy in front of {a.llama_url} (through a recording relay)")
            relay_log = os.path.join(a.work, "llama-relay.jsonl")
            relay_addr = f"127.0.0.1:{a.port + 3}"
            rl = Proc("relay", [a.helper, "relay", relay_addr, a.llama_url, relay_log], a.work, r"listening on")
            procs.append(rl)
            srv2 = Proc("serve-llama", [a.recital, "serve", "--index", a.index, "--db", db + ".llama",
                                        "--addr", f"127.0.0.1:{a.port + 2}", "--upstream", f"http://{relay_addr}"],
                        a.work, r"listening on http://", env=env)
            procs.append(srv2)
            null2_addr = f"127.0.0.1:{a.port + 5}"
            nh2 = Proc("null-hop-llama", [a.helper, "relay", null2_addr, f"http://{relay_addr}", "-", "--workers", "2"],
                       a.work, r"listening on")
            procs.append(nh2)
            def measure(client_prefix):
                """Recital, then the null hop, in front of the relay: the same 8 prompts each."""
                c0, (b0, m0), t0 = cpu_ticks(srv2.pid), machine_ticks(), time.time()
                args = ["--direct", f"http://{relay_addr}", "--index", a.index, "--streams", "8",
                        "--concurrency", "1", "--prompts", a.llama_prompts, "--model", a.llama_model,
                        "--max-tokens", "128", "--flush", "1", "--relay-log", relay_log]
                s = helper_json(client_prefix + [a.helper, "stream", "--proxy", f"http://127.0.0.1:{a.port + 2}"] + args)
                b1, m1 = machine_ticks()
                s.update(status="ok" if not s["errors"] else f"{s['errors']} errors", model=a.llama_model,
                         kind="prompts", wall_s=time.time() - t0, server_cpu_s=(cpu_ticks(srv2.pid) - c0) / TCK,
                         machine_busy=(b1 - b0) / max(m1 - m0, 1))
                # The null hop in front of the relay (client -> null hop -> relay -> model).
                nh = helper_json(client_prefix + [a.helper, "stream", "--proxy", f"http://{null2_addr}",
                                                  "--passthrough", "1"] + args)
                s["null_hop"] = {k: nh[k] for k in ("overhead_ms", "itl_proxy_ms", "errors", "text_mismatches")}
                log(f"  TTFT p50 direct {s['ttft_direct_ms']['p50']:.1f} ms, proxy {s['ttft_proxy_ms']['p50']:.1f} ms; "
                    f"release overhead p50 {s['overhead_ms']['p50']:.2f} ms, p99 {s['overhead_ms']['p99']:.2f} ms "
                    f"(null hop p99 {nh['overhead_ms']['p99']:.2f} ms)")
                return s

            try:
                rec["llama"] = measure([])
                allowed = os.sched_getaffinity(0)
                if a.llama_pid and shutil.which("taskset") and {0, 1} <= allowed:
                    # The model on a core of its own (as on hardware of its own), everything else on the
                    # other: what the proxy adds when the model does not take its CPU.
                    log("llama: again with the model pinned to CPU 1 and the proxy, relays and client to CPU 0")
                    before = os.sched_getaffinity(int(a.llama_pid))
                    pinned = pin(int(a.llama_pid), {1})
                    for p in (srv2, nh2, rl):
                        pinned = pin(p.pid, {0}) and pinned
                    try:
                        if pinned:
                            rec["llama_pinned"] = measure(["taskset", "-c", "0"])
                        else:
                            rec["llama_pinned"] = {"status": "not measured: the processes could not be pinned"}
                    finally:
                        pin(int(a.llama_pid), before)
                        for p in (srv2, nh2, rl):
                            pin(p.pid, allowed)
                elif a.llama_pid:
                    rec["llama_pinned"] = {"status": "not measured: needs taskset and CPUs 0 and 1"}
            finally:
                for p in (srv2, nh2, rl):
                    p.stop()
                    procs.remove(p)
    finally:
        for p in procs:
            p.stop()
    rec["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    rec["wall_s"] = time.time() - t_start
    json.dump(rec, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
