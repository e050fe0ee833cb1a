"""recital.ray on a local Ray cluster with 2 workers: a partitioned build
equals the single-process build, and the batch scan gives the CLI's spans."""

import json
import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import recital
from conftest import cli, kjv_chapters

ray = pytest.importorskip("ray")
import recital.ray as rray  # noqa: E402


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def chapters():
    return kjv_chapters()


def queries(chapters, n, seed=1):
    """`n` token sequences of 1 to 8 words drawn from the corpus, and a few that are not in it."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        words = rng.choice(chapters)[1].split()
        k = rng.randint(1, 8)
        i = rng.randrange(0, max(1, len(words) - k))
        out.append(" ".join(words[i : i + k]))
    return out + ["quantum teapot saffron", "zebra zebra zebra"]


def outputs(chapters, n, seed=2):
    rng = random.Random(seed)
    out = []
    for i in range(n):
        words = rng.choice(chapters)[1].split()
        j = rng.randrange(0, max(1, len(words) - 70))
        body = " ".join(words[j : j + rng.choice([10, 70])])
        out.append({"id": f"o{i}", "text": f"Answer {i}: {body} (end)"})
    return out


def test_partitioned_build_equals_one_build(cluster, chapters, tmp_path):
    parts = []
    for k in range(4):
        p = tmp_path / f"part{k}.jsonl"
        with open(p, "w") as f:
            for cid, text in chapters[k::4]:
                f.write(json.dumps({"id": cid, "text": text}) + "\n")
        parts.append(p)
    one = tmp_path / "one"
    recital.build(one, parts)
    # Two partitions as JSONL, two as Parquet.
    pq_parts = []
    for p in parts[2:]:
        rows = [json.loads(line) for line in open(p)]
        q = p.with_suffix(".parquet")
        pq.write_table(pa.table({"id": [r["id"] for r in rows], "text": [r["text"] for r in rows]}), q)
        pq_parts.append(q)
    merged = tmp_path / "merged"
    r = rray.build(merged, [[parts[0]], parts[1], *pq_parts])
    assert r["partitions"] == 4 and len(r["shards"]) >= 4
    a, b = recital.Index(one), recital.Index(merged)
    assert len(a) == len(b) == len(chapters)
    for q in queries(chapters, 1000):
        ca, cb = a.count(q), b.count(q)
        assert (ca["count"], ca["doc_count"]) == (cb["count"], cb["doc_count"]), q
    for o in outputs(chapters, 20):
        sa, sb = recital.scan(a, o["text"]), recital.scan(b, o["text"])
        key = lambda s: [(x["byte_start"], x["byte_end"], x["kind"], sorted(y["doc_id"] for y in x["sources"])) for x in s["spans"]]
        assert key(sa) == key(sb)
        assert sa["decision"]["action"] == sb["decision"]["action"]
    assert not list(tmp_path.glob("merged.parts-*")), "the partition indexes are removed"


def test_build_from_a_dataset_adds_to_an_index(cluster, chapters, tmp_path):
    p = tmp_path / "idx"
    recital.build(p, docs=[{"id": "first", "text": "a first document of no importance"}])
    ds = ray.data.from_items([{"id": c, "text": t} for c, t in chapters[:300]], override_num_blocks=3)
    r = rray.build(p, ds)
    assert r["partitions"] == 3
    idx = recital.Index(p)
    assert len(idx) == 301
    assert idx.get(chapters[123][0])["text"] == chapters[123][1]


def test_batch_scan_gives_the_cli_spans(cluster, chapters, tmp_path):
    idx_dir = tmp_path / "kjv"
    jsonl = tmp_path / "kjv.jsonl"
    with open(jsonl, "w") as f:
        for cid, text in chapters:
            f.write(json.dumps({"id": cid, "text": text}) + "\n")
    recital.build(idx_dir, [jsonl])
    outs = outputs(chapters, 2000)
    outs_file = tmp_path / "outs.jsonl"
    outs_file.write_text("".join(json.dumps(o) + "\n" for o in outs))
    lines = [json.loads(l) for l in cli("scan", "--index", idx_dir, "--jsonl", outs_file).stdout.splitlines()]
    want = sorted((str(l["id"]), s["byte_start"], s["byte_end"], s["kind"]) for l in lines for s in l["spans"])
    ds = ray.data.from_items(outs, override_num_blocks=4)
    spans = rray.scan(ds, idx_dir, concurrency=2, batch_size=256).to_arrow_refs()
    table = pa.concat_tables(ray.get(spans))
    got = sorted(zip(*(table.column(c).to_pylist() for c in ("id", "byte_start", "byte_end", "kind"))))
    assert len(want) > 100 and got == want


ONE_CPU = """
import json, sys, ray, pyarrow as pa
import recital, recital.ray as rray
ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False, configure_logging=False)
ds = ray.data.read_json(sys.argv[2])
table = pa.concat_tables(ray.get(rray.scan(ds, sys.argv[1], batch_size=64).to_arrow_refs()))
print(json.dumps(sorted(zip(*(table.column(c).to_pylist() for c in ("id", "byte_start", "byte_end"))))))
"""


def test_batch_scan_on_a_one_cpu_cluster_finishes(chapters, tmp_path):
    # Scanning actors that reserved the only CPU left Ray Data's read tasks
    # waiting for ever; a cluster of its own, in a process of its own.
    import subprocess
    import sys

    idx_dir = tmp_path / "kjv"
    recital.build(idx_dir, docs=[{"id": c, "text": t} for c, t in chapters[:200]])
    outs = outputs(chapters[:200], 100)
    outs_file = tmp_path / "outs.jsonl"
    outs_file.write_text("".join(json.dumps(o) + "\n" for o in outs))
    r = subprocess.run(
        [sys.executable, "-c", ONE_CPU, str(idx_dir), str(outs_file)], capture_output=True, text=True, timeout=300
    )
    assert r.returncode == 0, r.stderr[-3000:]
    got = [tuple(x) for x in json.loads(r.stdout.strip().splitlines()[-1])]
    texts, ids = pa.array([o["text"] for o in outs]), pa.array([o["id"] for o in outs])
    table = recital.scan_batch(recital.Index(idx_dir), texts, ids=ids)
    want = sorted(zip(*(table.column(c).to_pylist() for c in ("id", "byte_start", "byte_end"))))
    assert len(want) > 10 and got == want
