r"""Reconciliation of one user's key material in blocks, for :func:`nfkg.protocol.keygen.keygen`.

The reference's samples are cut into blocks (:func:`_block_edges`; a short tail joins the last
block) and each block is reconciled and confirmed:

* one-bit (J(45)) and multi-bit quantisers (:func:`_binary_blocks`): the reference's bits are
  reconciled with LDPC syndromes (:func:`nfkg.protocol.reconciliation.reconcile`) against the
  other side's bit posteriors (:func:`nfkg.protocol.bounds.bit_posteriors`); Eve decodes with
  the same public syndrome where it reaches her Slepian-Wolf rate;
* the multilevel quantiser (:func:`_multilevel_blocks`): each level of the cell index is
  disclosed, coded or skipped (:func:`nfkg.protocol.multilevel.reconcile_block`); the decoder's
  model of its coarse levels is the robust mixture until the residuals of the reconciled blocks
  show Gaussian tails (:func:`_tail_rate`, :func:`_heavy`), and each coded level starts
  :data:`F_BACKOFF` below the median efficiency of its previous decodes.

A 64-bit confirmation tag (:func:`nfkg.protocol.amplification.confirmation_tag`) of every block
decides whether it is kept; every disclosed bit counts in the leak. The kept blocks
(:class:`_Kept`) go to privacy amplification. :func:`_kdrs` is J(46)'s key disagreement rate
of the other side's and Eve's own quantisation. Every code, tag and hash seed derives from the
run's seed (:func:`_seed`).

Contents
--------
F_MAX, RECONCILE_OPTIONS, F_BACKOFF, F_START_MAX, TAIL_TEST (re-exported by
:mod:`nfkg.protocol.keygen`, with the helpers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .amplification import TAG_BITS, confirmation_tag
from .bounds import bit_posteriors
from .quantization import kdr as kdr_of, multi_bit, one_bit

__all__ = ["F_MAX", "RECONCILE_OPTIONS", "F_BACKOFF", "F_START_MAX", "TAIL_TEST"]

#: Most syndrome bits revealed per block, in units of n times the entropy the decoder's soft
#: information implies (its posteriors are slightly over-confident: z_a is a scale mixture).
F_MAX = 3.0
#: Rate schedule of :func:`nfkg.protocol.reconciliation.reconcile` in the protocol: the first syndrome
#: at ``'auto'`` (1.03-1.05 times the soft-information entropy), each failed attempt adds 0.01,
#: growing by 5 % per attempt but at least 5e-4 n rows (low-entropy levels), and belief
#: propagation continues from its messages (at most 100 group-shuffled iterations per attempt);
#: sizes on a 0.2 % grid so that blocks reuse codes.
RECONCILE_OPTIONS = {"f_start": "auto", "f_step": 0.01, "f_growth": 1.05, "f_max": F_MAX, "max_iter": 100,
                     "schedule": "shuffled", "size_grid": 0.002, "step_floor": 0.0005}
#: Multilevel: a coded level of the next block starts this far below the median f at which it
#: decoded in the (up to 5) previous blocks, but not below ``'auto'``: fewer failed attempts.
F_BACKOFF = 0.015
#: ... and never above this (a level of almost no entropy decodes with its first row, at any f).
F_START_MAX = 1.5
#: Multilevel: residuals beyond this many conditional standard deviations decide the decoder's
#: model of its coarse levels (:func:`_tail_rate`).
TAIL_TEST = 4.5


def _h2(p: float) -> float:
    if p <= 0.0 or p >= 1.0:
        return 0.0
    return -p * math.log2(p) - (1 - p) * math.log2(1 - p)


def _seed(seed: int, *key: int) -> np.random.SeedSequence:
    return np.random.SeedSequence(int(seed), spawn_key=tuple(int(k) for k in key))


def _int_seed(ss: np.random.SeedSequence) -> int:
    return int(ss.generate_state(1, np.uint64)[0] >> np.uint64(1))


def _block_edges(n: int, blk: int) -> list[tuple[int, int]]:
    starts = list(range(0, n, blk))
    if len(starts) > 1 and n - starts[-1] < blk // 2:
        starts.pop()  # a short tail joins the previous block
    return list(zip(starts, [*starts[1:], n]))


def _kdrs(plan, z_ref, z_side, z_eve, c, quantizer) -> tuple[float, float]:
    """J(46): the other side's and Eve's own quantisation of their measurements against the reference's."""
    from .quantization import stack_real

    var = [float(c[i, i].real) for i in (plan.ref, plan.side, 2)]
    if quantizer == "multilevel":
        quant = plan.quant
        shifts = np.arange(quant.bits, dtype=np.int64)

        def q(z, v):
            idx = quant.index(stack_real(z) * (quant.sigma / math.sqrt(v / 2.0)))
            return ((idx[:, None] >> shifts) & 1).astype(np.uint8).ravel()
    elif quantizer == "one-bit":
        def q(z, v):
            return one_bit(z)
    else:
        def q(z, v):
            return multi_bit(z, plan.bits, sigma=math.sqrt(v / 2.0)).bits
    x_r = q(z_ref, var[0])
    return kdr_of(x_r, q(z_side, var[1])), kdr_of(x_r, q(z_eve, var[2]))


def _binary_blocks(plan, z_ref, z_side, z_eve, c, quantizer, seed, k, block_bits):
    """One-bit / multi-bit: (kept ref bits, kept decoder bits, kept Eve bits, leak kept, leak all,
    syndrome bits, blocks, failed, kdr, eve_kdr, efficiency)."""
    from .reconciliation import binary_entropy, decode, reconcile

    b, ref, side = plan.bits, plan.ref, plan.side
    c_rr, c_ss, c_ee = (float(c[i, i].real) for i in (ref, side, 2))

    def quantize(z, var):
        return one_bit(z) if quantizer == "one-bit" else multi_bit(z, b, sigma=math.sqrt(var / 2.0)).bits

    x_r = quantize(z_ref, c_rr)
    post_s = bit_posteriors(z_side, c_rr, c_ss, c[ref, side], b)
    post_e = bit_posteriors(z_eve, c_rr, c_ee, c[ref, 2], b)
    x_s, x_e = (post_s > 0.5).astype(np.uint8), (post_e > 0.5).astype(np.uint8)
    pe_s, pe_e = np.minimum(post_s, 1 - post_s), np.minimum(post_e, 1 - post_e)
    n = x_r.size
    blk = max(b, (int(block_bits) // b) * b)
    edges = _block_edges(n, blk)
    kept = []
    leaked_all = syndrome_all = failed = 0
    code_seed = _int_seed(_seed(seed, 1, k))           # one public code family per user
    dec = {key: RECONCILE_OPTIONS[key] for key in ("max_iter", "schedule") if key in RECONCILE_OPTIONS}
    for i, (s0, s1) in enumerate(edges):
        rec = reconcile(x_r[s0:s1], x_s[s0:s1], pe_s[s0:s1], code_seed, **RECONCILE_OPTIONS)
        tag_seed = _seed(seed, 2, k, i)
        ok = bool(rec.success) and confirmation_tag(x_r[s0:s1], tag_seed) == confirmation_tag(rec.bits, tag_seed)
        leak = int(rec.leaked_bits) + TAG_BITS
        leaked_all += leak
        syndrome_all += int(rec.leaked_bits)
        if not ok:
            failed += 1
            continue
        # Eve decodes with the public syndrome where it is at least her Slepian-Wolf rate
        # (below it no decoder recovers the block; her MAP bits stand)
        eve = x_e[s0:s1]
        if rec.code.m >= float(np.sum(binary_entropy(pe_e[s0:s1]))):
            eve = decode(rec.code, rec.code.syndrome(x_r[s0:s1]), eve, pe_e[s0:s1], patience=20, **dec)
        kept.append(_Kept(x_r[s0:s1], rec.bits, eve, (s1 - s0) // b, leak))
    kdr_map = float(np.mean(x_r != x_s)) if n else 0.0
    eff = syndrome_all / (n * _h2(kdr_map)) if n and _h2(kdr_map) > 0 else None
    return kept, leaked_all, len(edges), failed, eff, []


def _tail_rate(step: float, t: float = TAIL_TEST) -> float:
    r"""P(|r| > t) for the residual :math:`r = e + \delta` of a reference cell's centre from the
    decoder's conditional mean in conditional standard deviations, :math:`e \sim \mathcal N(0, 1)`
    (the model) and :math:`\delta` uniform on :math:`\pm` ``step``/2 (the cell)."""
    from scipy.special import ndtr

    d = (np.arange(2000) + 0.5) / 2000 * step - step / 2
    return float(np.mean(ndtr(-(t - d)) + ndtr(-(t + d))))


def _heavy(count: int, expected: float) -> bool:
    """More residuals beyond :data:`TAIL_TEST` than the Gaussian model allows (4 sigma, Poisson)."""
    return count > expected + 4.0 * math.sqrt(expected) + 2.0


def _multilevel_blocks(plan, z_ref, z_side, z_eve, c, seed, k, block_bits):
    """Multilevel: the index strings (as bits, b per sample) of the kept blocks, and the record.

    The decoder's posteriors of the coarse levels (model entropy below
    :data:`nfkg.protocol.multilevel.TAIL_H`) are the robust mixture :data:`~nfkg.protocol.multilevel.TAIL` for the
    first block; from then on the decoder, which holds the reconciled reference of every kept
    block and its own measurement, counts the residuals beyond :data:`TAIL_TEST` conditional
    standard deviations and keeps the mixture only where they are more than the Gaussian model
    allows (:func:`_heavy`): svd-mf's :math:`z_a` is a strong Gaussian scale mixture, svd-opt's and
    svd-pa's residuals are Gaussian, for which the mixture doubles the coarse levels' soft
    entropy. Each coded level starts at :data:`F_BACKOFF` below the median f of its previous
    decodes (public: the sizes sent).
    """
    from .bounds import level_entropies
    from .multilevel import DISCLOSE_H, TAIL, TAIL_H, eve_block, reconcile_block
    from .quantization import stack_real
    from .reconciliation import _auto_f_start

    quant, ref, side = plan.quant, plan.ref, plan.side
    c_rr, c_ss, c_ee = (float(c[i, i].real) for i in (ref, side, 2))
    sig = quant.sigma

    def conditional(z, c_xx, c_rx):
        beta = complex(c_rx) / c_xx
        var = max(c_rr - abs(complex(c_rx)) ** 2 / c_xx, 0.0) / 2.0
        return stack_real(beta * z) / sig, max(math.sqrt(var) / sig, 1e-300)

    q_ref = quant.index(stack_real(z_ref))
    mu_s, s_s = conditional(z_side, c_ss, c[ref, side])
    mu_e, s_e = conditional(z_eve, c_ee, c[ref, 2])
    b = quant.bits
    shifts = np.arange(b, dtype=np.int64)

    def to_bits(q):
        return ((q[:, None] >> shifts) & 1).astype(np.uint8).ravel()

    n = q_ref.size
    edges = _block_edges(n, max(64, int(block_bits)))
    h_model = level_entropies(plan.rho_side, quant.thresholds)
    kept = []
    leaked_all = failed = 0
    # disclosed levels are public: they leave the hash input and stay in the leak (chain rule,
    # H_min(X_u | Z X_d) >= H_min(X | Z) - |X_d|), which shortens the hash, not the key
    hashed = np.array([i for i in range(b) if h_model[i] < DISCLOSE_H], dtype=np.int64)

    def hash_bits(q):
        return ((q[:, None] >> hashed) & 1).astype(np.uint8).ravel()

    stats = [{"level": i, "disclosed": 0, "coded": 0, "skipped": 0, "leaked": 0, "errors": 0, "robust_blocks": 0,
              "_bits": 0, "_soft": 0.0, "_leak_c": 0, "_bits_c": 0, "_soft_c": 0.0, "_ce_c": 0.0} for i in range(b)]
    code_seed = _int_seed(_seed(seed, 1, k))           # one public code family per user and level
    p_tail = _tail_rate(quant.step / s_s)
    tail_count, tail_n = 0, 0
    history: dict[int, list[float]] = {}               # per level, f of its recent decodes (same model)
    robust_prev = None
    for i, (s0, s1) in enumerate(edges):
        robust = tail_n == 0 or _heavy(tail_count, tail_n * p_tail)
        if robust != robust_prev:
            history = {}                                # another posterior model: another f scale
        robust_prev = robust
        starts = {lv: min(max(float(np.median(fs[-5:])) - F_BACKOFF, _auto_f_start(float(h_model[lv]), F_MAX)),
                          F_START_MAX) for lv, fs in history.items() if fs}
        out = reconcile_block(q_ref[s0:s1], mu_s[s0:s1], s_s, quant, code_seed, RECONCILE_OPTIONS, h_model,
                              tail=TAIL if robust else None, f_start=starts)
        for lev in out.levels:
            st = stats[lev.level]
            st[lev.action] += 1
            st["leaked"] += lev.leaked_bits
            st["_soft"] += lev.h * (s1 - s0)
            st["_bits"] += s1 - s0
            st["errors"] += max(lev.errors_before, 0)
            st["robust_blocks"] += int(robust and lev.action != "disclosed" and h_model[lev.level] < TAIL_H)
            if lev.action == "coded":
                st["_leak_c"] += lev.leaked_bits
                st["_bits_c"] += s1 - s0
                st["_soft_c"] += lev.h * (s1 - s0)
                st["_ce_c"] += (lev.ce or 0.0) * (s1 - s0)
                if lev.success and not lev.rec.disclosed:
                    history.setdefault(lev.level, []).append(float(lev.rec.f))
        tag_seed = _seed(seed, 2, k, i)
        ok = out.success and confirmation_tag(to_bits(q_ref[s0:s1]), tag_seed) == \
            confirmation_tag(to_bits(out.q_hat), tag_seed)
        leak = out.leaked_bits + TAG_BITS
        leaked_all += leak
        if not ok:
            failed += 1
            continue
        # the decoder now holds this block's reference: its residuals test the Gaussian tails
        centre = (out.q_hat + 0.5 - quant.levels / 2) * quant.step
        inner = (out.q_hat > 0) & (out.q_hat < quant.levels - 1)
        tail_count += int(np.count_nonzero(np.abs(centre - mu_s[s0:s1])[inner] > TAIL_TEST * s_s))
        tail_n += int(np.count_nonzero(inner))
        kept.append(_Kept(hash_bits(q_ref[s0:s1]), hash_bits(out.q_hat),
                          hash_bits(eve_block(q_ref[s0:s1], mu_e[s0:s1], s_e, quant, out, RECONCILE_OPTIONS)),
                          s1 - s0, leak))
    levels = []
    for st, hm in zip(stats, h_model):
        bits, soft = st.pop("_bits"), st.pop("_soft")
        leak_c, bits_c, soft_c, ce_c = st.pop("_leak_c"), st.pop("_bits_c"), st.pop("_soft_c"), st.pop("_ce_c")
        st["h_model"] = float(hm)
        st["h_soft"] = float(soft / bits) if bits else None
        st["h_ce"] = float(ce_c / bits_c) if bits_c else None
        st["f"] = float(leak_c / (bits_c * hm)) if bits_c and hm > 0 else None
        st["f_soft"] = float(leak_c / soft_c) if soft_c > 0 else None
        st["f_ce"] = float(leak_c / ce_c) if ce_c > 0 else None
        levels.append(st)
    eff = (sum(st["leaked"] for st in levels) / (n * plan.h_side)) if n and plan.h_side > 0 else None
    return kept, leaked_all, len(edges), failed, eff, levels


@dataclass
class _Kept:
    """One confirmed block: the hash inputs of the reference, the decoder and Eve, its symbols, its leak."""

    r: np.ndarray
    s: np.ndarray
    e: np.ndarray
    n_sym: int
    leak: int
