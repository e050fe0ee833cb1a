"""GPT-NeoX forward pass, transcribed line by line from Hugging Face's
modeling_gpt_neox.py (attention with rotary on the first rotary_pct of each
head, rotate_half, parallel or sequential residual, exact GELU, untied
embed_out), in pure Python so that it runs wherever python3 does.

usage: neox_reference.py MODEL_DIR ID,ID,...  -> JSON: log-softmax rows, one per position
"""
import json
import math
import struct
import sys


def load(path):
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    header = json.loads(b[8 : 8 + n])
    base = 8 + n
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        assert v["dtype"] == "F32", v["dtype"]
        s, e = v["data_offsets"]
        flat = list(struct.unpack("<%df" % ((e - s) // 4), b[base + s : base + e]))
        shape = v["shape"]
        if len(shape) == 2:
            out[k] = [flat[r * shape[1] : (r + 1) * shape[1]] for r in range(shape[0])]
        else:
            out[k] = flat
    return out


def linear(x, w, b=None):
    return [sum(wi * xi for wi, xi in zip(row, x)) + (b[o] if b else 0.0) for o, row in enumerate(w)]


def layer_norm(x, w, b, eps):
    m = sum(x) / len(x)
    var = sum((v - m) ** 2 for v in x) / len(x)
    return [(v - m) / math.sqrt(var + eps) * wi + bi for v, wi, bi in zip(x, w, b)]


def gelu(x):
    return 0.5 * x * (1.0 + math.erf(x / math.sqrt(2.0)))


def main():
    d = sys.argv[1]
    cfg = json.load(open(d + "/config.json"))
    t = load(d + "/model.safetensors")
    ids = [int(i) for i in sys.argv[2].split(",")]
    D, H = cfg["hidden_size"], cfg["num_attention_heads"]
    hs = D // H
    rd = int(hs * cfg.get("rotary_pct", 0.25))
    base = cfg.get("rotary_emb_base", 10000)
    eps = cfg.get("layer_norm_eps", 1e-5)
    parallel = cfg.get("use_parallel_residual", True)
    inv_freq = [1.0 / (base ** (j / rd)) for j in range(0, rd, 2)]

    def rotary(vec, pos):
        rot, pas = vec[:rd], vec[rd:]
        freqs = [pos * f for f in inv_freq]
        emb = freqs + freqs
        cos = [math.cos(a) for a in emb]
        sin = [math.sin(a) for a in emb]
        half = [-v for v in rot[rd // 2 :]] + rot[: rd // 2]
        return [r * c + h * s for r, c, h, s in zip(rot, cos, half, sin)] + pas

    p = "gpt_neox."
    x = [list(t[p + "embed_in.weight"][i]) for i in ids]
    T = len(ids)
    for l in range(cfg["num_hidden_layers"]):
        q = f"{p}layers.{l}."
        h1 = [layer_norm(v, t[q + "input_layernorm.weight"], t[q + "input_layernorm.bias"], eps) for v in x]
        qkv = [linear(v, t[q + "attention.query_key_value.weight"], t[q + "attention.query_key_value.bias"]) for v in h1]
        merged = [[0.0] * D for _ in range(T)]
        for h in range(H):
            Q = [rotary(qkv[i][h * 3 * hs : h * 3 * hs + hs], i) for i in range(T)]
            K = [rotary(qkv[i][h * 3 * hs + hs : h * 3 * hs + 2 * hs], i) for i in range(T)]
            V = [qkv[i][h * 3 * hs + 2 * hs : h * 3 * hs + 3 * hs] for i in range(T)]
            for i in range(T):
                sc = [sum(a * b for a, b in zip(Q[i], K[j])) / math.sqrt(hs) for j in range(i + 1)]
                m = max(sc)
                e = [math.exp(s - m) for s in sc]
                z = sum(e)
                for c in range(hs):
                    merged[i][h * hs + c] = sum(e[j] / z * V[j][c] for j in range(i + 1))
        attn = [linear(v, t[q + "attention.dense.weight"], t[q + "attention.dense.bias"]) for v in merged]

        def mlp(v):
            u = [gelu(a) for a in linear(v, t[q + "mlp.dense_h_to_4h.weight"], t[q + "mlp.dense_h_to_4h.bias"])]
            return linear(u, t[q + "mlp.dense_4h_to_h.weight"], t[q + "mlp.dense_4h_to_h.bias"])

        ln2 = lambda v: layer_norm(v, t[q + "post_attention_layernorm.weight"], t[q + "post_attention_layernorm.bias"], eps)
        if parallel:
            x = [[a + b + c for a, b, c in zip(xi, ai, mlp(ln2(xi)))] for xi, ai in zip(x, attn)]
        else:
            x1 = [[a + b for a, b in zip(xi, ai)] for xi, ai in zip(x, attn)]
            x = [[a + b for a, b in zip(v, mlp(ln2(v)))] for v in x1]
    rows = []
    for v in x:
        h = layer_norm(v, t[p + "final_layer_norm.weight"], t[p + "final_layer_norm.bias"], eps)
        logits = linear(h, t["embed_out.weight"])
        m = max(logits)
        lse = m + math.log(sum(math.exp(a - m) for a in logits))
        rows.append([a - lse for a in logits])
    print(json.dumps(rows))


main()
