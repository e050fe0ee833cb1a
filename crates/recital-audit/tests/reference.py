#!/usr/bin/env python3
"""Reference values for recital-audit's metrics, computed the way the field's
reference code computes them (research note anchors-memorisation.md §12).

Reads {"cases": [{"id": ..., "kind": ..., ...}, ...]} as JSON on stdin and
writes {"backend": {...}, "results": {id: {...}}} on stdout. Driven by
tests/against_reference.rs; it can also be run by hand.

Backends: numpy, scipy and sklearn when importable (the reference libraries
themselves: sklearn.metrics.roc_auc_score/roc_curve, scipy.stats.skewnorm,
scipy.special.owens_t, scipy.stats.kstest). Without them every value except
the maximum-likelihood skew-normal fit is computed in pure Python (math,
zlib), independently of the Rust code, and "backend" says which was used.
Nothing here imports or mirrors the Rust implementation: where the Rust code
uses a different algorithm (quadrature in log space for the skew-normal tail,
Gauss-Kronrod for Owen's T), this script uses the library or a plain one.
"""

import bisect
import json
import math
import sys
import zlib

try:
    import numpy as np
except ImportError:  # pragma: no cover - depends on the machine
    np = None
try:
    import scipy
    import scipy.integrate
    import scipy.special
    import scipy.stats
except ImportError:  # pragma: no cover
    scipy = None
try:
    import sklearn
    import sklearn.metrics
except ImportError:  # pragma: no cover
    sklearn = None

if np is None:
    scipy = None
    sklearn = None


def min_k_count(n, k):
    # int(len(x) * k) as in mimir/attacks/min_k.py and mink-plus-plus run.py,
    # guarded to 1 (note §12.11 "guard K = 0"; the upstream code returns NaN).
    return max(1, int(n * k))


def min_k(case):
    lp = case["log_probs"]
    k = case["k"]
    count = min_k_count(len(lp), k)
    if np is not None:
        return {"value": float(np.mean(np.sort(np.array(lp))[:count]))}
    return {"value": math.fsum(sorted(lp)[:count]) / count}


def log_softmax_rows(rows):
    out = []
    for row in rows:
        m = max(row)
        s = math.log(math.fsum(math.exp(v - m) for v in row))
        out.append([v - m - s for v in row])
    return out


def min_k_pp(case):
    logits = case["logits"]
    tokens = case["tokens"]
    k = case["k"]
    if np is not None:
        x = np.array(logits, dtype=np.float64)
        if scipy is not None:
            log_probs = x - scipy.special.logsumexp(x, axis=-1, keepdims=True)
        else:
            m = x.max(axis=-1, keepdims=True)
            log_probs = x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))
        probs = np.exp(log_probs)
        # mink-plus-plus run.py / mimir min_k_plus_plus.py, verbatim formulas:
        mu = (probs * log_probs).sum(-1)
        sigma = (probs * np.square(log_probs)).sum(-1) - np.square(mu)
        token_lp = log_probs[np.arange(len(tokens)), np.array(tokens)]
        z = (token_lp - mu) / np.sqrt(sigma)
        count = min_k_count(len(z), k)
        return {
            "mu": mu.tolist(),
            "sigma": np.sqrt(sigma).tolist(),
            "token_log_probs": token_lp.tolist(),
            "value": float(np.mean(np.sort(z)[:count])),
        }
    log_probs = log_softmax_rows(logits)
    mus, sigmas, tlp, z = [], [], [], []
    for row, tok in zip(log_probs, tokens):
        mu = math.fsum(math.exp(v) * v for v in row)
        second = math.fsum(math.exp(v) * v * v for v in row)
        sigma = math.sqrt(second - mu * mu)
        mus.append(mu)
        sigmas.append(sigma)
        tlp.append(row[tok])
        z.append((row[tok] - mu) / sigma)
    count = min_k_count(len(z), k)
    return {
        "mu": mus,
        "sigma": sigmas,
        "token_log_probs": tlp,
        "value": math.fsum(sorted(z)[:count]) / count,
    }


def zlib_case(case):
    # Carlini et al. 2021 (ftramer/LM_Memorization extraction.py):
    # zlib_entropy = len(zlib.compress(bytes(text, 'utf-8'))); ratio over log ppl.
    lengths = [len(zlib.compress(t.encode("utf-8"), 6)) for t in case["texts"]]
    ratios = [n / loss for n, loss in zip(lengths, case["losses"])]
    return {"lengths": lengths, "ratios": ratios, "zlib_version": zlib.ZLIB_VERSION}


def mann_whitney_pure(members, non_members):
    """P(member > non-member) + P(tie)/2, counting pairs with bisection."""
    s = sorted(non_members)
    wins = 0.0
    for m in members:
        below = bisect.bisect_left(s, m)
        ties = bisect.bisect_right(s, m) - below
        wins += below + 0.5 * ties
    return wins / (len(members) * len(non_members))


def roc_points_pure(members, non_members):
    """(FPR, TPR) at every distinct threshold, counting scores >= t."""
    sm, sn = sorted(members), sorted(non_members)
    pts = [(0.0, 0.0)]
    for t in sorted(set(members) | set(non_members), reverse=True):
        tp = len(sm) - bisect.bisect_left(sm, t)
        fp = len(sn) - bisect.bisect_left(sn, t)
        pts.append((fp / len(sn), tp / len(sm)))
    return pts


def roc_case(case):
    members, non_members = case["members"], case["non_members"]
    out = {}
    if sklearn is not None:
        labels = [1] * len(members) + [0] * len(non_members)
        scores = members + non_members
        out["auc"] = float(sklearn.metrics.roc_auc_score(labels, scores))
        out["auc_source"] = "sklearn.metrics.roc_auc_score"
        # The full curve: every threshold is an operating point (note §12.14).
        fpr, tpr, _ = sklearn.metrics.roc_curve(labels, scores, drop_intermediate=False)
        # What mink-plus-plus and detect-pretrain-code read: roc_curve's default
        # drop_intermediate=True removes collinear points, which can hide the
        # operating point at FPR = alpha and understate TPR@alpha.
        dfpr, dtpr, _ = sklearn.metrics.roc_curve(labels, scores)
        out["tpr_at_fpr_sklearn_default"] = [
            float(max(t for f, t in zip(dfpr, dtpr) if f <= a)) for a in case["alphas"]
        ]
    else:
        pts = roc_points_pure(members, non_members)
        fpr = [p[0] for p in pts]
        tpr = [p[1] for p in pts]
        if scipy is not None:
            u = scipy.stats.mannwhitneyu(members, non_members, alternative="two-sided").statistic
            out["auc"] = float(u) / (len(members) * len(non_members))
            out["auc_source"] = "scipy.stats.mannwhitneyu"
        else:
            out["auc"] = mann_whitney_pure(members, non_members)
            out["auc_source"] = "pure pairwise Mann-Whitney"
    out["auc_pairwise"] = mann_whitney_pure(members, non_members)
    # TPR@FPR: mink-plus-plus' tpr[np.where(fpr <= alpha)[0][-1]] (= the max).
    out["tpr_at_fpr"] = [
        float(max(t for f, t in zip(fpr, tpr) if f <= a)) for a in case["alphas"]
    ]
    # FPR@TPR: fpr[np.where(tpr >= beta)[0][0]] (= the min).
    out["fpr_at_tpr"] = [
        float(min(f for f, t in zip(fpr, tpr) if t >= b)) for b in case["tpr_targets"]
    ]
    return out


def percentile_case(case):
    values, qs = case["values"], case["qs"]
    if np is not None:
        return {"values": [float(np.percentile(values, 100.0 * q)) for q in qs]}
    s = sorted(values)
    out = []
    for q in qs:
        pos = q * (len(s) - 1)
        lo, hi = math.floor(pos), math.ceil(pos)
        out.append(s[lo] + (pos - lo) * (s[hi] - s[lo]))
    return {"values": out}


# --- skew-normal -----------------------------------------------------------

def norm_cdf(x):
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def adaptive_simpson(f, a, b, rel=1e-12, depth=50, pieces=64):
    """Classic adaptive Simpson (Lyness) with Richardson correction, to an
    absolute tolerance of rel times a first estimate of the integral."""
    def simpson(fa, fm, fb, a, b):
        return (b - a) / 6.0 * (fa + 4.0 * fm + fb)

    def rec(a, b, fa, fm, fb, whole, eps, depth):
        m = 0.5 * (a + b)
        lm, rm = 0.5 * (a + m), 0.5 * (m + b)
        flm, frm = f(lm), f(rm)
        left = simpson(fa, flm, fm, a, m)
        right = simpson(fm, frm, fb, m, b)
        delta = left + right - whole
        if depth <= 0 or abs(delta) <= 15.0 * eps:
            return left + right + delta / 15.0
        return (rec(a, m, fa, flm, fm, left, eps / 2.0, depth - 1)
                + rec(m, b, fm, frm, fb, right, eps / 2.0, depth - 1))

    # Split first so a narrow peak is not missed by the first five points.
    panels = []
    for i in range(pieces):
        lo = a + (b - a) * i / pieces
        hi = a + (b - a) * (i + 1) / pieces
        flo, fhi, fmid = f(lo), f(hi), f(0.5 * (lo + hi))
        panels.append((lo, hi, flo, fmid, fhi, simpson(flo, fmid, fhi, lo, hi)))
    estimate = abs(math.fsum(p[5] for p in panels))
    if estimate == 0.0:
        return 0.0
    eps = rel * estimate / pieces
    return math.fsum(rec(*p, eps, depth) for p in panels)


def owens_t_pure(h, a):
    # The defining integral, by adaptive Simpson.
    if a == 0.0:
        return 0.0
    sign = 1.0 if a > 0 else -1.0
    f = lambda x: math.exp(-0.5 * h * h * (1.0 + x * x)) / (1.0 + x * x)
    return sign * adaptive_simpson(f, 0.0, abs(a), pieces=8) / (2.0 * math.pi)


def moments_fit(samples):
    # Closed-form method of moments (population moments, skewness clipped to
    # +-0.99), written from Azzalini's moment formulas.
    n = len(samples)
    mean = math.fsum(samples) / n
    m2 = math.fsum((x - mean) ** 2 for x in samples) / n
    m3 = math.fsum((x - mean) ** 3 for x in samples) / n
    g = max(-0.99, min(0.99, m3 / m2 ** 1.5))
    g23 = abs(g) ** (2.0 / 3.0)
    c = ((4.0 - math.pi) / 2.0) ** (2.0 / 3.0)
    delta = math.copysign(math.sqrt(math.pi / 2.0 * g23 / (g23 + c)), g)
    a = delta / math.sqrt(1.0 - delta * delta)
    scale = math.sqrt(m2 / (1.0 - 2.0 * delta * delta / math.pi))
    loc = mean - scale * delta * math.sqrt(2.0 / math.pi)
    return a, loc, scale


def skewnorm_pdf_pure(x, a, loc, scale):
    z = (x - loc) / scale
    return 2.0 / scale * math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi) * norm_cdf(a * z)


def skewnorm_cdf_quad(x, a, loc, scale):
    """CDF by direct numerical integration of the density (no Owen's T, no
    subtraction): the tail value a library's Phi(z) - 2T(z, a) loses."""
    z = (x - loc) / scale
    if scipy is not None:
        f = lambda t: 2.0 * scipy.stats.norm.pdf(t) * scipy.special.ndtr(a * t)
        if z < 0:
            val, _ = scipy.integrate.quad(f, -np.inf, z, epsabs=0.0, epsrel=1e-13, limit=500)
            return val
        val, _ = scipy.integrate.quad(f, z, np.inf, epsabs=0.0, epsrel=1e-13, limit=500)
        return 1.0 - val
    # Pure: adaptive Simpson over [z - 40, z] (the density is negligible beyond).
    f = lambda t: 2.0 * math.exp(-0.5 * t * t) / math.sqrt(2 * math.pi) * norm_cdf(a * t)
    if z < 0:
        return adaptive_simpson(f, z - 40.0, z)
    return 1.0 - adaptive_simpson(f, z, z + 40.0)


def skewnorm_points(case):
    a, loc, scale = case["shape"], case["location"], case["scale"]
    xs = case["xs"]
    out = {"cdf_quad": [skewnorm_cdf_quad(x, a, loc, scale) for x in xs]}
    if scipy is not None:
        d = scipy.stats.skewnorm(a, loc=loc, scale=scale)
        out["logpdf"] = [float(v) for v in d.logpdf(xs)]
        out["cdf_scipy"] = [float(v) for v in d.cdf(xs)]
    else:
        pdfs = [skewnorm_pdf_pure(x, a, loc, scale) for x in xs]
        out["logpdf"] = [math.log(v) if v > 0 else None for v in pdfs]
        out["cdf_scipy"] = None
    return out


def skewnorm_exposure(case):
    refs, canaries = case["references"], case["canaries"]
    a, loc, scale = moments_fit(refs)
    out = {"moments": {"shape": a, "location": loc, "scale": scale}}
    quad = [skewnorm_cdf_quad(c, a, loc, scale) for c in canaries]
    out["exposure_moments_quad"] = [-math.log2(v) if v > 0 else None for v in quad]
    if scipy is not None:
        d = scipy.stats.skewnorm(a, loc=loc, scale=scale)
        # tensorflow_privacy exposures.py: -np.log2(skewnorm.cdf(px, *params)).
        cdf = d.cdf(canaries)
        out["exposure_moments_scipy"] = [
            float(-np.log2(v)) if v > 0 else None for v in cdf
        ]
        out["cdf_moments_scipy"] = [float(v) for v in cdf]
        out["ks_moments"] = float(scipy.stats.kstest(refs, d.cdf).statistic)
        # Maximum likelihood, as tensorflow_privacy's skewnorm.fit(...).
        params = scipy.stats.skewnorm.fit(refs)
        out["mle"] = {
            "shape": float(params[0]),
            "location": float(params[1]),
            "scale": float(params[2]),
            "log_likelihood": float(scipy.stats.skewnorm.logpdf(refs, *params).sum()),
        }
    else:
        out["exposure_moments_scipy"] = None
        out["cdf_moments_scipy"] = None
        # kstest by hand against Phi(z) - 2T(z, a), T by quadrature.
        s = sorted(refs)
        n = len(s)
        ks = 0.0
        for i, x in enumerate(s):
            z = (x - loc) / scale
            f = min(1.0, max(0.0, norm_cdf(z) - 2.0 * owens_t_pure(z, a)))
            ks = max(ks, (i + 1) / n - f, f - i / n)
        out["ks_moments"] = ks
        out["mle"] = None
    return out


def owens_t_case(case):
    hs, as_ = case["h"], case["a"]
    if scipy is not None:
        return {"values": [float(scipy.special.owens_t(h, a)) for h, a in zip(hs, as_)], "source": "scipy"}
    return {"values": [owens_t_pure(h, a) for h, a in zip(hs, as_)], "source": "simpson"}


def normal_case(case):
    xs = case["xs"]
    out = {
        "erfc": [math.erfc(x) for x in xs],
        "ndtr": [norm_cdf(x) for x in xs],
    }
    if scipy is not None:
        out["log_ndtr"] = [float(scipy.special.log_ndtr(x)) for x in xs]
    else:
        def log_ndtr(x):
            if x > 0:
                return math.log1p(-0.5 * math.erfc(x / math.sqrt(2.0)))
            p = norm_cdf(x)
            return math.log(p) if p > 0 else None

        out["log_ndtr"] = [log_ndtr(x) for x in xs]
    return out


# --- overlap metrics (pure Python DP: these are the reference definitions) ---

def lcs_subsequence(a, b):
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0] * (len(b) + 1)
        for j, y in enumerate(b):
            cur[j + 1] = prev[j] + 1 if x == y else max(cur[j], prev[j + 1])
        prev = cur
    return prev[len(b)]


def lcs_substring(a, b):
    best = 0
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0] * (len(b) + 1)
        for j, y in enumerate(b):
            if x == y:
                cur[j + 1] = prev[j] + 1
                best = max(best, cur[j + 1])
        prev = cur
    return best


def cotaeval_acs(tokens1, tokens2, min_tokens=3):
    # boyiwei/CoTaEval process.py find_common_sequences, for one output,
    # on token lists instead of split sentences.
    dp = [[0] * (len(tokens2) + 1) for _ in range(len(tokens1) + 1)]
    for i in range(1, len(tokens1) + 1):
        for j in range(1, len(tokens2) + 1):
            if tokens1[i - 1] == tokens2[j - 1]:
                dp[i][j] = dp[i - 1][j - 1] + 1
            else:
                dp[i][j] = 0
    sequences_with_indices = []
    for i in range(1, len(tokens1) + 1):
        for j in range(1, len(tokens2) + 1):
            if dp[i][j] >= min_tokens:
                sequence = tokens1[i - dp[i][j]:i]
                sequences_with_indices.append(((i - dp[i][j], i - 1), sequence))
    sequences_with_indices.sort(key=lambda x: (x[0][0], -x[0][1]))
    last_end_index = -1
    total_length = 0
    for indices, sequence in sequences_with_indices:
        if indices[0] > last_end_index:
            last_end_index = indices[1]
            total_length += len(sequence)
    return total_length


def rouge_from(overlap, cand_len, ref_len):
    # rouge_score.scoring: precision = overlap / len(prediction),
    # recall = overlap / len(target), fmeasure = 2pr/(p+r) (beta = 1).
    if cand_len == 0 or ref_len == 0:
        return [0.0, 0.0, 0.0]
    p = overlap / cand_len
    r = overlap / ref_len
    f = 2 * p * r / (p + r) if p + r > 0 else 0.0
    return [p, r, f]


def overlap_case(case):
    out = []
    for cand, ref in case["pairs"]:
        counts = {}
        for t in ref:
            counts[t] = counts.get(t, 0) + 1
        unigram = 0
        for t in cand:
            if counts.get(t, 0) > 0:
                counts[t] -= 1
                unigram += 1
        lcs = lcs_subsequence(cand, ref)
        l = len(ref)
        # Pythia eval_memorization.py: (true == generated[:l]).mean(), on equal lengths.
        score = (
            sum(1 for x, y in zip(cand[:l], ref) if x == y) / l if l else None
        )
        out.append({
            "lcs": lcs,
            "lcsubstr": lcs_substring(cand, ref),
            "acs": cotaeval_acs(cand, ref, 3),
            "rouge_l": rouge_from(lcs, len(cand), len(ref)),
            "rouge_1": rouge_from(unigram, len(cand), len(ref)),
            "memorisation_score": score,
        })
    return {"pairs": out}


def rank_exposure_case(case):
    refs = case["references"]
    out = {}
    m = len(refs)
    strict = [math.log2(m) - math.log2(1 + sum(1 for r in refs if r < c)) for c in case["canaries"]]
    inclusive = [math.log2(m) - math.log2(1 + sum(1 for r in refs if r <= c)) for c in case["canaries"]]
    out["strict"] = strict
    out["inclusive"] = inclusive
    if np is not None and case.get("tie_free"):
        # tensorflow_privacy exposures.py compute_exposure_interpolation, one
        # canary at a time (its repetition key 1), to check it on tie-free data.
        tf = []
        for c in case["canaries"]:
            perplexities_concat = np.concatenate([[c], refs])
            repetitions_concat = np.concatenate([[1], [0] * m])
            idx = np.argsort(perplexities_concat)
            repetitions_concat = repetitions_concat[idx]
            cum_sum = np.cumsum(repetitions_concat == 0)
            ranks = cum_sum[repetitions_concat == 1] + 1
            tf.append(float(np.log2(m) - np.log2(ranks[0])))
        out["tensorflow_privacy"] = tf
    return out


KINDS = {
    "min_k": min_k,
    "min_k_pp": min_k_pp,
    "zlib": zlib_case,
    "roc": roc_case,
    "percentile": percentile_case,
    "skewnorm_points": skewnorm_points,
    "skewnorm_exposure": skewnorm_exposure,
    "owens_t": owens_t_case,
    "normal": normal_case,
    "overlap": overlap_case,
    "rank_exposure": rank_exposure_case,
}


def finite_or_none(value):
    """JSON has no NaN or infinity: they become null (and the Rust side says
    where it expected a number)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite_or_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_none(v) for v in value]
    return value


def main():
    request = json.load(sys.stdin)
    results = {}
    for case in request["cases"]:
        results[case["id"]] = KINDS[case["kind"]](case)
    backend = {
        "python": sys.version.split()[0],
        "numpy": np.__version__ if np is not None else None,
        "scipy": scipy.__version__ if scipy is not None else None,
        "sklearn": sklearn.__version__ if sklearn is not None else None,
        "zlib": zlib.ZLIB_VERSION,
    }
    json.dump(finite_or_none({"backend": backend, "results": results}), sys.stdout, allow_nan=False)


if __name__ == "__main__":
    main()
