"""The decode-time guard: stop a model from writing a protected copy.

A filter removes a copy after it was generated; the guard bans, at each step,
the tokens that would take a protected copy to the length at which the policy
redacts or blocks it, so the model writes something else in the same answer.

    import recital
    from recital.guard import Guard, vocab_from_llama, generate

    llm = llama_cpp.Llama("model.gguf")
    guard = Guard(recital.Index("idx"), vocab_from_llama(llm), jurisdiction="DE")
    out = generate(llm, guard, "Repeat after me: ...", max_tokens=200)
    out.text, out.rollbacks

Three ways in:

- `generate(llm, guard, prompt)`: the full guard for llama-cpp-python, with
  rollback: when the banned tokens held nearly all the probability, it takes
  a few tokens back (the KV cache too) and bans the one that led there, so the
  model rephrases instead of being forced into a word it did not want.
- `LlamaGuardProcessor`: a logits processor for `Llama.__call__` /
  `create_completion(logits_processor=...)`. It masks only: a processor
  cannot take tokens back.
- `recital.vllm`: logits processors for vLLM (masking only, likewise).

Every way reads the same Rust core (`recital-guard`): copy tracking over the
index's suffix arrays, on recital's normalised tokens, so capitals, look-alike
letters and words split across model tokens do not escape it.
"""

from __future__ import annotations

import dataclasses
from typing import Any, List, Optional, Sequence, Union

from ._recital import Guard, GuardSession, Vocab  # noqa: F401  (re-exported)

__all__ = [
    "Guard",
    "GuardSession",
    "Vocab",
    "Generated",
    "LlamaGuardProcessor",
    "banned_mass",
    "generate",
    "vocab_from_hf",
    "vocab_from_llama",
]


def vocab_from_llama(llm: Any) -> Vocab:
    """The vocabulary of a llama-cpp-python model: each id's bytes as
    llama.cpp writes them after another token (special tokens are empty)."""
    # `detokenize` of one id, not `_model.token_to_piece`: the latter
    # returns its whole buffer, NUL padding included (0.3.x).
    return Vocab([bytes(llm.detokenize([i], special=False)) for i in range(llm.n_vocab())])


def vocab_from_hf(tokenizer: Any) -> Vocab:
    """The vocabulary of a Hugging Face tokenizer (`transformers` or
    `tokenizers`): each id decoded after an anchor token and cut off after
    it, so SentencePiece's leading space is kept. Pieces that are part of a
    multi-byte character decode to U+FFFD and are left out of the lookup."""
    n = len(tokenizer.get_vocab()) if hasattr(tokenizer, "get_vocab") else tokenizer.get_vocab_size()
    anchor = _anchor_id(tokenizer)
    head = tokenizer.decode([anchor])
    pieces = []
    for i in range(n):
        text = tokenizer.decode([anchor, i])
        pieces.append(text[len(head):].encode("utf-8") if text.startswith(head) else b"")
    return Vocab(pieces)


def _anchor_id(tokenizer: Any) -> int:
    for text in ("a", "x", "the"):
        ids = tokenizer.encode(text, add_special_tokens=False)
        ids = getattr(ids, "ids", ids)
        if len(ids) == 1:
            return ids[0]
    raise ValueError("found no single-token anchor in this tokenizer")


def banned_mass(logits: Any, banned: Sequence[int], temperature: float = 1.0) -> float:
    """The probability the banned tokens held (softmax at `temperature`;
    greedy decoding is judged at 1)."""
    import numpy as np

    if len(banned) == 0:
        return 0.0
    x = np.asarray(logits, dtype=np.float64) / max(temperature, 1e-6)
    x = x - x.max()
    e = np.exp(x)
    return float(e[np.asarray(banned, dtype=np.int64)].sum() / e.sum())


@dataclasses.dataclass
class Generated:
    """What `generate` wrote."""

    text: str
    tokens: List[int]
    rollbacks: int
    #: Steps at which at least one token was banned.
    guarded_steps: int
    #: Seconds the guard took per generated token (push, banned, advise).
    guard_seconds: List[float]
    finish_reason: str


def generate(
    llm: Any,
    guard: Optional[Guard],
    prompt: Union[str, Sequence[int]],
    *,
    max_tokens: int = 128,
    temperature: float = 0.0,
    seed: int = 0,
    stop: Sequence[str] = (),
) -> Generated:
    """Generates with llama-cpp-python under `guard` (`None`: unguarded, the
    same loop, for comparison). Greedy at temperature 0; otherwise seeded
    sampling. The prompt is the model's input as given (apply a chat
    template first); with the guard's context exemption on, copies of it
    pass."""
    import time

    import numpy as np

    if isinstance(prompt, str):
        prompt_ids = llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=True)
        prompt_text = prompt
    else:
        prompt_ids = list(prompt)
        prompt_text = llm.detokenize(prompt_ids).decode("utf-8", "replace")
    session = guard.session(prompt_text) if guard is not None else None
    rng = np.random.default_rng(seed)
    eos = llm.token_eos()
    llm.reset()
    logits = _eval(llm, prompt_ids)
    out: List[int] = []
    guard_seconds: List[float] = []
    guarded_steps = 0
    finish = "length"
    while len(out) < max_tokens:
        banned: List[int] = []
        if session is not None:
            t0 = time.perf_counter()
            banned = session.banned()
            keep = session.advise(banned_mass(logits, banned, temperature or 1.0)) if banned else None
            guard_seconds.append(time.perf_counter() - t0)
            if keep is not None:
                # Rewind to one token before the kept ones and feed it again:
                # eval drops the KV cache past n_tokens, and gives the logits
                # that followed the kept tokens.
                out = out[:keep]
                kept = list(prompt_ids) + out
                llm.n_tokens = len(kept) - 1
                logits = _eval(llm, kept[-1:])
                continue
            if banned:
                guarded_steps += 1
                logits[np.asarray(banned, dtype=np.int64)] = -np.inf
        token = _pick(logits, temperature, rng)
        out.append(token)
        if session is not None:
            t0 = time.perf_counter()
            session.push(token)
            guard_seconds[-1] += time.perf_counter() - t0
        if token == eos:
            finish = "stop"
            break
        logits = _eval(llm, [token])
        if stop and any(s in _text(llm, out) for s in stop):
            finish = "stop"
            break
    text = _text(llm, [t for t in out if t != eos])
    rollbacks = session.rollbacks if session is not None else 0
    return Generated(text, out, rollbacks, guarded_steps, guard_seconds, finish)


def _eval(llm: Any, tokens: Sequence[int]) -> Any:
    """Feeds `tokens` and returns a copy of the logits after the last."""
    import numpy as np

    llm.eval(list(tokens))
    n = llm.n_vocab()
    return np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(n,)).astype(np.float32, copy=True)


def _pick(logits: Any, temperature: float, rng: Any) -> int:
    import numpy as np

    if temperature <= 0:
        return int(np.argmax(logits))
    x = logits.astype(np.float64) / temperature
    x = x - x[np.isfinite(x)].max()
    p = np.exp(x)
    p /= p.sum()
    return int(rng.choice(len(p), p=p))


def _text(llm: Any, tokens: Sequence[int]) -> str:
    return llm.detokenize(list(tokens)).decode("utf-8", "replace")


class LlamaGuardProcessor:
    """A llama-cpp-python logits processor that masks what `guard` bans.

        llm(prompt, logits_processor=llama_cpp.LogitsProcessorList(
            [LlamaGuardProcessor(guard, prompt_tokens=len(llm.tokenize(...)))]))

    llama-cpp-python passes the prompt and generated ids together; the first
    call's ids are the prompt unless `prompt_tokens` says otherwise. One
    processor serves one generation. It cannot take tokens back: for
    rollback use `generate`.
    """

    def __init__(self, guard: Guard, *, prompt: Optional[str] = None, prompt_tokens: Optional[int] = None):
        self._guard = guard
        self._prompt = prompt
        self._prompt_tokens = prompt_tokens
        self.session: Optional[GuardSession] = None

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import numpy as np

        ids = [int(i) for i in input_ids]
        if self.session is None:
            if self._prompt_tokens is None:
                self._prompt_tokens = len(ids)
            self.session = self._guard.session(self._prompt)
        sync(self.session, ids[self._prompt_tokens:])
        banned = self.session.banned()
        if banned:
            scores[np.asarray(banned, dtype=np.int64)] = -np.inf
        return scores


def sync(session: GuardSession, generated: Sequence[int]) -> None:
    """Brings `session` to the generated ids `generated`: pushes what is new,
    takes back what the caller no longer has."""
    have = session.tokens
    same = 0
    for a, b in zip(have, generated):
        if a != b:
            break
        same += 1
    if same < len(have):
        session.truncate(same)
    if same < len(generated):
        session.extend(list(generated[same:]))
