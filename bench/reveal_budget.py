#!/usr/bin/env python3
"""What the durable reveal budget (`--reveal-budget`, counted in the store) costs a `/v1/scan`,
driven by bench/reveal_budget.sh.

Four `recital serve` instances on one index: a SQLite file without a budget and one with, a
PostgreSQL database without a budget and one with (the budget is 10^12 bytes: it never runs
out, so every scan does the full work: the check before, the count after). Requests go round
robin, one at a time (server A, B, C, D, A, …), so that the machine's load drifts alike for all.
Two kinds of output, interleaved:
  - `quoting`: 60 words of the sample's prose: the scan shows source text, so the budget costs
    a read before and a write transaction after;
  - `novel`: made-up words: nothing shown, the budget costs the read only.
Prints JSON: per server and kind, latency p50/p90/p99 (ms, the client's keep-alive round trip)
and the difference against the same store without a budget. Standard library only.
"""
import argparse
import http.client
import json
import random
import re
import subprocess
import time


def serve(binary, index, db, extra):
    p = subprocess.Popen([binary, "serve", "--index", index, "--db", db, "--addr", "127.0.0.1:0", *extra],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for line in p.stderr:
        m = re.search(r"listening on http://(\S+)", line)
        if m:
            return p, m.group(1)
    raise SystemExit(f"recital serve did not start on {db}")


def pct(v, q):
    v = sorted(v)
    return v[round((len(v) - 1) * q)]


def made_up(rng, n):
    syl = ["ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "ze", "qu", "bra", "pli", "dro", "sme"]
    return " ".join("".join(rng.choice(syl) for _ in range(rng.randint(2, 4))) for _ in range(n))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--recital", required=True)
    ap.add_argument("--index", required=True)
    ap.add_argument("--prose", required=True, help="a text file to quote from")
    ap.add_argument("--sqlite-dir", required=True)
    ap.add_argument("--pg-url", required=True, help="server URL without the database name")
    ap.add_argument("--rounds", type=int, default=400)
    a = ap.parse_args()
    rng = random.Random(19)
    words = open(a.prose, encoding="utf-8").read().split()
    quotes = []
    for _ in range(50):
        i = rng.randrange(len(words) - 60)
        quotes.append(" ".join(words[i:i + 60]))
    novel = [made_up(rng, 60) for _ in range(50)]
    budget = ["--reveal-budget", str(10**12)]
    servers = {
        "sqlite": serve(a.recital, a.index, f"{a.sqlite_dir}/plain.db", []),
        "sqlite+budget": serve(a.recital, a.index, f"{a.sqlite_dir}/budget.db", budget),
        "postgres": serve(a.recital, a.index, f"{a.pg_url}/plain", []),
        "postgres+budget": serve(a.recital, a.index, f"{a.pg_url}/budget", budget),
    }
    conns = {k: http.client.HTTPConnection(*addr.rsplit(":", 1), timeout=30) for k, (_, addr) in servers.items()}
    lat = {k: {"quoting": [], "novel": []} for k in servers}
    shown = {k: 0 for k in servers}

    def scan(name, text):
        c = conns[name]
        body = json.dumps({"text": text})
        t0 = time.perf_counter()
        c.request("POST", "/v1/scan", body, {"content-type": "application/json"})
        r = c.getresponse()
        raw = r.read()
        ms = (time.perf_counter() - t0) * 1e3
        if r.status != 200:
            raise SystemExit(f"{name}: {r.status} {raw[:300]!r}")
        v = json.loads(raw)
        shown[name] += sum(len(s["snippet"].replace("…", "")) for sp in v["report"]["spans"] for s in sp["sources"])
        return ms

    try:
        for r in range(-20, a.rounds):  # 20 warm-up rounds, not kept
            for kind, texts in (("quoting", quotes), ("novel", novel)):
                text = texts[r % len(texts)]
                order = list(servers)
                rng.shuffle(order)
                for name in order:
                    ms = scan(name, text)
                    if r >= 0:
                        lat[name][kind].append(ms)
    finally:
        for p, _ in servers.values():
            p.terminate()
            p.wait()
    out = {"rounds": a.rounds, "source_bytes_shown": shown, "servers": {}}
    for name, kinds in lat.items():
        base = name.split("+")[0]
        out["servers"][name] = {}
        for kind, v in kinds.items():
            row = {"p50_ms": pct(v, 0.5), "p90_ms": pct(v, 0.9), "p99_ms": pct(v, 0.99)}
            if name != base:
                b = lat[base][kind]
                row["added_p50_ms"] = pct(v, 0.5) - pct(b, 0.5)
                row["added_p90_ms"] = pct(v, 0.9) - pct(b, 0.9)
            out["servers"][name][kind] = row
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
