"""Writes model artefacts with passages planted in them, for tests/artefact.rs.

Usage: write_artefacts.py OUT_DIR CONFIG_JSON
CONFIG_JSON: {"metadata": str, "vocab": str, "header": str, "ids": str}
  - model.gguf: `metadata` as general.description (with the gguf package's
    writer, as llama.cpp's converters write it), `vocab`'s words as
    tokenizer.ggml.tokens, and one small tensor;
  - model.safetensors: `header` in the header's __metadata__;
  - datastore.npy + tokenizer.json: `ids` as int32 token ids of a word-level
    tokenizer (kNN-LM datastores keep the corpus as next-token ids).
"""
import json
import re
import struct
import sys

import gguf
import numpy as np

out, cfg = sys.argv[1], json.loads(sys.argv[2])

w = gguf.GGUFWriter(out + "/model.gguf", "llama")
w.add_description(cfg["metadata"])
w.add_name("planted test model")
w.add_token_list(["<unk>", "<s>"] + cfg["vocab"].split())
w.add_tensor("token_embd.weight", np.arange(16, dtype=np.float32).reshape(4, 4))
w.write_header_to_file()
w.write_kv_data_to_file()
w.write_tensors_to_file()
w.close()

header = {
    "__metadata__": {"format": "pt", "notes": cfg["header"]},
    "w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
}
raw = json.dumps(header).encode()
raw += b" " * (-len(raw) % 8)
with open(out + "/model.safetensors", "wb") as f:
    f.write(struct.pack("<Q", len(raw)) + raw + struct.pack("<2f", 1.0, 2.0))

# The `Whitespace` pre-tokenizer's split, and a word-level vocabulary.
words = re.findall(r"\w+|[^\w\s]+", cfg["ids"])
vocab = {"[UNK]": 0}
for t in words:
    vocab.setdefault(t, len(vocab))
tokenizer = {
    "version": "1.0",
    "truncation": None,
    "padding": None,
    "added_tokens": [],
    "normalizer": None,
    "pre_tokenizer": {"type": "Whitespace"},
    "post_processor": None,
    "decoder": None,
    "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "[UNK]"},
}
with open(out + "/tokenizer.json", "w") as f:
    json.dump(tokenizer, f)
# Padding (-1) around the stored stream, as datastores pad.
ids = [-1, -1] + [vocab[t] for t in words] + [-1]
np.save(out + "/datastore.npy", np.array(ids, dtype="<i4"))
print(json.dumps({"gguf": gguf.__version__ if hasattr(gguf, "__version__") else "?", "tokens": len(words)}))
