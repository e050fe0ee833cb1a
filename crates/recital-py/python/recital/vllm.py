"""recital's decode-time guard as vLLM logits processors.

vLLM has two interfaces, one per model runner, and rejects a processor
written for the other:

- `GuardProcessor`: Model Runner V2 (the default since v0.29),
  `vllm.v1.worker.gpu.sample.logits_processor.LogitsProcessor`. Rows are
  logits rows, not requests: each row's request slot is
  `ctx.expanded_idx_mapping[row]`, its committed tokens are in
  `req_states.all_token_ids`, and under speculative decoding the draft
  tokens before a row are in `ctx.input_ids`.
- `GuardProcessorV1`: the V1 model runner (`VLLM_USE_V2_MODEL_RUNNER=0`),
  `vllm.v1.sample.logits_processor.LogitsProcessor`, with `update_state`
  and the running `output_tok_ids` lists.

Both are configured by `configure(...)` in the process that builds the
engine, or by environment variables for `vllm serve --logits-processors
recital.vllm:GuardProcessor`:

- `RECITAL_GUARD_INDEX` (required), `RECITAL_GUARD_POLICY` (a TOML file;
  default: the built-in policy), `RECITAL_GUARD_JURISDICTION`,
  `RECITAL_GUARD_EXEMPT_CONTEXT` (`0` to protect passages the prompt quotes).

Per request, `SamplingParams.extra_args` (`vllm_xargs` over HTTP) may carry
`recital_guard: false` to opt out and `recital_jurisdiction: "DE"`.

A logits processor masks; it cannot take tokens back, so the rollback of
`recital.guard.generate` is not available inside vLLM. The vocabulary is
built once per process from the model's Hugging Face tokenizer.

This module imports without vLLM installed (its classes then derive from
`object`), so that its logic can be tested with a stand-in engine.
"""

from __future__ import annotations

import os
import threading
from typing import Any, Dict, List, Optional, Sequence

from . import Index, Policy
from .guard import Guard, GuardSession, vocab_from_hf
from .guard import sync as _sync

try:  # Model Runner V2
    from vllm.v1.worker.gpu.sample.logits_processor import LogitsProcessor as _V2Base
except Exception:  # pragma: no cover - depends on the installed vLLM
    _V2Base = object
try:  # V1 model runner
    from vllm.v1.sample.logits_processor import LogitsProcessor as _V1Base
except Exception:  # pragma: no cover
    _V1Base = object

__all__ = ["GuardProcessor", "GuardProcessorV1", "configure"]

_config: Dict[str, Any] = {}
_lock = threading.Lock()
_guards: Dict[str, Guard] = {}
_vocab: Dict[str, Any] = {}


def configure(
    index: Any,
    *,
    policy: Optional[Policy] = None,
    jurisdiction: Optional[str] = None,
    exempt_context: bool = True,
    vocab: Any = None,
) -> None:
    """Sets what the processors guard with, for engines built in this
    process. `index` is an `Index` or its path; `vocab` a `recital.Vocab`
    (default: built from the model's tokenizer)."""
    with _lock:
        _config.clear()
        _config.update(index=index, policy=policy, jurisdiction=jurisdiction, exempt_context=exempt_context)
        _guards.clear()
        _vocab.clear()
        if vocab is not None:
            _vocab["vocab"] = vocab


def _settings() -> Dict[str, Any]:
    if _config:
        return dict(_config)
    index = os.environ.get("RECITAL_GUARD_INDEX")
    if not index:
        raise ValueError("recital's vLLM guard needs an index: call recital.vllm.configure() or set RECITAL_GUARD_INDEX")
    policy = os.environ.get("RECITAL_GUARD_POLICY")
    return {
        "index": index,
        "policy": Policy(policy) if policy else None,
        "jurisdiction": os.environ.get("RECITAL_GUARD_JURISDICTION"),
        "exempt_context": os.environ.get("RECITAL_GUARD_EXEMPT_CONTEXT", "1") != "0",
    }


def _guard_for(vllm_config: Any, jurisdiction: Optional[str]) -> Guard:
    s = _settings()
    j = jurisdiction or s["jurisdiction"] or ""
    with _lock:
        if j in _guards:
            return _guards[j]
        if "vocab" not in _vocab:
            _vocab["vocab"] = vocab_from_hf(_tokenizer(vllm_config))
        index = s["index"] if isinstance(s["index"], Index) else Index(str(s["index"]))
        g = Guard(
            index,
            _vocab["vocab"],
            policy=s["policy"],
            jurisdiction=j or None,
            exempt_context=s["exempt_context"],
        )
        _guards[j] = g
        return g


def _tokenizer(vllm_config: Any) -> Any:
    from transformers import AutoTokenizer  # vLLM depends on transformers

    mc = vllm_config.model_config
    return AutoTokenizer.from_pretrained(mc.tokenizer, trust_remote_code=getattr(mc, "trust_remote_code", False))


def _wanted(sampling_params: Any) -> Optional[Optional[str]]:
    """`None` when the request opts out, else its jurisdiction (or None)."""
    extra = getattr(sampling_params, "extra_args", None) or {}
    if extra.get("recital_guard", True) in (False, "false", "0", 0):
        return None
    return extra.get("recital_jurisdiction") or ""


class _Request:
    """One guarded request: its session, and its prompt ids once known."""

    def __init__(self, guard: Guard, prompt_text: Optional[str]):
        self.guard = guard
        self.session: GuardSession = guard.session(prompt_text)

    def banned_after(self, generated: Sequence[int]) -> List[int]:
        _sync(self.session, generated)
        return self.session.banned()


def _text(vocab: Any, ids: Sequence[int]) -> str:
    return b"".join(vocab.piece(int(i)) for i in ids).decode("utf-8", "replace")


def _mask(logits: Any, row: int, banned: Sequence[int]) -> None:
    if banned:
        logits[row, list(banned)] = float("-inf")


class GuardProcessor(_V2Base):  # type: ignore[misc, valid-type]
    """Model Runner V2 processor: `LLM(..., logits_processors=[GuardProcessor])`."""

    def __init__(self, vllm_config: Any, req_states: Any):
        if _V2Base is not object:
            super().__init__(vllm_config, req_states)
        self._config = vllm_config
        self._states = req_states
        # Per request slot: (jurisdiction wanted, request state once built).
        self._slots: List[Optional[list]] = [None] * req_states.max_num_reqs

    @classmethod
    def validate_params(cls, sampling_params: Any) -> None:
        extra = getattr(sampling_params, "extra_args", None) or {}
        j = extra.get("recital_jurisdiction")
        if j is not None and not isinstance(j, str):
            raise ValueError("recital_jurisdiction must be a string such as \"DE\"")

    def add_request(self, req_idx: int, sampling_params: Any) -> bool:
        want = _wanted(sampling_params)
        # Slots are recycled: always overwrite.
        self._slots[req_idx] = None if want is None else [want, None]
        return want is not None

    def apply(self, logits: Any, ctx: Any) -> Any:
        rows = _tolist(ctx.expanded_idx_mapping)
        local = _tolist(ctx.expanded_local_pos)
        inputs = _tolist(ctx.input_ids)
        batch_pos = {slot: i for i, slot in enumerate(_tolist(ctx.idx_mapping_np))}
        for row, slot in enumerate(rows):
            entry = self._slots[slot] if slot < len(self._slots) else None
            if entry is None:
                continue
            committed = self._committed(slot, ctx.seq_lens_upper_bound_np[batch_pos[slot]])
            if entry[1] is None:
                guard = _guard_for(self._config, entry[0])
                entry[1] = _Request(guard, self._prompt_text(slot, guard))
            p = local[row]
            drafts = inputs[row - p + 1 : row + 1] if p > 0 else []
            _mask(logits, row, entry[1].banned_after(committed + drafts))
        return logits

    def _committed(self, slot: int, seq_len: Any) -> List[int]:
        start = int(self._states.prompt_len.np[slot])
        return _tolist(self._states.all_token_ids.gpu[slot, start : int(seq_len)])

    def _prompt_text(self, slot: int, guard: Guard) -> str:
        n = int(self._states.prompt_len.np[slot])
        return _text(_vocab["vocab"], _tolist(self._states.all_token_ids.gpu[slot, :n]))


class GuardProcessorV1(_V1Base):  # type: ignore[misc, valid-type]
    """V1 model runner processor (`VLLM_USE_V2_MODEL_RUNNER=0`)."""

    def __init__(self, vllm_config: Any, device: Any, is_pin_memory: bool):
        # The V1 base's __init__ is abstract: nothing to call.
        self._config = vllm_config
        # Persistent batch index -> (request state, running output ids).
        self._reqs: Dict[int, tuple] = {}

    @classmethod
    def validate_params(cls, sampling_params: Any) -> None:
        GuardProcessor.validate_params(sampling_params)

    def is_argmax_invariant(self) -> bool:
        return False

    def update_state(self, batch_update: Any) -> None:
        if batch_update is None:
            return
        # vLLM's order: removed, added, moved.
        for index in batch_update.removed:
            self._reqs.pop(index, None)
        for index, params, prompt_ids, output_ids in batch_update.added:
            want = _wanted(params)
            if want is None:
                self._reqs.pop(index, None)
                continue
            guard = _guard_for(self._config, want)
            prompt = _text(_vocab["vocab"], prompt_ids) if prompt_ids is not None else None
            self._reqs[index] = (_Request(guard, prompt), output_ids)
        for a, b, direction in batch_update.moved:
            ra, rb = self._reqs.pop(a, None), self._reqs.pop(b, None)
            if ra is not None:
                self._reqs[b] = ra
            if rb is not None and getattr(direction, "name", str(direction)).endswith("SWAP"):
                self._reqs[a] = rb

    def apply(self, logits: Any) -> Any:
        for index, (req, output_ids) in self._reqs.items():
            # Asynchronous scheduling leaves -1 for tokens not sampled yet.
            generated = [t for t in output_ids if t >= 0]
            _mask(logits, index, req.banned_after(generated))
        return logits


def _tolist(x: Any) -> List[int]:
    if hasattr(x, "tolist"):
        return [int(v) for v in x.tolist()]
    return [int(v) for v in x]
