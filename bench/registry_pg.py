#!/usr/bin/env python3
"""Registry latency on SQLite and on PostgreSQL (issue 19), driven by bench/registry_pg.sh.

Measures, with the real `recital serve` binary on loopback:
  - POST /v1/notices round trip (durable and effective when it returns) on a
    SQLite file and on a PostgreSQL database;
  - cross-instance effect: a notice filed on instance A, until a filter on
    instance B (same PostgreSQL database, its own index copy) blocks the text.
Prints a JSON summary on stdout. Standard library only.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request


def post(base, path, body, method="POST"):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method=method,
                                 headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def serve(binary, index, db):
    p = subprocess.Popen([binary, "serve", "--index", index, "--db", db, "--addr", "127.0.0.1:0"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for line in p.stderr:
        m = re.search(r"listening on (http://\S+)", line)
        if m:
            return p, m.group(1)
    raise SystemExit(f"recital serve did not start on {db}")


def summary(ms):
    ms = sorted(ms)
    return {"n": len(ms), "p50_ms": round(statistics.median(ms), 2),
            "p95_ms": round(ms[int(0.95 * (len(ms) - 1))], 2), "max_ms": round(ms[-1], 2)}


def notice_posts(base, n):
    out = []
    for i in range(n):
        t0 = time.perf_counter()
        status, v = post(base, "/v1/notices", {"target": {"type": "url", "url": f"https://bench.example/{i}-{time.time()}"},
                                               "reason": "bench"})
        out.append((time.perf_counter() - t0) * 1000)
        assert status == 201 and v["status"] == "effective", v
    return summary(out)


def cross_instance(a, b, docs):
    out = []
    for doc_id, quote in docs:
        status, v = post(b, "/v1/filter", {"text": quote})
        assert v["action"] != "block", v
        # From the moment the notice is sent to A: B may apply it before A answers.
        t0 = time.perf_counter()
        status, v = post(a, "/v1/notices", {"target": {"type": "document", "doc_id": doc_id}, "reason": "bench"})
        assert status == 201, v
        while post(b, "/v1/filter", {"text": quote})[1]["action"] != "block":
            if time.perf_counter() - t0 > 5:
                raise SystemExit(f"notice on {doc_id} not in force on B after 5 s")
        out.append((time.perf_counter() - t0) * 1000)
    return summary(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--recital", required=True)
    ap.add_argument("--index", required=True, help="index built from --docs")
    ap.add_argument("--docs", required=True, help="JSON list of [doc_id, quote]")
    ap.add_argument("--pg-url", required=True)
    ap.add_argument("--notices", type=int, default=100)
    a = ap.parse_args()
    docs = json.load(open(a.docs))
    work = tempfile.mkdtemp(prefix="recital-registry-bench-")
    procs = []
    try:
        def instance(name, db):
            idx = os.path.join(work, name)
            shutil.copytree(a.index, idx)
            p, base = serve(a.recital, idx, db)
            procs.append(p)
            return base
        result = {}
        result["notice_post_sqlite"] = notice_posts(instance("sqlite", os.path.join(work, "r.db")), a.notices)
        pa = instance("pg-a", a.pg_url)
        result["notice_post_postgres"] = notice_posts(pa, a.notices)
        pb = instance("pg-b", a.pg_url)
        result["cross_instance_notice_postgres"] = cross_instance(pa, pb, docs)
        print(json.dumps(result, indent=2))
    finally:
        for p in procs:
            p.terminate()
            p.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
