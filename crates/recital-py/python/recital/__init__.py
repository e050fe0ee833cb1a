"""recital: find, attribute and filter memorised training data in model outputs.

    import recital
    recital.build("idx", ["corpus/"])              # or docs=[{"id": ..., "text": ...}]
    index = recital.Index("idx")
    index.count("to be or not to be")              # {"count": ..., "doc_count": ...}
    report = recital.scan(index, output_text)      # recital.scan/1, with "decision"
    table = recital.scan_batch(index, pa_array)    # one row per copied span

Results are the CLI's JSON shapes as dicts; errors raise RecitalError with the
CLI's messages. Calls that read an index release the GIL. An Index pickles by
path, so `datasets.map(num_proc=...)`, multiprocessing, Dask and Ray workers
reopen it (the files are memory-mapped and shared between processes).
"""

from __future__ import annotations

from typing import Any, Iterable, Optional, Sequence

from ._recital import (  # noqa: F401  (the package's face)
    Index,
    IndexWriter,
    Policy,
    RecitalError,
    __version__,
    assemble,
    build,
    filter,
)
from ._recital import scan_many as _scan_many

__all__ = [
    "Index",
    "IndexWriter",
    "Policy",
    "RecitalError",
    "assemble",
    "build",
    "filter",
    "scan",
    "scan_many",
    "scan_batch",
    "span_table",
    "SPAN_COLUMNS",
]


def scan(
    index: Index,
    text: str,
    *,
    policy: Optional[Policy] = None,
    jurisdiction: Optional[str] = None,
    context: Optional[str] = None,
    min_tokens: Optional[int] = None,
    code: Optional[str] = None,
) -> dict:
    """Scans one output: the `recital.scan/1` report with the policy's
    `decision`, as `recital scan --json` prints it."""
    return _scan_many(
        index,
        [text],
        policy=policy,
        jurisdiction=jurisdiction,
        context=context,
        min_tokens=min_tokens,
        code=code,
        threads=1,
    )[0]


def scan_many(
    index: Index,
    texts: Iterable[Optional[str]],
    *,
    policy: Optional[Policy] = None,
    jurisdiction: Optional[str] = None,
    context: Optional[str] = None,
    min_tokens: Optional[int] = None,
    code: Optional[str] = None,
    threads: Optional[int] = None,
) -> list:
    """Scans many outputs on `threads` threads (default: one per core); one
    report per text, None for a missing text."""
    return _scan_many(
        index,
        list(texts),
        policy=policy,
        jurisdiction=jurisdiction,
        context=context,
        min_tokens=min_tokens,
        code=code,
        threads=threads,
    )


#: The columns of a span table, in order, with their Arrow types' names.
SPAN_COLUMNS = (
    ("row", "int64"),
    ("id", "string"),
    ("byte_start", "int64"),
    ("byte_end", "int64"),
    ("char_start", "int64"),
    ("char_end", "int64"),
    ("kind", "string"),
    ("stream", "string"),
    ("tokens", "int64"),
    ("similarity", "float64"),
    ("text", "string"),
    ("doc_id", "string"),
    ("license", "string"),
    ("sources", "list<string>"),
    ("action", "string"),
)


def _arrow_type(pa: Any, name: str) -> Any:
    if name == "list<string>":
        return pa.list_(pa.string())
    return getattr(pa, name)()


def span_table(reports: Sequence[Optional[dict]], ids: Optional[Sequence[Any]] = None) -> Any:
    """One row per reported span of `reports` (as `scan_many` returns them):
    the output's row number and id, the span, its first source's document
    and licence, every source's document, and the decision on the output."""
    import pyarrow as pa

    cols: dict = {name: [] for name, _ in SPAN_COLUMNS}
    for row, report in enumerate(reports):
        if report is None:
            continue
        action = report["decision"]["action"]
        for span in report["spans"]:
            sources = span["sources"]
            first = sources[0] if sources else {}
            cols["row"].append(row)
            cols["id"].append(None if ids is None or ids[row] is None else str(ids[row]))
            for k in ("byte_start", "byte_end", "char_start", "char_end", "kind", "stream", "tokens", "similarity", "text"):
                cols[k].append(span[k])
            cols["doc_id"].append(first.get("doc_id"))
            cols["license"].append(first.get("license"))
            cols["sources"].append([s["doc_id"] for s in sources])
            cols["action"].append(action)
    schema = pa.schema([(name, _arrow_type(pa, t)) for name, t in SPAN_COLUMNS])
    return pa.Table.from_pydict(cols, schema=schema)


def scan_batch(
    index: Index,
    texts: Any,
    *,
    ids: Any = None,
    policy: Optional[Policy] = None,
    jurisdiction: Optional[str] = None,
    context: Optional[str] = None,
    min_tokens: Optional[int] = None,
    code: Optional[str] = None,
    threads: Optional[int] = None,
) -> Any:
    """Scans a column of outputs (a `pyarrow` Array or ChunkedArray of
    strings, or any sequence) into a span table (`span_table`)."""
    values = texts.to_pylist() if hasattr(texts, "to_pylist") else list(texts)
    if ids is not None:
        ids = ids.to_pylist() if hasattr(ids, "to_pylist") else list(ids)
        if len(ids) != len(values):
            raise RecitalError(f"{len(ids)} ids for {len(values)} texts")
    reports = _scan_many(
        index,
        values,
        policy=policy,
        jurisdiction=jurisdiction,
        context=context,
        min_tokens=min_tokens,
        code=code,
        threads=threads,
    )
    return span_table(reports, ids)
