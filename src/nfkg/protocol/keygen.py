r"""The whole key-generation protocol: probing, quantisation, reconciliation, amplification.

C Fig. 2 and J Fig. 2 name four stages; the papers stop after the second. :func:`keygen`
runs all four for every user of a scenario and proves the result:

1. **Probing** (:mod:`nfkg.protocol.probing`): T Monte Carlo rounds give :math:`z_a, z_b, z_e` per user.
2. **Direction.** One side's measurement is the *reference* that the key is distilled from:
   the BS's :math:`z_a` (``direction='bs'``, direct reconciliation) or the user's :math:`z_b`
   (``'user'``, reverse reconciliation, as in continuous-variable QKD). Eve always attacks
   the reference that was used. When Eve sits next to the user she learns :math:`z_a` almost
   as well as the user does, but not the user's own noise: the one-way rate from the BS,
   :math:`I(a;b) - I(a;e)`, is then about 0 while the one from the user,
   :math:`I(a;b) - I(b;e)`, is not (J5, svd-opt: all of the SKR). ``'auto'`` (default) takes,
   per user, the direction whose bound for the quantiser used is larger.
3. **Quantisation** of the reference's real components (:mod:`nfkg.protocol.quantization`,
   :mod:`nfkg.protocol.multilevel`): ``'multilevel'`` (default), a fine uniform quantiser with a step
   chosen from the model and multistage decoding, level by level; ``'one-bit'`` J(45);
   ``'multi-bit'``, b-bit equiprobable Gray. The other side never quantises blindly: it
   computes the posterior of every reference bit from its own measurement. The KDR reported
   is J(46)'s: the other side's and Eve's own quantisation of their measurements against the
   reference's bits.
4. **Reconciliation** (:mod:`nfkg.protocol.reconciliation`): in blocks, the reference discloses LDPC
   syndromes; the other side decodes with its soft information; more syndrome bits are
   revealed until the decoder converges (or the block fails). ``'multilevel'`` reconciles
   each level separately (disclosed whole, coded, or not sent; :mod:`nfkg.protocol.multilevel`).
   **Confirmation**: a 64-bit 2-universal tag of each reconciled block
   (:func:`nfkg.protocol.amplification.confirmation_tag`); a failed decode or a tag mismatch discards
   the block, and it is counted. Every disclosed bit (syndromes, disclosed levels, tags) is
   leaked. If even an ideal reconciliation (leaking :math:`nH(Q|\text{side})`) would leave no
   key after the finite-size and :math:`\varepsilon` terms, the protocol stops before
   reconciliation (``status``).
5. **Privacy amplification** (:mod:`nfkg.protocol.amplification`): Toeplitz hashing of the kept blocks
   to the leftover-hash-lemma length from Eve's conditional entropy of the reference in the
   model (her soft observation), minus the leak, minus :math:`2\log_2(1/\varepsilon_{PA})`,
   minus the finite-size term: by default the Renyi-entropy bound
   (:func:`nfkg.protocol.amplification.key_length` with ``method='renyi'``), or the AEP term.

**Eve** runs the same public protocol on her own :math:`z_e` with everything sent in the
clear: her MAP bits from her posteriors, the same syndromes and disclosed levels, the same
hash. Her agreement with the final key is reported (1/2 is ignorance).

**Bounds** beside every result (:class:`UserKey`): the SKR :math:`I(z_a; z_b|z_e)` of the
papers; the Gaussian one-way rates from the BS and from the user
(:func:`nfkg.protocol.bounds.gaussian_one_way_bs`, :func:`~nfkg.protocol.bounds.gaussian_one_way_user`); the
bound of the quantiser actually used, :math:`2[H(Q|z_e) - H(Q|\text{side})]^+`
(``one_way_bound``); and the achieved rate as a fraction of each.

The model is the circular Gaussian one of the covariance; :math:`z_a` is in fact a Gaussian
scale mixture (:mod:`nfkg.protocol.probing`): the posteriors are calibrated on average, and the
achieved rates and error counts are measured on the Monte Carlo samples.

Contents
--------
keygen, KeygenResult, UserKey, DIRECTIONS, QUANTIZERS
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import numpy as np

from .amplification import TAG_BITS, confirmation_tag, key_length, toeplitz_hash_many
from .bounds import (bit_posteriors, conditional_entropy, conditional_renyi_entropy, correlation,
                     gaussian_one_way_bs, gaussian_one_way_user)
from .quantization import kdr as kdr_of, multi_bit, one_bit
from ..model.scenario import Scenario

__all__ = ["keygen", "KeygenResult", "UserKey", "QUANTIZERS", "DIRECTIONS", "FINITE_SIZE", "NIST_MIN_BITS"]

QUANTIZERS = ("multilevel", "one-bit", "multi-bit")
DIRECTIONS = ("auto", "bs", "user")
#: Finite-size terms of the key length: Renyi-entropy bound (default), the AEP term, none.
FINITE_SIZE = ("renyi", "aep", "none")
#: Reference and other-side indices of (z_a, z_b, z_e) per direction; Eve is index 2.
_ROLES = {"bs": (0, 1), "user": (1, 0)}
#: Shortest final key tested with SP 800-22 (below: "too short").
NIST_MIN_BITS = 1000
#: Default reconciliation block [bits per level; for one-bit and multi-bit, bits of the block].
BLOCK_BITS = 100_000
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
#: Largest privacy-amplification input per Toeplitz hash [bits] (:func:`_amplify`).
PA_BITS = 1 << 21


@dataclass
class UserKey:
    """One user's outcome (the fields of ``nfkg keygen --json``).

    ``key_sha256`` is the SHA-256 of the key packed MSB first into bytes (zero-padded to
    whole bytes); ``nist_passed`` is ``'passed'``, ``'failed'`` or ``'too short'``. Rates are
    in bits per probing: ``bits_per_probing`` (achieved, with the finite-size term),
    ``analytic_skr`` (the papers' SKR), ``gaussian_one_way_bs`` / ``gaussian_one_way_user``
    (unquantised one-way rates), ``one_way_bound`` (the quantiser used, in the direction used);
    ``fraction_*`` divide the achieved rate by each (``None`` where the bound is 0).
    ``key_bits`` uses the finite-size method ``finite_size``; ``asymptotic_key_bits`` and
    ``aep_key_bits`` are the lengths without it and with the AEP term, for comparison.
    ``levels`` (multilevel) lists, per level, what was done and leaked, summed over blocks.
    """

    quantized_bits: int
    kdr: float
    eve_kdr: float
    leaked_bits: int
    efficiency: float | None
    key_bits: int
    keys_match: bool
    eve_agreement: float | None
    nist_passed: str
    bits_per_probing: float
    one_way_bound: float
    analytic_skr: float
    key_sha256: str
    blocks: int = 0
    failed_blocks: int = 0
    asymptotic_key_bits: int = 0
    aep_key_bits: int = 0
    status: str = "ok"
    direction: str = "bs"
    quantizer: str = "one-bit"
    bits_per_sample: int = 1
    step: float | None = None
    gaussian_one_way_bs: float = 0.0
    gaussian_one_way_user: float = 0.0
    fraction_of_skr: float | None = None
    fraction_of_one_way_bs: float | None = None
    fraction_of_one_way_user: float | None = None
    fraction_of_bound: float | None = None
    levels: list = field(default_factory=list)
    key: np.ndarray | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("key")
        return d


@dataclass
class KeygenResult:
    """:func:`keygen`'s result: the run's parameters and one :class:`UserKey` per user."""

    scheme: str
    rounds: int
    seed: int
    quantizer: str
    users: list[UserKey]
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"scheme": self.scheme, "rounds": self.rounds, "seed": self.seed, "quantizer": self.quantizer,
                **{k: v for k, v in self.params.items()}, "users": [u.to_dict() for u in self.users]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), allow_nan=False)


def _h2(p: float) -> float:
    if p <= 0.0 or p >= 1.0:
        return 0.0
    return -p * math.log2(p) - (1 - p) * math.log2(1 - p)


def _seed(seed: int, *key: int) -> np.random.SeedSequence:
    return np.random.SeedSequence(int(seed), spawn_key=tuple(int(k) for k in key))


def _int_seed(ss: np.random.SeedSequence) -> int:
    return int(ss.generate_state(1, np.uint64)[0] >> np.uint64(1))


def _nist(key: np.ndarray, alpha: float = 0.01) -> str:
    """SP 800-22 verdict of one key: ``'passed'``, ``'failed'`` or ``'too short'``.

    :func:`nfkg.randomness.key_verdict`: only the tests applicable at the key's length, with
    SP 800-22's proportion rule for the tests with many P-values; ``'too short'`` below
    :data:`NIST_MIN_BITS` bits or when no test applies.
    """
    if key.size < NIST_MIN_BITS:
        return "too short"
    from ..randomness import key_verdict

    verdict = key_verdict(key, alpha=alpha)[0]
    return "too short" if verdict == "not applicable" else verdict


# ------------------------------------------------------------------------------------------
# per-user model quantities
# ------------------------------------------------------------------------------------------

@dataclass
class _Plan:
    """What one user runs: direction, quantiser, and the model's entropies per real sample."""

    direction: str
    ref: int
    side: int
    bound: float                 # 2 [H(Q|e) - H(Q|side)]^+ per probing
    h_side: float                # H(Q|side) per real sample
    h_eve: float                 # H(Q|e) per real sample
    rho_side: float
    rho_eve: float
    bits: int
    quant: Any = None            # UniformQuantizer (multilevel)
    _h_alpha: dict = field(default_factory=dict, repr=False)

    @property
    def thresholds(self):
        return None if self.quant is None else self.quant.thresholds

    def h_alpha(self, alpha: float) -> float:
        """Eve's conditional Renyi entropy H_alpha(Q | z_e) per real sample (cached: the key
        lengths take the best of a few alphas, :func:`_renyi_alphas`)."""
        a = float(alpha)
        if a not in self._h_alpha:
            self._h_alpha[a] = float(conditional_renyi_entropy(self.rho_eve, a, bits=self.bits)) if self.quant is None \
                else float(conditional_renyi_entropy(self.rho_eve, a, thresholds=self.quant.thresholds))
        return self._h_alpha[a]


def _plan(c: np.ndarray, direction: str, quantizer: str, bits: int, step: float) -> _Plan:
    from .multilevel import design_quantizer

    ref, side = _ROLES[direction]
    c_rr = float(c[ref, ref].real)
    rho_s = float(correlation(c_rr, float(c[side, side].real), c[ref, side]))
    rho_e = float(correlation(c_rr, float(c[2, 2].real), c[ref, 2]))
    if quantizer == "multilevel":
        quant = design_quantizer(rho_s, math.sqrt(c_rr / 2.0), step)
        th, b = quant.thresholds, quant.bits
        h_s = conditional_entropy(rho_s, thresholds=th)
        h_e = conditional_entropy(rho_e, thresholds=th)
    else:
        quant, b = None, bits
        h_s, h_e = conditional_entropy(rho_s, b), conditional_entropy(rho_e, b)
    return _Plan(direction, ref, side, 2.0 * max(h_e - h_s, 0.0), float(h_s), float(h_e), rho_s, rho_e, b, quant)


#: Renyi length: a coarse grid of alpha (alpha - 1 = 1e-5 .. 1, one per decade), then eight
#: points per decade within half a decade of the best (:func:`_renyi_alphas`).
_COARSE_ALPHAS = tuple(1.0 + 10.0 ** np.arange(-5.0, 0.5))


def _renyi_alphas(plan: _Plan, n_sym: int, eps_smooth: float) -> list[float]:
    """Alphas for :func:`~nfkg.protocol.amplification.key_length`: the coarse grid's best and its
    neighbours at 10^(1/8) (the penalty is flat near its optimum: within 1 % of the searched
    one), all from the plan's cache of H_alpha; any alpha gives a valid length."""
    from .amplification import renyi_min_entropy

    a0 = renyi_min_entropy(n_sym, plan.h_alpha, eps_smooth, alphas=_COARSE_ALPHAS)[1]
    fine = [1.0 + (a0 - 1.0) * 10.0 ** (k / 8.0) for k in range(-4, 5)]
    return sorted({a for a in (*_COARSE_ALPHAS, *fine) if 1.0 < a <= 2.0})


def _length(plan: _Plan, n_sym: int, leaked: int, eps_pa: float, eps_smooth: float, method: str) -> int:
    if method == "renyi":
        return key_length(n_sym, plan.h_eve, leaked, eps_pa, eps_smooth, 2 ** plan.bits, True, method="renyi",
                          h_alpha=plan.h_alpha, alphas=_renyi_alphas(plan, n_sym, eps_smooth))
    return key_length(n_sym, plan.h_eve, leaked, eps_pa, eps_smooth, 2 ** plan.bits, method == "aep")


#: Most users processed at once by default (threads).
MAX_WORKERS = 4
#: Probings from which users are processed in parallel by default (below, threads cost more
#: than they save).
PARALLEL_ROUNDS = 50_000


def _workers(workers: int | None, rounds: int) -> int:
    if workers is None:
        import os

        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        return max(1, min(MAX_WORKERS, cores)) if rounds >= PARALLEL_ROUNDS else 1
    if int(workers) < 1:
        raise ValueError(f"workers: must be at least 1, got {workers}")
    return int(workers)


def _fraction(x: float, bound: float) -> float | None:
    return float(x / bound) if bound > 1e-12 else None


# ------------------------------------------------------------------------------------------
# the protocol
# ------------------------------------------------------------------------------------------

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


@dataclass
class _Amplified:
    ell: int
    ell_asym: int
    ell_aep: int
    key_r: np.ndarray
    key_s: np.ndarray
    key_e: np.ndarray
    segments: int


def _amplify(kept: list[_Kept], plan: _Plan, eps_pa: float, eps_smooth: float, method: str,
             seed: np.random.SeedSequence) -> _Amplified:
    r"""Privacy amplification of the kept blocks, in segments of at most :data:`PA_BITS` input bits.

    Each segment (consecutive kept blocks) is hashed with its own Toeplitz matrix to its own
    leftover-hash-lemma length, from its symbols and its leak, with :math:`\varepsilon/S` for each of
    the :math:`S` segments (so the whole key is :math:`(2\varepsilon_s + \varepsilon_{PA})`-secret: the
    segments are independent given everything public). Hashing cost grows faster than the
    input (FFT and cache), and the finite-size term grows only as :math:`\sqrt{S}`.
    """
    segs: list[list[_Kept]] = []
    for blk in kept:
        if segs and sum(x.r.size for x in segs[-1]) + blk.r.size <= PA_BITS:
            segs[-1].append(blk)
        else:
            segs.append([blk])
    n_seg = max(len(segs), 1)
    e_pa, e_s = eps_pa / n_seg, eps_smooth / n_seg
    ell = ell_asym = ell_aep = 0
    keys: tuple[list, list, list] = ([], [], [])
    for j, seg in enumerate(segs):
        n_sym, leak = sum(x.n_sym for x in seg), sum(x.leak for x in seg)
        lj = _length(plan, n_sym, leak, e_pa, e_s, method)
        ell += lj
        ell_asym += _length(plan, n_sym, leak, e_pa, e_s, "none")
        ell_aep += _length(plan, n_sym, leak, e_pa, e_s, "aep")
        if lj == 0:
            continue
        ss = np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, j))
        r, s_, e = (np.concatenate([getattr(x, a) for x in seg]) for a in ("r", "s", "e"))
        same_s, same_e = np.array_equal(r, s_), np.array_equal(r, e)     # same input, same hash
        todo = [r] + ([] if same_s else [s_]) + ([] if same_e else [e])
        hashed = toeplitz_hash_many(todo, lj, ss)                        # one matrix, transformed once
        kr = hashed[0]
        keys[0].append(kr)
        keys[1].append(kr if same_s else hashed[1])
        keys[2].append(kr if same_e else hashed[-1])
    cat = lambda xs: np.concatenate(xs) if xs else np.zeros(0, np.uint8)  # noqa: E731
    return _Amplified(ell, ell_asym, ell_aep, cat(keys[0]), cat(keys[1]), cat(keys[2]), len(segs))


def keygen(scenario: Scenario, scheme: str = "svd-pa", rounds: int = 10_000, seed: int = 0,
           quantizer: str = "multilevel", bits: int = 2, shaping: str | None = None, block_bits: int = BLOCK_BITS,
           eps_pa: float = 1e-9, eps_smooth: float = 1e-9, finite_size: bool | str = "renyi",
           direction: str = "auto", step: float | None = None,
           progress: Callable[[int], None] | None = None, evaluation=None, probing=None,
           workers: int | None = None, **options) -> KeygenResult:
    r"""Run probing, quantisation, reconciliation, confirmation and amplification for every user.

    Parameters
    ----------
    scenario : Scenario
        One scenario (batch shape ``()``).
    scheme : str
        A registered precoding scheme.
    rounds, seed : int
        Probing rounds T and the seed of everything random (probing, codes, hashes).
    quantizer : {'multilevel', 'one-bit', 'multi-bit'}
        A fine uniform quantiser with multilevel reconciliation (:mod:`nfkg.protocol.multilevel`), J(45),
        or ``bits``-bit equiprobable Gray quantisation.
    bits : int
        Bits per real sample of the multi-bit quantiser.
    block_bits : int
        Reconciliation block length: samples per block (each level a code of that length)
        for ``'multilevel'``, bits per block otherwise (rounded to whole symbols); the last
        block takes the rest.
    eps_pa, eps_smooth : float
        Leftover-hash-lemma and smoothing parameters (the key is
        :math:`(2\varepsilon_s + \varepsilon_{PA})`-secret).
    finite_size : {'renyi', 'aep', 'none'} or bool
        Finite-size term of the key length: the Renyi-entropy bound (default, ``True``), the
        AEP term of earlier versions, or none (``False``). ``asymptotic_key_bits`` and
        ``aep_key_bits`` are always reported beside it.
    direction : {'auto', 'bs', 'user'}
        The reference: the BS's :math:`z_a` (direct), the user's :math:`z_b` (reverse), or per
        user the one whose bound for the quantiser used is larger (``'auto'``).
    step : float, optional
        Multilevel quantiser step in conditional standard deviations of the reference given
        the other side (default :data:`nfkg.protocol.multilevel.STEP`).
    progress : callable, optional
        Called with 1 after the probing and after each user.
    evaluation, probing : optional
        A :class:`~nfkg.schemes.precoding.Evaluation` of this scenario and scheme and a
        :class:`~nfkg.protocol.probing.Probing` drawn from it, to reuse (e.g. several quantisers on the
        same probings); by default both are computed here.
    workers : int, optional
        Users processed at once, in threads (default: one per CPU core, at most
        ``MAX_WORKERS``, from ``PARALLEL_ROUNDS`` probings on; 1 below). Users are
        independent (their own codes, tags and hashes from the seed): the result does not depend
        on it.

    Returns
    -------
    KeygenResult
    """
    from .multilevel import STEP
    from ..schemes.precoding import evaluate
    from .probing import probe

    if quantizer not in QUANTIZERS:
        raise ValueError(f"quantizer: must be one of {', '.join(QUANTIZERS)}, got {quantizer!r}")
    if direction not in DIRECTIONS:
        raise ValueError(f"direction: must be one of {', '.join(DIRECTIONS)}, got {direction!r}")
    method = {True: "renyi", False: "none"}.get(finite_size, finite_size) if isinstance(finite_size, bool) \
        else finite_size
    if method not in FINITE_SIZE:
        raise ValueError(f"finite_size: must be one of {', '.join(FINITE_SIZE)}, got {finite_size!r}")
    b = 1 if quantizer == "one-bit" else int(bits)
    if quantizer == "multi-bit" and not 1 <= b <= 8:
        raise ValueError(f"bits: must be 1..8, got {bits}")
    if int(block_bits) < 64 * (b if quantizer != "multilevel" else 1):
        raise ValueError(f"block_bits: must be at least {64 * b}, got {block_bits}")
    step = STEP if step is None else float(step)
    if not (math.isfinite(step) and step > 0):
        raise ValueError(f"step: must be a positive number of conditional standard deviations, got {step}")
    _workers(workers, int(rounds))
    ev = evaluate(scenario, scheme, shaping, **options) if evaluation is None else evaluation
    p = probe(scenario, ev.result, rounds=rounds, seed=_int_seed(_seed(seed, 0))) if probing is None else probing
    rounds = p.rounds
    if progress is not None:
        progress(1)
    g_bs = np.atleast_1d(gaussian_one_way_bs(ev.cov))
    g_user = np.atleast_1d(gaussian_one_way_user(ev.cov))

    def one_user(k: int) -> UserKey:
        c = ev.cov[k]
        if direction == "auto":
            plans = [_plan(c, d, quantizer, b, step) for d in ("bs", "user")]
            plan = plans[1] if plans[1].bound > plans[0].bound else plans[0]
        else:
            plan = _plan(c, direction, quantizer, b, step)
        z = (p.z_a[:, k], p.z_b[:, k], p.z_e[:, k])
        z_ref, z_side, z_eve = z[plan.ref], z[plan.side], z[2]
        common = dict(direction=plan.direction, quantizer=quantizer, bits_per_sample=plan.bits,
                      step=None if plan.quant is None else float(plan.quant.step),
                      gaussian_one_way_bs=float(g_bs[k]), gaussian_one_way_user=float(g_user[k]),
                      one_way_bound=float(plan.bound), analytic_skr=float(ev.skr[k]))
        n_sym = 2 * rounds
        kdr, eve_kdr = _kdrs(plan, z_ref, z_side, z_eve, c, quantizer)
        ideal_leak = int(math.ceil(n_sym * plan.h_side))
        if _length(plan, n_sym, ideal_leak, eps_pa, eps_smooth, method) == 0:
            return UserKey(
                quantized_bits=int(n_sym * plan.bits), kdr=float(kdr), eve_kdr=float(eve_kdr), leaked_bits=0,
                efficiency=None, key_bits=0, keys_match=True, eve_agreement=None, nist_passed="too short",
                bits_per_probing=0.0, key_sha256=hashlib.sha256(b"").hexdigest(), blocks=0, failed_blocks=0,
                asymptotic_key_bits=0, aep_key_bits=0,
                status=f"no key: even an ideal reconciliation from the {'BS' if plan.direction == 'bs' else 'user'} "
                       f"(leak n H(Q|side)) leaves none ({2 * (plan.h_eve - plan.h_side):.4g} bit per probing "
                       "in the model, before the finite-size and epsilon terms)",
                key=np.zeros(0, np.uint8), **common)
        if quantizer == "multilevel":
            parts = _multilevel_blocks(plan, z_ref, z_side, z_eve, c, seed, k, block_bits)
        else:
            parts = _binary_blocks(plan, z_ref, z_side, z_eve, c, quantizer, seed, k, block_bits)
        kept, leaked_all, n_blocks, failed, eff, levels = parts
        amp = _amplify(kept, plan, eps_pa, eps_smooth, method, _seed(seed, 3, k))
        ell, ell_asym, ell_aep = amp.ell, amp.ell_asym, amp.ell_aep
        key_r, key_s, key_e = amp.key_r, amp.key_s, amp.key_e
        rate = float(ell) / int(rounds)
        if failed:
            status = f"{failed} of {n_blocks} block(s) discarded (decoding or confirmation failed)"
        elif ell == 0:
            status = "no key: the leak and the finite-size term exceed Eve's uncertainty"
        else:
            status = "ok"
        return UserKey(
            quantized_bits=int(n_sym * plan.bits), kdr=float(kdr), eve_kdr=float(eve_kdr),
            leaked_bits=int(leaked_all), efficiency=None if eff is None else float(eff), key_bits=int(ell),
            keys_match=bool(np.array_equal(key_r, key_s)),
            eve_agreement=float(np.mean(key_e == key_r)) if ell > 0 else None,
            nist_passed=_nist(key_r), bits_per_probing=rate,
            key_sha256=hashlib.sha256(np.packbits(key_r).tobytes()).hexdigest(),
            blocks=n_blocks, failed_blocks=failed, asymptotic_key_bits=int(ell_asym), aep_key_bits=int(ell_aep),
            status=status, fraction_of_skr=_fraction(rate, float(ev.skr[k])),
            fraction_of_one_way_bs=_fraction(rate, float(g_bs[k])),
            fraction_of_one_way_user=_fraction(rate, float(g_user[k])),
            fraction_of_bound=_fraction(rate, plan.bound), levels=levels, key=key_r, **common)

    users = []
    n_workers = min(scenario.n_users, _workers(workers, rounds))
    if n_workers > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(n_workers) as pool:     # numpy, scipy and BLAS release the GIL
            for user in pool.map(one_user, range(scenario.n_users)):
                users.append(user)
                if progress is not None:
                    progress(1)
    else:
        for k in range(scenario.n_users):
            users.append(one_user(k))
            if progress is not None:
                progress(1)
    params = {"direction": direction, "block_bits": int(block_bits), "eps_pa": eps_pa, "eps_smooth": eps_smooth,
              "finite_size": method, "n_ant": scenario.n_ant, "n_users": scenario.n_users}
    if quantizer == "multi-bit":
        params["bits_per_sample"] = b
    if quantizer == "multilevel":
        params["step"] = step
    return KeygenResult(ev.result.scheme, int(rounds), int(seed), quantizer, users, params)
