"""recital on Ray: a corpus indexed by many workers, and outputs scanned by many.

**Build.** One task per partition (a JSONL or Parquet file, a directory, or a
block of a Ray Dataset) builds a small index of its own under `workdir`; the
driver then adopts every partition's shards into the target index in one
atomic manifest commit (`recital index adopt`). Readers of the target see all
partitions or none. `workdir` must be on storage the driver can read (on one
machine, any directory; on several, a shared file system).

**Scan.** `scan()` is a Ray Data `map_batches` with a class-based UDF: each
worker opens the index once (memory-mapped: workers on one machine share the
pages) and turns Arrow batches of outputs into span tables.
"""

from __future__ import annotations

import os
import shutil
import uuid
from typing import Any, Optional, Sequence, Union

import recital

_Inputs = Union[str, "os.PathLike[str]", Sequence[Union[str, "os.PathLike[str]"]]]


def _docs_of_table(table: Any, text_column: str, id_column: str) -> list:
    """Documents (dicts `recital.build(docs=...)` takes) from an Arrow table."""
    names = table.column_names
    for c in (text_column, id_column):
        if c not in names:
            raise recital.RecitalError(f"no column {c!r} (columns: {', '.join(names)})")
    texts = table.column(text_column).to_pylist()
    ids = table.column(id_column).to_pylist()
    return [{"id": str(i), "text": t} for i, t in zip(ids, texts) if t is not None]


def _build_partition(out: str, inputs: _Inputs, opts: dict) -> dict:
    """Builds the index of one partition at `out`: JSONL files and
    directories natively, Parquet files through pyarrow."""
    paths = [os.fspath(inputs)] if isinstance(inputs, (str, os.PathLike)) else [os.fspath(p) for p in inputs]
    parquet = [p for p in paths if p.endswith(".parquet")]
    if parquet and len(parquet) != len(paths):
        raise recital.RecitalError("a partition is either Parquet files or other inputs, not both")
    if parquet:
        import pyarrow.parquet as pq

        docs = []
        for p in parquet:
            docs.extend(_docs_of_table(pq.read_table(p), opts["text_column"], opts["id_column"]))
        return recital.build(out, docs=docs, shard_tokens=opts["shard_tokens"])
    return recital.build(out, paths, rights=opts["rights"], mode=opts["mode"], shard_tokens=opts["shard_tokens"])


class _BuildBlock:
    """Ray Data UDF: each batch (a block) becomes one partition index."""

    def __init__(self, workdir: str, opts: dict):
        self.workdir = workdir
        self.opts = opts

    def __call__(self, batch: Any) -> dict:
        out = os.path.join(self.workdir, f"part-{uuid.uuid4().hex}")
        docs = _docs_of_table(batch, self.opts["text_column"], self.opts["id_column"])
        recital.build(out, docs=docs, shard_tokens=self.opts["shard_tokens"])
        return {"index": [out]}


def build(
    path: Union[str, "os.PathLike[str]"],
    partitions: Any,
    *,
    workdir: Optional[str] = None,
    rights: Optional[str] = None,
    mode: str = "auto",
    text_column: str = "text",
    id_column: str = "id",
    shard_tokens: Optional[int] = None,
    num_cpus: float = 1,
    concurrency: int = 2,
    keep_parts: bool = False,
) -> dict:
    """Builds the index at `path` on Ray: one task per partition, then one
    commit. `partitions` is a Ray Dataset (a `text_column` and an `id_column`)
    or a list whose items are each a partition: a path or a list of paths
    (JSONL dumps, directories, or Parquet files). Creates `path`, or adds the
    partitions to the index already there. Returns the adopted shards."""
    import ray

    path = os.fspath(path)
    workdir = workdir or f"{path.rstrip('/')}.parts-{uuid.uuid4().hex[:8]}"
    os.makedirs(workdir, exist_ok=True)
    opts = {
        "rights": rights,
        "mode": mode,
        "text_column": text_column,
        "id_column": id_column,
        "shard_tokens": shard_tokens,
    }
    try:
        if hasattr(partitions, "map_batches"):
            parts = partitions.map_batches(
                _BuildBlock,
                fn_constructor_args=(workdir, opts),
                batch_format="pyarrow",
                batch_size=None,
                concurrency=concurrency,
                num_cpus=num_cpus,
            )
            dirs = [r["index"] for r in parts.take_all()]
        else:
            task = ray.remote(num_cpus=num_cpus)(_build_partition)
            dirs = [os.path.join(workdir, f"part-{i:05d}") for i in range(len(partitions))]
            ray.get([task.remote(d, p, opts) for d, p in zip(dirs, partitions)])
        if not dirs:
            raise recital.RecitalError("no partitions to build")
        return _adopt(path, sorted(dirs))
    finally:
        if not keep_parts:
            shutil.rmtree(workdir, ignore_errors=True)


def _adopt(path: str, dirs: list) -> dict:
    if os.path.exists(os.path.join(path, "manifest.json")):
        with recital.IndexWriter(path) as w:
            shards = w.adopt(dirs)
    else:
        shards = recital.assemble(path, dirs)
    return {"index": path, "partitions": len(dirs), "shards": shards}


class _Scanner:
    """Ray Data UDF: opens the index once per worker, scans batches."""

    def __init__(self, index_path: str, text_column: str, id_column: Optional[str], policy: Optional[str], kw: dict):
        self.index = recital.Index(index_path)
        self.policy = recital.Policy(policy) if policy else None
        self.text_column = text_column
        self.id_column = id_column
        self.kw = kw

    def __call__(self, batch: Any) -> Any:
        ids = batch.column(self.id_column) if self.id_column else None
        return recital.scan_batch(
            self.index, batch.column(self.text_column), ids=ids, policy=self.policy, threads=1, **self.kw
        )


def scan(
    ds: Any,
    index: Union[str, "os.PathLike[str]", recital.Index],
    *,
    text_column: str = "text",
    id_column: Optional[str] = "id",
    policy: Optional[str] = None,
    jurisdiction: Optional[str] = None,
    min_tokens: Optional[int] = None,
    concurrency: int = 2,
    batch_size: int = 1024,
    num_cpus: Optional[float] = None,
) -> Any:
    """The span table (`recital.SPAN_COLUMNS`) of every output of `ds`, as a
    Ray Dataset; `row` counts within a batch, `id` names the output.
    `policy` is a policy file's path (each worker loads it).

    `num_cpus` is what each of the `concurrency` scanning actors reserves.
    By default 1, less where the actors would otherwise hold every CPU of
    the cluster: Ray Data's read tasks need a CPU of their own, and one
    queued behind actors that wait for its blocks waits for ever."""
    if concurrency < 1:
        raise recital.RecitalError(f"concurrency must be at least 1, not {concurrency}")
    index_path = index.path if isinstance(index, recital.Index) else os.fspath(index)
    kw = {"jurisdiction": jurisdiction, "min_tokens": min_tokens}
    return ds.map_batches(
        _Scanner,
        fn_constructor_args=(index_path, text_column, id_column, policy, kw),
        batch_format="pyarrow",
        batch_size=batch_size,
        concurrency=concurrency,
        num_cpus=_actor_cpus(concurrency) if num_cpus is None else num_cpus,
    )


def _actor_cpus(concurrency: int) -> float:
    """CPUs each scanning actor reserves: 1, or a share of what is left once
    one CPU is kept for the tasks that read the dataset's blocks."""
    import ray

    total = ray.cluster_resources().get("CPU", 0.0) if ray.is_initialized() else 0.0
    if total <= 0 or total >= concurrency + 1:
        return 1.0
    return max(0.0, (total - 1.0) / concurrency)
