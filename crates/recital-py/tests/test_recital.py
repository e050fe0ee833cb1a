"""The package agrees with the CLI on the same index, and behaves as a
Python library should: errors as exceptions with the CLI's messages,
pickling by path, staged writes, Arrow batches."""

import multiprocessing
import pickle
import random
import threading

import pyarrow as pa
import pytest

import recital
from conftest import SAMPLE, cli, cli_json

QUERIES = [
    "to be, or not to be",
    "TO BE OR NOT TO BE",
    "in the beginning god created",
    "the lord",
    "and",
    "int main",
    "no such words anywhere in the corpus",
]


def passages(seed=7, n=6, words=60):
    """Stretches of the sample's own text, edited a little, and one novel text."""
    rng = random.Random(seed)
    texts = []
    files = sorted(p for p in (SAMPLE / "prose").rglob("*.txt"))
    for f in rng.sample(files, n):
        w = f.read_text().split()
        i = rng.randrange(0, max(1, len(w) - words))
        chunk = w[i : i + words]
        if rng.random() < 0.5 and len(chunk) > 20:
            chunk[10] = "zebra"
        texts.append("The model wrote: " + " ".join(chunk) + " That is all.")
    texts.append("A short, entirely novel sentence about quantum teapots and saffron kites.")
    return texts


def test_count_and_locate_agree_with_the_cli(sample_index):
    idx = recital.Index(sample_index)
    for q in QUERIES:
        got = idx.count(q)
        want = cli_json("count", "--index", sample_index, q)
        want.pop("elapsed_us")
        assert got == want, q
        assert idx.locate(q, limit=50) == cli_json("locate", "--index", sample_index, "--limit", 50, q), q
    code = "int add(int *v, int m) { int acc = 0; for (int j = 0; j < m; j++) acc += v[j]; return acc; }"
    assert idx.count(code, code="c") == {
        k: v for k, v in cli_json("count", "--index", sample_index, "--code", "c", code).items() if k != "elapsed_us"
    }


def test_scan_agrees_with_the_cli(sample_index, tmp_path):
    idx = recital.Index(sample_index)
    texts = passages()
    for i, text in enumerate(texts):
        f = tmp_path / f"out{i}.txt"
        f.write_text(text)
        want = cli_json("scan", "--index", sample_index, f)
        assert recital.scan(idx, text) == want, text[:60]
    assert any(recital.scan(idx, t)["spans"] for t in texts), "some passage must be found"
    assert recital.scan(idx, texts[-1])["spans"] == []


def test_scan_batch_gives_the_spans_of_the_cli_batch(sample_index, tmp_path):
    idx = recital.Index(sample_index)
    texts = passages(seed=11, n=8) * 5
    jsonl = tmp_path / "outs.jsonl"
    import json

    jsonl.write_text("".join(json.dumps({"id": f"o{i}", "text": t}) + "\n" for i, t in enumerate(texts)))
    lines = [json.loads(line) for line in cli("scan", "--index", sample_index, "--jsonl", jsonl).stdout.splitlines()]
    want = sorted((str(l["id"]), s["byte_start"], s["byte_end"], s["kind"]) for l in lines for s in l["spans"])
    table = recital.scan_batch(idx, pa.array(texts), ids=pa.array([f"o{i}" for i in range(len(texts))]), threads=2)
    assert table.schema.names == [n for n, _ in recital.SPAN_COLUMNS]
    got = sorted(zip(*(table.column(c).to_pylist() for c in ("id", "byte_start", "byte_end", "kind"))))
    assert got == want and got
    chunked = pa.chunked_array([texts[:7], texts[7:]])
    assert recital.scan_batch(idx, chunked).num_rows == table.num_rows
    # A missing text is skipped, not an error.
    assert recital.scan_batch(idx, pa.array([None, texts[0]])).column("row").to_pylist() == [1] * len(
        recital.scan(idx, texts[0])["spans"]
    )


def test_filter_redacts_what_the_cli_redacts(tmp_path):
    hamlet = (SAMPLE / "prose" / "shakespeare" / "hamlet.txt").read_text()
    p = tmp_path / "idx"
    recital.build(p, docs=[{"id": "hamlet", "text": hamlet, "license": "LicenseRef-Proprietary"}])
    idx = recital.Index(p)
    words = hamlet.split()
    text = "Here it is: " + " ".join(words[2000:2120]) + " Done."
    out = recital.filter(idx, text)
    assert out["action"] == "redact", out["decision"]["statement"]
    assert "[redacted: copies hamlet" in out["text"] and out["text"].endswith("Done.")
    f = tmp_path / "out.txt"
    f.write_text(text)
    assert cli("filter", "--index", p, f).stdout == out["text"]
    assert recital.filter(idx, "Nothing copied here at all, only new words.")["action"] == "allow"
    doc = '{"answer": "' + " ".join(words[2000:2120]).replace('"', "'") + '"}'
    js = recital.filter(idx, doc, json=True)
    import json

    assert js["action"] == "redact" and "redacted" in json.loads(js["text"])["answer"]


def test_errors_are_exceptions_with_the_cli_messages(sample_index, tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(recital.RecitalError) as e:
        recital.Index(missing)
    cli_err = cli("count", "--index", missing, "x", check=False).stderr
    assert str(e.value) in cli_err, (str(e.value), cli_err)
    idx = recital.Index(sample_index)
    with pytest.raises(recital.RecitalError, match="no tokens after normalisation"):
        idx.count("   \u200b ")
    with pytest.raises(recital.RecitalError, match="unknown language"):
        idx.count("x", code="cobol")
    with pytest.raises(recital.RecitalError, match="min_tokens"):
        recital.scan(idx, "x", min_tokens=0)
    with pytest.raises(recital.RecitalError, match="not both"):
        recital.Policy("a.toml", toml="x")
    with pytest.raises(recital.RecitalError, match="document 1"):
        recital.build(tmp_path / "b", docs=[{"id": "a", "text": "x"}, {"id": "b", "txt": "y"}])
    with pytest.raises(recital.RecitalError, match="document 0.*SPDX|SPDX.*"):
        recital.build(tmp_path / "c", docs=[{"id": "a", "text": "x", "license": "GPL 3 or whatever"}])
    assert not (tmp_path / "b").exists() and not (tmp_path / "c").exists(), "no partial index"


def test_writer_stages_until_commit_and_rolls_back_on_error(tmp_path):
    p = tmp_path / "idx"
    report = recital.build(p, docs=[{"id": "a", "text": "the quick brown fox jumps over the lazy dog"}])
    assert report["ingest"]["docs"] == 1
    idx = recital.Index(p)
    with recital.IndexWriter(p) as w:
        w.add_docs([{"id": "b", "text": "a far, far better thing that I do", "license": "CC-BY-4.0"}])
        assert recital.Index(p).count("far better thing")["count"] == 0, "staged, not committed"
        w.remove(["a"])
    now = recital.Index(p)
    assert now.count("far better thing")["count"] == 1 and now.count("lazy dog")["count"] == 0
    assert idx.count("lazy dog")["count"] == 1, "an old snapshot stays as it was"
    assert now.get("b")["rights"]["license"] == "CC-BY-4.0" and now.get("a") is None
    with pytest.raises(RuntimeError):
        with recital.IndexWriter(p) as w:
            w.add_docs([{"id": "c", "text": "never committed words here"}])
            raise RuntimeError("boom")
    assert recital.Index(p).count("never committed")["count"] == 0
    w = recital.IndexWriter(p)
    with pytest.raises(recital.RecitalError, match='no live document with id "zzz"'):
        w.remove(["zzz"])
    snap = w.commit()
    assert snap.generation == now.generation
    w.close()
    with pytest.raises(recital.RecitalError, match="closed"):
        w.compact()


def _count_in_worker(args):
    idx, q = args
    return idx.count(q)["count"]


def test_index_pickles_by_path_for_worker_processes(sample_index):
    idx = recital.Index(sample_index)
    again = pickle.loads(pickle.dumps(idx))
    assert again.path == idx.path and again.count("the lord") == idx.count("the lord")
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        got = pool.map(_count_in_worker, [(idx, q) for q in QUERIES])
    assert got == [idx.count(q)["count"] for q in QUERIES]


def test_threads_share_one_index(sample_index):
    idx = recital.Index(sample_index)
    texts = passages(seed=3)
    want = [recital.scan(idx, t) for t in texts]
    got = [None] * len(texts)

    def run(i):
        got[i] = recital.scan(idx, texts[i])

    ts = [threading.Thread(target=run, args=(i,)) for i in range(len(texts))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert got == want


def test_dask_map_partitions_with_a_pickled_index(sample_index):
    import dask
    import dask.dataframe as dd
    import pandas as pd

    idx = recital.Index(sample_index)
    texts = passages(seed=5, n=6)
    df = pd.DataFrame({"id": [f"d{i}" for i in range(len(texts))], "text": texts})
    ddf = dd.from_pandas(df, npartitions=3)

    def spans(part, index):
        reports = recital.scan_many(index, part["text"].tolist(), threads=1)
        return pd.Series([len(r["spans"]) for r in reports], index=part.index)

    with dask.config.set(scheduler="processes", num_workers=2):
        got = ddf.map_partitions(spans, idx, meta=("spans", "int64")).compute().tolist()
    assert got == [len(recital.scan(idx, t)["spans"]) for t in texts]


def test_real_corpus_counts_and_scans_agree_with_the_cli(kjv_jsonl, tmp_path):
    p = tmp_path / "kjv"
    recital.build(p, [kjv_jsonl])
    idx = recital.Index(p)
    rng = random.Random(1)
    chapters = [json_line for json_line in open(kjv_jsonl)]
    import json

    for line in rng.sample(chapters, 5):
        words = json.loads(line)["text"].split()
        i = rng.randrange(0, max(1, len(words) - 80))
        q = " ".join(words[i : i + 6])
        want = cli_json("count", "--index", p, q)
        want.pop("elapsed_us")
        assert idx.count(q) == want
        text = "As it is written, " + " ".join(words[i : i + 80])
        f = tmp_path / "o.txt"
        f.write_text(text)
        assert recital.scan(idx, text) == cli_json("scan", "--index", p, f)


def test_index_build_reads_parquet_as_it_reads_jsonl(tmp_path):
    import json
    import pyarrow.parquet as pq

    rows = [
        {"id": f"doc-{i}", "text": f"Chapter {i}. " + " ".join(f"word{(i * 7 + k) % 50}" for k in range(40)), "license": "MIT"}
        for i in range(30)
    ]
    rows[3]["license"] = "CC-BY-4.0"
    jsonl = tmp_path / "d.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in rows))
    # An HF-style dataset: text under another name, an extra column, two row groups.
    table = pa.table({"content": [r["text"] for r in rows], "id": [r["id"] for r in rows],
                      "license": [r["license"] for r in rows], "score": list(range(30))})
    pq.write_table(table, tmp_path / "d.parquet", row_group_size=16)
    a, b = tmp_path / "a", tmp_path / "b"
    cli("index", "build", "--index", a, jsonl)
    rep = cli_json("index", "build", "--index", b, "--text-field", "content", tmp_path / "d.parquet")
    assert rep["ingest"]["docs"] == 30
    assert {l["license"]: l["docs"] for l in rep["ingest"]["licenses"]} == {"MIT": 29, "CC-BY-4.0": 1}
    ia, ib = recital.Index(a), recital.Index(b)
    for q in ["chapter 3", "word7 word14", "word1"]:
        assert ia.count(q) == ib.count(q)
    assert ib.get("doc-3")["rights"]["license"] == "CC-BY-4.0"
    err = cli("index", "build", "--index", tmp_path / "c", tmp_path / "d.parquet", check=False).stderr
    assert 'no column "text"' in err and "content" in err and "--text-field" in err
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 not really")
    err = cli("index", "build", "--index", tmp_path / "e", tmp_path / "bad.parquet", check=False).stderr
    assert "bad.parquet" in err and "Parquet" in err
    assert not (tmp_path / "c").exists() and not (tmp_path / "e").exists()
