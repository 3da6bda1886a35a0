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

What each user runs (direction, quantiser, model entropies, key length) is planned in
:mod:`nfkg.protocol.keygen_plan`, the blocks are reconciled and confirmed in
:mod:`nfkg.protocol.keygen_blocks`; this module runs the pipeline, amplifies the kept blocks
and assembles the results. Their names are re-exported here.

Contents
--------
keygen, KeygenResult, UserKey, DIRECTIONS, QUANTIZERS, FINITE_SIZE, NIST_MIN_BITS
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import numpy as np

from .amplification import TAG_BITS, confirmation_tag, key_length, toeplitz_hash_many  # noqa: F401
from .bounds import (bit_posteriors, conditional_entropy, conditional_renyi_entropy, correlation,  # noqa: F401
                     gaussian_one_way_bs, gaussian_one_way_user)
from .keygen_blocks import (F_BACKOFF, F_MAX, F_START_MAX, RECONCILE_OPTIONS, TAIL_TEST, _binary_blocks,  # noqa: F401
                            _block_edges, _h2, _heavy, _int_seed, _kdrs, _Kept, _multilevel_blocks, _seed,
                            _tail_rate)
from .keygen_plan import _COARSE_ALPHAS, _ROLES, _length, _Plan, _plan, _renyi_alphas  # noqa: F401
from .quantization import kdr as kdr_of, multi_bit, one_bit  # noqa: F401
from ..model.scenario import Scenario

__all__ = ["keygen", "KeygenResult", "UserKey", "QUANTIZERS", "DIRECTIONS", "FINITE_SIZE", "NIST_MIN_BITS"]

QUANTIZERS = ("multilevel", "one-bit", "multi-bit")
DIRECTIONS = ("auto", "bs", "user")
#: Finite-size terms of the key length: Renyi-entropy bound (default), the AEP term, none.
FINITE_SIZE = ("renyi", "aep", "none")
#: Shortest final key tested with SP 800-22 (below: "too short").
NIST_MIN_BITS = 1000
#: Default reconciliation block [bits per level; for one-bit and multi-bit, bits of the block].
BLOCK_BITS = 100_000
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


def _user_key(k: int, c: np.ndarray, z: tuple, rounds: int, direction: str, quantizer: str, b: int, step: float,
              bounds: tuple, eps_pa: float, eps_smooth: float, method: str, seed: int, block_bits: int) -> UserKey:
    """One user's key from its covariance ``c`` and probings ``z = (z_a, z_b, z_e)`` (module level, so
    that :func:`keygen` can run users in worker processes); ``bounds = (g_bs, g_user, skr)``."""
    g_bs_k, g_user_k, skr_k = bounds
    if direction == "auto":
        plans = [_plan(c, d, quantizer, b, step) for d in ("bs", "user")]
        plan = plans[1] if plans[1].bound > plans[0].bound else plans[0]
    else:
        plan = _plan(c, direction, quantizer, b, step)
    z_ref, z_side, z_eve = z[plan.ref], z[plan.side], z[2]
    common = dict(direction=plan.direction, quantizer=quantizer, bits_per_sample=plan.bits,
                  step=None if plan.quant is None else float(plan.quant.step),
                  gaussian_one_way_bs=float(g_bs_k), gaussian_one_way_user=float(g_user_k),
                  one_way_bound=float(plan.bound), analytic_skr=float(skr_k))
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
        status=status, fraction_of_skr=_fraction(rate, float(skr_k)),
        fraction_of_one_way_bs=_fraction(rate, float(g_bs_k)),
        fraction_of_one_way_user=_fraction(rate, float(g_user_k)),
        fraction_of_bound=_fraction(rate, plan.bound), levels=levels, key=key_r, **common)



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

    args = [(k, ev.cov[k], (p.z_a[:, k], p.z_b[:, k], p.z_e[:, k]), rounds, direction, quantizer, b, step,
             (float(g_bs[k]), float(g_user[k]), float(ev.skr[k])), eps_pa, eps_smooth, method, seed, int(block_bits))
            for k in range(scenario.n_users)]
    users = []
    n_workers = min(scenario.n_users, _workers(workers, rounds))
    if n_workers > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(n_workers) as pool:     # numpy, scipy and BLAS release the GIL
            for user in pool.map(lambda a: _user_key(*a), args):
                users.append(user)
                if progress is not None:
                    progress(1)
    else:
        for a in args:
            users.append(_user_key(*a))
            if progress is not None:
                progress(1)
    params = {"direction": direction, "block_bits": int(block_bits), "eps_pa": eps_pa, "eps_smooth": eps_smooth,
              "finite_size": method, "n_ant": scenario.n_ant, "n_users": scenario.n_users}
    if quantizer == "multi-bit":
        params["bits_per_sample"] = b
    if quantizer == "multilevel":
        params["step"] = step
    return KeygenResult(ev.result.scheme, int(rounds), int(seed), quantizer, users, params)
