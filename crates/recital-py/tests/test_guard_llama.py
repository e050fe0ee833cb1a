"""The decode-time guard with a real model: llama-cpp-python and SmolLM2.

The protected passage is the GPL-3 preamble (the Debian copy in
/usr/share/common-licenses, indexed as GPL-3.0-only, which the built-in
policy redacts from 50 tokens). The prompt gives it and asks for it again;
decoding is greedy and the context exemption is off, so without the guard
the model copies it. With the guard, the finished text has no copy the
policy redacts, by the same scan a filter would run, and the model still
writes words; a clean prompt gives token for token what it gives unguarded.
"""

from __future__ import annotations

import os
import re

import pytest

import recital
from recital.guard import Guard, LlamaGuardProcessor, generate, vocab_from_llama

GGUF = os.environ.get("RECITAL_TEST_GGUF")
pytestmark = pytest.mark.skipif(not GGUF, reason="RECITAL_TEST_GGUF is set by scripts/test.sh")
GPL = "/usr/share/common-licenses/GPL-3"


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    llama_cpp = pytest.importorskip("llama_cpp") if not os.environ.get("RECITAL_REQUIRE_LLAMA") else __import__("llama_cpp")
    text = open(GPL, encoding="utf-8").read()
    d = tmp_path_factory.mktemp("guard-llama")
    recital.build(str(d / "idx"), docs=[{"id": "GPL-3", "path": GPL, "text": text, "license": "GPL-3.0-only"}])
    index = recital.Index(str(d / "idx"))
    preamble = text[text.index("The GNU General Public License is a free"):text.index("  The precise terms")]
    passage = " ".join(preamble.split())
    passage = passage[: passage.index(". ", 650) + 1]  # whole sentences
    llm = llama_cpp.Llama(GGUF, n_ctx=2048, n_threads=2, seed=0, verbose=False)
    vocab = vocab_from_llama(llm)
    assert len(vocab) == llm.n_vocab()
    return index, llm, vocab, passage


def prompt_for(passage: str) -> str:
    return f"Repeat the text word for word, three times.\n\n{passage}\n\n{passage}\n\n"


def judged(index, text):
    report = recital.scan(index, text, jurisdiction="DE")
    return report["decision"]["action"], max((s["tokens"] for s in report["spans"]), default=0)


def fluent(text: str) -> None:
    words = re.findall(r"[A-Za-z]+(?:'[a-z]+)?", text)
    assert len(words) >= 40, f"too few words: {text!r}"
    assert sum(1 for w in words if len(w) <= 18) / len(words) > 0.95, text
    longest_repeat = max(len(list(g)) for _, g in __import__("itertools").groupby(words))
    assert longest_repeat <= 3, f"a word repeated {longest_repeat} times: {text!r}"
    letters = sum(c.isalpha() or c.isspace() for c in text) / max(len(text), 1)
    assert letters > 0.85, f"mostly not letters: {text!r}"


def test_the_guard_stops_the_copy_and_the_model_writes_on(setup):
    index, llm, vocab, passage = setup
    prompt = prompt_for(passage)
    plain = generate(llm, None, prompt, max_tokens=150)
    action, longest = judged(index, plain.text)
    assert action == "redact" and longest >= 50, f"without the guard the model copies: {plain.text!r}"

    guard = Guard(index, vocab, jurisdiction="DE", exempt_context=False)
    out = generate(llm, guard, prompt, max_tokens=150)
    action, longest = judged(index, out.text)
    assert action not in ("redact", "block"), f"guarded output still copies ({longest} tokens): {out.text!r}"
    assert out.guarded_steps > 0
    fluent(out.text)
    # The same prompt with the context exemption on: the passage is the
    # user's own text, so nothing changes (tokens that repeat the prompt do
    # not count towards a copy, as in the filter).
    exempt = generate(llm, Guard(index, vocab, jurisdiction="DE"), prompt, max_tokens=150)
    assert exempt.tokens == plain.tokens


def test_a_clean_prompt_is_untouched(setup):
    index, llm, vocab, _ = setup
    guard = Guard(index, vocab, jurisdiction="DE", exempt_context=False)
    prompt = "<|im_start|>user\nWrite a short poem about the sea.<|im_end|>\n<|im_start|>assistant\n"
    plain = generate(llm, None, prompt, max_tokens=80)
    out = generate(llm, guard, prompt, max_tokens=80)
    assert out.tokens == plain.tokens
    assert out.rollbacks == 0 and out.guarded_steps == 0


def test_the_guard_is_per_jurisdiction(setup):
    index, llm, vocab, passage = setup
    eu_only = recital.Policy(os.path.join(os.path.dirname(__file__), "..", "..", "..", "policies", "eu-only.toml"))
    guard = Guard(index, vocab, policy=eu_only, jurisdiction="US", exempt_context=False)
    prompt = prompt_for(passage)
    out = generate(llm, guard, prompt, max_tokens=60)
    assert out.guarded_steps == 0, "a policy that acts only in the EU does not guard a US request"


def test_the_llama_logits_processor_masks(setup):
    import llama_cpp

    index, llm, vocab, passage = setup
    guard = Guard(index, vocab, jurisdiction="DE", exempt_context=False)
    proc = LlamaGuardProcessor(guard)
    out = llm.create_completion(prompt_for(passage), max_tokens=120, temperature=0.0,
                                logits_processor=llama_cpp.LogitsProcessorList([proc]))
    text = out["choices"][0]["text"]
    action, longest = judged(index, text)
    assert action not in ("redact", "block"), f"{longest} tokens copied through the processor: {text!r}"
    assert proc.session is not None and len(proc.session) > 0


def test_bad_input(setup):
    index, llm, vocab, _ = setup
    with pytest.raises(recital.RecitalError):
        Guard(index, vocab, prevent=["shred"])
    with pytest.raises(recital.RecitalError):
        Guard(index, vocab, stuck_mass=2.0)
    with pytest.raises(recital.RecitalError):
        recital.guard.Vocab([])
    session = Guard(index, vocab).session()
    session.push(10 ** 9)  # an id outside the vocabulary writes nothing
    assert session.text == "" and session.banned() == []
    session.truncate(5)
    assert len(session) == 1
