"""recital.vllm's logits processors, driven by a stand-in engine.

vLLM does not install on this CPU-only machine, so these tests load
`recital.vllm` against stand-in `vllm` modules whose base classes and batch
structures have the shapes of vLLM's own (Model Runner V2:
`vllm.v1.worker.gpu.sample.logits_processor`; V1 runner:
`vllm.v1.sample.logits_processor`), and call the processors the way each
runner does: slots recycled and rows reordered (V2), requests added, moved,
swapped and removed (V1), with numpy arrays where vLLM has tensors. The
stand-in model copies a protected passage greedily; the guarded request must
never reach the policy's threshold, the opted-out one copies it.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import sys
import types
from typing import Any, List, Optional

import numpy as np
import pytest

import recital
from recital.guard import Vocab

WORDS = ["amber", "harbour", "quietly", "lantern", "orchard", "meridian", "velvet", "copper", "whistle",
         "granite", "meadow", "silver", "thistle", "cathedral", "ember", "falcon", "juniper", "marrow"]


def prose(seed: int, n: int) -> List[str]:
    x = seed * 6364136223846793005 + 1442695040888963407
    out = []
    for _ in range(n):
        x = (x * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        out.append(WORDS[(x >> 33) % len(WORDS)])
    return out


PIECES = ["<eos>"] + [" " + w for w in WORDS] + [" " + w.upper() for w in WORDS]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    d = tmp_path_factory.mktemp("guard-vllm")
    words = prose(5, 600)
    recital.build(str(d / "idx"), docs=[{"id": "book", "text": " ".join(words), "license": "GPL-3.0-only"}])
    return recital.Index(str(d / "idx")), words


def stand_in_vllm(monkeypatch):
    """Registers stand-in `vllm` modules with the interfaces' shapes."""

    class V2Base:
        def __init__(self, vllm_config, req_states):
            pass

        @classmethod
        def validate_params(cls, sampling_params):
            return None

        def add_request(self, req_idx, sampling_params):
            return True

        def apply_staged_writes(self):
            return None

    class V1Base:
        @classmethod
        def validate_params(cls, sampling_params):
            return None

    mods = {}
    for name in ["vllm", "vllm.v1", "vllm.v1.worker", "vllm.v1.worker.gpu", "vllm.v1.worker.gpu.sample",
                 "vllm.v1.worker.gpu.sample.logits_processor", "vllm.v1.sample", "vllm.v1.sample.logits_processor"]:
        mods[name] = types.ModuleType(name)
        monkeypatch.setitem(sys.modules, name, mods[name])
    mods["vllm.v1.worker.gpu.sample.logits_processor"].LogitsProcessor = V2Base
    mods["vllm.v1.sample.logits_processor"].LogitsProcessor = V1Base
    import recital.vllm

    return importlib.reload(recital.vllm), V2Base, V1Base


@dataclasses.dataclass
class Params:
    extra_args: Optional[dict] = None


class Host:
    """A UvaBackedTensor / StagedWriteTensor stand-in: `.np` and `.gpu`."""

    def __init__(self, a):
        self.np = a
        self.gpu = a


class Move(enum.Enum):
    UNIDIRECTIONAL = 1
    SWAP = 2


@dataclasses.dataclass(frozen=True)
class BatchUpdate:
    batch_size: int
    removed: list
    added: list
    moved: list


def wanted(words: List[str], text_words: List[str], upper: bool) -> int:
    """The stand-in model: the next word of the passage after the longest
    end of the output that occurs in it, as a piece id."""
    nxt = 100
    for k in range(min(len(text_words), 30), 0, -1):
        tail = text_words[-k:]
        for p in range(len(words) - k):
            if words[p:p + k] == tail:
                nxt = p + k
                break
        else:
            continue
        break
    w = words[nxt]
    return PIECES.index(" " + (w.upper() if upper else w))


def logits_for(words, generated, upper):
    text_words = [PIECES[t].strip().lower() for t in generated]
    row = np.zeros(len(PIECES), dtype=np.float32)
    row[wanted(words, text_words, upper)] = 30.0
    return row


def longest_run(words: List[str], generated: List[int]) -> int:
    out = [PIECES[t].strip().lower() for t in generated]
    best = 0
    for i in range(len(out)):
        for p in range(len(words)):
            k = 0
            while i + k < len(out) and p + k < len(words) and out[i + k] == words[p + k]:
                k += 1
            best = max(best, k)
    return best


def test_model_runner_v2_processor(corpus, monkeypatch):
    index, words = corpus
    mod, V2Base, _ = stand_in_vllm(monkeypatch)
    assert issubclass(mod.GuardProcessor, V2Base)
    mod.configure(index, jurisdiction="DE", exempt_context=False, vocab=Vocab([p.encode() for p in PIECES]))
    max_reqs, max_len = 4, 400
    all_ids = np.zeros((max_reqs, max_len), dtype=np.int32)
    prompt_len = np.zeros(max_reqs, dtype=np.int32)
    states = types.SimpleNamespace(max_num_reqs=max_reqs, vocab_size=len(PIECES), all_token_ids=Host(all_ids),
                                   prompt_len=Host(prompt_len), device="cpu")
    proc = mod.GuardProcessor(types.SimpleNamespace(), states)
    mod.GuardProcessor.validate_params(Params({"recital_jurisdiction": "DE"}))
    with pytest.raises(ValueError):
        mod.GuardProcessor.validate_params(Params({"recital_jurisdiction": 7}))
    # Slot 2: guarded (upper case, to evade); slot 0: opted out. A recycled
    # slot 1 held an earlier request that must not leak its state.
    assert proc.add_request(1, Params()) is True
    prompt = [PIECES.index(" amber")]
    for slot in (0, 2):
        all_ids[slot, 0] = prompt[0]
        prompt_len[slot] = 1
    assert proc.add_request(2, Params({"recital_jurisdiction": "DE"})) is True
    assert proc.add_request(0, Params({"recital_guard": False})) is False
    total = {0: 1, 2: 1}
    upper = {0: False, 2: True}
    for step in range(140):
        slots = [2, 0] if step % 2 else [0, 2]  # rows are reordered every step
        logits = np.stack([logits_for(words, list(all_ids[s, 1:total[s]]), upper[s]) for s in slots])
        ctx = types.SimpleNamespace(
            expanded_idx_mapping=np.array(slots), idx_mapping_np=np.array(slots),
            expanded_local_pos=np.zeros(len(slots), dtype=np.int64),
            input_ids=np.array([all_ids[s, total[s] - 1] for s in slots]),
            seq_lens_upper_bound_np=np.array([total[s] for s in slots]))
        out = proc.apply(logits, ctx)
        for row, s in enumerate(slots):
            all_ids[s, total[s]] = int(np.argmax(out[row]))
            total[s] += 1
    guarded = list(all_ids[2, 1:total[2]])
    free = list(all_ids[0, 1:total[0]])
    assert longest_run(words, free) >= 100, "the stand-in copies when not guarded"
    assert longest_run(words, guarded) < 50, "the guarded request never reaches the threshold"
    report = recital.scan(index, b"".join(PIECES[t].encode() for t in guarded).decode(), jurisdiction="DE")
    assert report["decision"]["action"] not in ("redact", "block"), report["decision"]["statement"]


def test_model_runner_v2_draft_rows(corpus, monkeypatch):
    """Under speculative decoding a request owns several rows; row p sees
    the committed tokens plus drafts 1..p from input_ids (here a draft that
    already completes the copy: the verifier may reject it, and the row
    after it must still not go on)."""
    index, words = corpus
    mod, _, _ = stand_in_vllm(monkeypatch)
    mod.configure(index, jurisdiction="DE", exempt_context=False, vocab=Vocab([p.encode() for p in PIECES]))
    all_ids = np.zeros((2, 200), dtype=np.int32)
    prompt_len = np.array([1, 0], dtype=np.int32)
    states = types.SimpleNamespace(max_num_reqs=2, vocab_size=len(PIECES), all_token_ids=Host(all_ids),
                                   prompt_len=Host(prompt_len))
    proc = mod.GuardProcessor(types.SimpleNamespace(), states)
    proc.add_request(0, Params())
    ids = [PIECES.index(" " + w) for w in words[100:149]]  # 49 words copied
    all_ids[0, 1:1 + len(ids)] = ids
    seq = 1 + len(ids)
    draft = PIECES.index(" " + words[149])
    ctx = types.SimpleNamespace(
        expanded_idx_mapping=np.array([0, 0]), idx_mapping_np=np.array([0]),
        expanded_local_pos=np.array([0, 1]), input_ids=np.array([ids[-1], draft]),
        seq_lens_upper_bound_np=np.array([seq]))
    out = proc.apply(np.zeros((2, len(PIECES)), dtype=np.float32), ctx)
    assert out[0, draft] == -np.inf, "row 0: the 50th word is banned"
    after_draft = PIECES.index(" " + words[150])
    assert out[1, after_draft] == -np.inf, "row 1 sees the draft: the word after it is banned"
    if after_draft != draft:
        assert np.isfinite(out[1, draft]), "row 1 is judged after the draft, not before it"


def test_v1_runner_processor(corpus, monkeypatch):
    index, words = corpus
    mod, _, V1Base = stand_in_vllm(monkeypatch)
    assert issubclass(mod.GuardProcessorV1, V1Base)
    mod.configure(index, jurisdiction="DE", exempt_context=False, vocab=Vocab([p.encode() for p in PIECES]))
    proc = mod.GuardProcessorV1(types.SimpleNamespace(), "cpu", False)
    assert proc.is_argmax_invariant() is False
    outs = {"guarded": [], "free": []}
    prompt = [PIECES.index(" amber")]
    proc.update_state(BatchUpdate(2, [], [(0, Params(), prompt, outs["guarded"]),
                                          (1, Params({"recital_guard": False}), prompt, outs["free"])], []))
    where = {"guarded": 0, "free": 1}
    for step in range(130):
        if step == 40:  # the engine swaps the two requests' rows
            proc.update_state(BatchUpdate(2, [], [], [(0, 1, Move.SWAP)]))
            where = {"guarded": 1, "free": 0}
        order = sorted(where, key=where.get)
        logits = np.stack([logits_for(words, outs[k], False) for k in order])
        out = proc.apply(logits)
        for k in order:
            outs[k].append(int(np.argmax(out[where[k]])))
    assert longest_run(words, outs["free"]) >= 100
    assert longest_run(words, outs["guarded"]) < 50
    proc.update_state(BatchUpdate(1, [where["guarded"]], [], []))
    assert len(proc._reqs) == 0, "removed and opted-out requests hold no state"
