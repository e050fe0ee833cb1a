from os import PathLike
from typing import Any, Iterable, Optional, Sequence, Union

_Path = Union[str, "PathLike[str]"]

__version__: str

class RecitalError(Exception):
    """An error of recital (bad input, a damaged index): the message is the CLI's."""

class Index:
    """An open index: an immutable snapshot, shared between threads; pickles by path."""

    def __init__(self, path: _Path) -> None: ...
    @property
    def path(self) -> str: ...
    @property
    def generation(self) -> int: ...
    def count(self, text: str, *, code: Optional[str] = None) -> dict:
        """Occurrences of `text`: count, doc_count, doc_count_exact, tokens, query_tokens, stream."""
    def locate(self, text: str, *, limit: int = 10, code: Optional[str] = None) -> dict:
        """Where `text` occurs: count and up to `limit` hits with document, rights and snippet."""
    def stats(self) -> dict: ...
    def get(self, id: str) -> Optional[dict]:
        """The live document `id`: id, path, text, rights, code."""
    def __len__(self) -> int: ...

class IndexWriter:
    """Stages changes under the index's write lock; `commit()` makes them visible at once.
    As a context manager it commits on success and rolls back on an exception."""

    def __init__(self, path: _Path, *, shard_tokens: Optional[int] = None) -> None: ...
    def add_files(self, inputs: Sequence[_Path], *, rights: Optional[_Path] = None, mode: str = "auto") -> dict: ...
    def add_docs(self, docs: Iterable[dict]) -> dict: ...
    def remove(self, ids: Sequence[str]) -> dict: ...
    def compact(self) -> dict: ...
    def adopt(self, sources: Sequence[_Path]) -> list: ...
    def commit(self) -> Index: ...
    def rollback(self) -> None: ...
    def close(self) -> None: ...
    def __enter__(self) -> "IndexWriter": ...
    def __exit__(self, exc_type: Any, exc: Any = None, tb: Any = None) -> bool: ...

class Policy:
    """A policy: the built-in default, a TOML file, or TOML text."""

    def __init__(self, path: Optional[_Path] = None, *, toml: Optional[str] = None) -> None: ...
    @property
    def label(self) -> str: ...
    @property
    def default_jurisdiction(self) -> str: ...

def build(
    path: _Path,
    inputs: Optional[Sequence[_Path]] = None,
    *,
    docs: Optional[Iterable[dict]] = None,
    rights: Optional[_Path] = None,
    mode: str = "auto",
    shard_tokens: Optional[int] = None,
) -> dict:
    """Builds a new index from files, directories and JSONL dumps, or from dicts
    (`id`, `text`, and optionally `path`, `code`, `license`, `holder`, `url`,
    `tdm_opt_out`, `jurisdictions`, `category`). Returns the build report."""

def assemble(path: _Path, sources: Sequence[_Path]) -> list:
    """Builds a new index from the shards of indexes built elsewhere."""

def filter(
    index: Index,
    text: str,
    *,
    policy: Optional[Policy] = None,
    jurisdiction: Optional[str] = None,
    context: Optional[str] = None,
    json: bool = False,
) -> dict:
    """Filters one output: action, text (None when blocked), annotations, decision."""

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
    """The `recital.scan/1` report of one output, with the policy's `decision`."""

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
) -> list: ...

SPAN_COLUMNS: tuple

def span_table(reports: Sequence[Optional[dict]], ids: Optional[Sequence[Any]] = None) -> Any: ...
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
    """A span table (pyarrow.Table) of a column of outputs."""
