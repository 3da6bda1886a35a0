"""Why the multilevel quantiser's low-entropy level does not reach f <= 1.1 (issue "The key at capacity").

At the default step (0.4 conditional standard deviations) the multilevel quantiser's level 4 has a
model entropy of h = 0.0061 bit per sample: about 600 bits of entropy in a block of 10^5 samples,
spread over the few thousand samples whose decoder mean lies near a level-4 boundary. This
benchmark reconciles that level alone, on the model's own (Gaussian) channel, with nfkg's codes
and decoder, and measures what would and would not bring its efficiency f (leak over the
decoder's soft entropy) to 1.1:

A. block length: the protocol's rate-adaptive reconciliation at n = 10^5, 3 x 10^5, 10^6;
B. the first syndrome: 'auto' (1.05) against the history start the protocol uses (about 1.185);
C. the code itself: decoding from scratch at a fixed rate, per column-degree profile;
D. ordered-statistics decoding (OSD-0, a naive GF(2) elimination written here) where belief
   propagation fails, accepted only when its word costs at most m - 20 bits (-log2 likelihood).

Run: ``.venv/bin/python benchmarks/bench_low_entropy_level.py [--blocks 8] [--json FILE]``
(about 3 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np

from nfkg.protocol.bounds import level_entropies
from nfkg.protocol.bp import _P_FLOOR, _Graph, _run_numpy
from nfkg.protocol.keygen_blocks import RECONCILE_OPTIONS
from nfkg.protocol.multilevel import STEP, design_quantizer
from nfkg.protocol.posteriors import _posteriors
from nfkg.protocol.reconciliation import binary_entropy, degree_profile, make_code, reconcile

RHO = 0.9999          # any correlation: in units of the conditional spread the level entropies depend on the step only
LEVEL = 4


def level_channel(n: int, seed: int):
    """The reference's level-4 bits, the decoder's MAP guesses and its (exact) error probabilities,
    given levels 0..3: reference r = mu + s e, mu ~ N(0, 1 - s^2), e ~ N(0, 1)."""
    quant = design_quantizer(RHO, 1.0, STEP)
    s = math.sqrt(1 - RHO * RHO)
    rng = np.random.default_rng(seed)
    mu = rng.standard_normal(n) * math.sqrt(1 - s * s)
    q = quant.index(mu + s * rng.standard_normal(n))
    p1 = _posteriors(mu, s, q & ((1 << LEVEL) - 1), (LEVEL,), quant, None, LEVEL, None, {})[LEVEL]
    return quant.level_bits(q, LEVEL), (p1 > 0.5).astype(np.uint8), np.minimum(p1, 1 - p1)


def adaptive(n: int, blocks: int, **opts) -> dict:
    fs, t0 = [], time.perf_counter()
    for i in range(blocks):
        t, g, pe = level_channel(n, i)
        rec = reconcile(t, g, pe, 1000 + i, **{**RECONCILE_OPTIONS, **opts})
        fs.append(rec.leaked_bits / float(np.sum(binary_entropy(pe))) if rec.success else float("nan"))
    return {"n": n, "f_soft": [round(f, 4) for f in fs], "mean": float(np.nanmean(fs)),
            "seconds_per_block": (time.perf_counter() - t0) / blocks}


def osd0(H, target: np.ndarray, hard: np.ndarray, order: np.ndarray) -> np.ndarray | None:
    """OSD-0: the first independent columns in ``order`` (least reliable first) are solved for,
    every other bit keeps its hard decision; dense GF(2) elimination on packed rows."""
    m, n = H.shape
    k = min(n, 3 * m)
    while True:
        cols = order[:k]
        rest = np.setdiff1d(np.arange(n), cols)
        rhs = target ^ (H[:, rest] @ hard[rest] % 2).astype(np.uint8)
        packed = np.packbits(np.concatenate([H[:, cols].toarray().astype(np.uint8), rhs[:, None]], axis=1), axis=1)
        pivots, r = [], 0
        for j in range(k):
            byte, mask = j // 8, np.uint8(0x80 >> (j % 8))
            nz = np.flatnonzero(packed[r:, byte] & mask)
            if nz.size == 0:
                continue
            if nz[0]:
                packed[[r, r + nz[0]]] = packed[[r + nz[0], r]]
            hit = np.flatnonzero(packed[:, byte] & mask)
            packed[hit[hit != r]] ^= packed[r]
            pivots.append(j)
            r += 1
            if r == m:
                break
        if r == m or k == n:
            break
        k = min(n, 2 * k)
    a = np.unpackbits(packed, axis=1)[:, :k + 1]
    if r < m and a[r:, k].any():
        return None
    e = hard.copy()
    free = np.setdiff1d(np.arange(k), pivots)
    sol = a[:, k] ^ (a[:, free].astype(np.int64) @ hard[cols[free]] % 2).astype(np.uint8)
    e[cols[np.asarray(pivots, np.int64)]] = sol[:len(pivots)]
    return e


def fixed_rate(n: int, blocks: int, profiles: dict, fs: list[float], osd: bool) -> list[dict]:
    sets = [level_channel(n, i) for i in range(blocks)]
    rows = []
    for name, prof in profiles.items():
        for f in fs:
            ok = osd_right = osd_accepted = osd_wrong = 0
            t0 = time.perf_counter()
            for i, (t, g, pe) in enumerate(sets):
                h = float(np.mean(binary_entropy(pe)))
                m = int(math.ceil(f * n * h))
                code = make_code(n, m, 77 + i, degree_profile(h, True) if prof == "auto" else prof)
                target = code.syndrome(t) ^ code.syndrome(g)
                ch = np.clip(pe, _P_FLOOR, 0.5)
                llr = np.log1p(-ch) - np.log(ch)
                graph = _Graph(code.H)
                e, conv, _, c2v = _run_numpy("shuffled", graph, target, llr, 200, "product_sum", 0.75, None, 0, "auto")
                truth = t ^ g
                if conv:
                    ok += int(np.array_equal(e, truth))
                    continue
                if not osd:
                    continue
                post = llr + np.bincount(graph.col, weights=c2v, minlength=n)
                eo = osd0(code.H.tocsc(), target, (post < 0).astype(np.uint8), np.argsort(np.abs(post), kind="stable"))
                if eo is None:
                    continue
                cost = float(np.sum(np.where(eo == 1, -np.log2(ch), -np.log2(1 - ch))))
                right = bool(np.array_equal(eo, truth))
                osd_right += right
                osd_accepted += cost <= m - 20
                osd_wrong += (cost <= m - 20) and not right
            rows.append({"profile": name, "f": f, "bp_decoded": ok, "blocks": blocks, "osd_right": osd_right,
                         "osd_accepted": osd_accepted, "osd_accepted_wrong": osd_wrong,
                         "seconds": time.perf_counter() - t0})
            print(f"  C/D {name:10s} f {f:.2f}: BP decodes {ok}/{blocks}"
                  + (f", OSD-0 right {osd_right} of {blocks - ok} BP failures, accepted {osd_accepted} "
                     f"(wrong {osd_wrong})" if osd else "") + f"  [{rows[-1]['seconds']:.1f} s]", flush=True)
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--blocks", type=int, default=8, help="blocks of 10^5 per measurement (fewer at larger n)")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    b = args.blocks
    h = level_entropies(RHO, design_quantizer(RHO, 1.0, STEP).thresholds)
    print(f"level entropies at step {STEP}: " + ", ".join(f"{x:.4g}" for x in h[:LEVEL + 2]), flush=True)
    out = {"h_model": float(h[LEVEL]), "A": [], "B": [], "C": []}
    for n, blocks in ((100_000, b), (300_000, max(2, b // 2)), (1_000_000, max(2, b // 3))):
        r = adaptive(n, blocks, f_start="auto")
        out["A"].append(r)
        print(f"A n = {n:>9,}: f (soft) {r['f_soft']} mean {r['mean']:.3f}  [{r['seconds_per_block']:.1f} s per block]",
              flush=True)
    for start in ("auto", 1.185):
        r = {**adaptive(100_000, b, f_start=start), "f_start": start}
        out["B"].append(r)
        print(f"B first syndrome {start}: f (soft) mean {r['mean']:.3f}  [{r['seconds_per_block']:.2f} s per block]",
              flush=True)
    profiles = {"auto": "auto", "regular 3": {2: 0.006, 3: 0.994}, "3 + 6": {2: 0.006, 3: 0.5, 6: 0.494},
                "3 + 20 (0.29)": {2: 0.006, 3: 0.7, 20: 0.294},
                "6 % degree 2": {2: 0.06, 3: 0.94}}
    out["C"] = fixed_rate(100_000, b, {"auto": "auto"}, [1.05, 1.1, 1.2, 1.3], osd=True) \
        + fixed_rate(100_000, b, {k: v for k, v in profiles.items() if k != "auto"}, [1.1, 1.2], osd=False)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=1, default=str)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
