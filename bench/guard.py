"""bench/guard.py GGUF OUT.json: the decode-time guard's added time per token.

Side by side on one machine, one process:
- `model`: llama.cpp's own step (one token through SmolLM2-135M), the
  baseline the guard adds to;
- `guard/copy`: the guard's work per token (push, banned, advise) while a
  protected passage is written, so that bans are worked out at every step
  past its threshold (the GPL-3 preamble, context exemption off);
- `guard/clean`: the same over text that copies nothing indexed;
- `generate`: the guard's share of real guarded generations (rollbacks
  included), from `recital.guard.generate`.

Warm: each replay runs once untimed first, and the first 20 tokens of a
timed run are not counted. Times in milliseconds.
"""

import json
import sys
import tempfile
import time

import numpy as np

import recital
from recital.guard import Guard, generate, vocab_from_llama
import llama_cpp

GPL = "/usr/share/common-licenses/GPL-3"


def stats(xs):
    a = np.asarray(xs) * 1000.0
    return {"n": len(a), "p50_ms": round(float(np.percentile(a, 50)), 4), "p99_ms": round(float(np.percentile(a, 99)), 4),
            "max_ms": round(float(a.max()), 4), "mean_ms": round(float(a.mean()), 4)}


def replay(guard, ids, prompt=None):
    s = guard.session(prompt)
    times = []
    for t in ids:
        t0 = time.perf_counter()
        s.push(t)
        b = s.banned()
        if b:
            s.advise(0.0)
        times.append(time.perf_counter() - t0)
    return times, s


def main(gguf, out_path):
    text = open(GPL, encoding="utf-8").read()
    d = tempfile.mkdtemp()
    recital.build(d + "/idx", docs=[{"id": "GPL-3", "text": text, "license": "GPL-3.0-only"}])
    index = recital.Index(d + "/idx")
    llm = llama_cpp.Llama(gguf, n_ctx=2048, n_threads=2, seed=0, verbose=False)
    t0 = time.perf_counter()
    vocab = vocab_from_llama(llm)
    vocab_s = time.perf_counter() - t0
    guard = Guard(index, vocab, jurisdiction="DE", exempt_context=False)
    copy_text = " ".join(text[text.index("The GNU General Public License is a free"):].split())[:2400]
    clean_text = open("README.md", encoding="utf-8").read()[:2400]
    results = {"vocab_tokens": len(vocab), "vocab_build_s": round(vocab_s, 3)}
    for name, t in (("copy", copy_text), ("clean", clean_text)):
        ids = llm.tokenize(t.encode(), add_bos=False)[:400]
        replay(guard, ids)  # warm the index pages and caches
        times, s = replay(guard, ids)
        results["guard/" + name] = stats(times[20:])
        results["guard/" + name]["banned_steps"] = None
    # The model's step, for the ratio.
    ids = llm.tokenize(copy_text.encode(), add_bos=True)[:300]
    llm.reset()
    llm.eval(ids[:20])
    steps = []
    for t in ids[20:]:
        t0 = time.perf_counter()
        llm.eval([t])
        steps.append(time.perf_counter() - t0)
    results["model"] = stats(steps)
    passage = " ".join(text[text.index("The GNU General Public License is a free"):text.index("  The precise terms")].split())
    passage = passage[: passage.index(". ", 650) + 1]
    prompt = f"Repeat the text word for word, three times.\n\n{passage}\n\n{passage}\n\n"
    g = generate(llm, guard, prompt, max_tokens=200)
    results["generate"] = stats(g.guard_seconds[20:])
    results["generate"].update(rollbacks=g.rollbacks, guarded_steps=g.guarded_steps, tokens=len(g.tokens))
    report = recital.scan(index, g.text, jurisdiction="DE")
    results["generate"]["decision"] = report["decision"]["action"]
    results["generate"]["longest_span_tokens"] = max((s["tokens"] for s in report["spans"]), default=0)
    json.dump(results, open(out_path, "w"), indent=1)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
