"""bench/guard_dump.py GGUF DIR: the SmolLM2 vocabulary (one hex-encoded piece
per line, as llama.cpp writes each id after another token) and the token ids
of bench/guard.py's two replays (the GPL-3 preamble, README text), for the
Rust replay `cargo run --release -p recital-guard --example bench_guard`."""
import os
import sys

import llama_cpp

GPL = "/usr/share/common-licenses/GPL-3"


def main(gguf, out):
    os.makedirs(out, exist_ok=True)
    llm = llama_cpp.Llama(gguf, vocab_only=True, verbose=False)
    with open(os.path.join(out, "pieces.hex"), "w") as f:
        for i in range(llm.n_vocab()):
            f.write(bytes(llm.detokenize([i], special=False)).hex() + "\n")
    text = open(GPL, encoding="utf-8").read()
    copy_text = " ".join(text[text.index("The GNU General Public License is a free"):].split())[:2400]
    clean_text = open("README.md", encoding="utf-8").read()[:2400]
    for name, t in (("copy", copy_text), ("clean", clean_text)):
        ids = llm.tokenize(t.encode(), add_bos=False)[:400]
        with open(os.path.join(out, name + ".ids"), "w") as f:
            f.write(" ".join(map(str, ids)))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
