r"""The whole key-generation protocol: probing, quantisation, reconciliation, amplification.

C Fig. 2 and J Fig. 2 name four stages; the papers stop after the second. :func:`keygen`
runs all four for every user of a scenario and proves the result:

1. **Probing** (:mod:`nfkg.probing`): T Monte Carlo rounds give :math:`z_a, z_b, z_e` per user.
2. **Quantisation** (:mod:`nfkg.quantization`): the BS quantises :math:`z_a` (one-bit J(45), or
   b-bit equiprobable Gray, with the model's :math:`\sigma = \sqrt{C_{aa}/2}` per real component).
   The user does not quantise blindly: it computes the posterior of every BS bit from its
   own :math:`z_b` (:func:`nfkg.bounds.bit_posteriors`), its MAP bit and error probability.
   The KDR reported is J(46)'s: the user's and Eve's own quantisation of their measurements
   against the BS's.
3. **Reconciliation** (:mod:`nfkg.reconciliation`): in blocks, the BS discloses LDPC syndromes;
   the user decodes with its soft information; more syndrome bits are revealed until the
   decoder converges (or the block fails). **Confirmation**: a 64-bit 2-universal tag of each
   reconciled block (:func:`nfkg.amplification.confirmation_tag`); a failed decode or a tag
   mismatch discards the block, and it is counted. Every disclosed bit (syndromes, tags) is
   leaked.
   If even an ideal reconciliation (leaking :math:`nH(Q|z_b)`) would leave no key after the
   finite-size and :math:`\varepsilon` terms, the BS aborts before reconciliation (``status``).
4. **Privacy amplification** (:mod:`nfkg.amplification`): Toeplitz hashing of the kept blocks
   to the leftover-hash-lemma length from Eve's conditional entropy in the model
   (:func:`nfkg.bounds.conditional_entropy` of her soft observation), minus the leak, minus
   :math:`2\log_2(1/\varepsilon)`, with the finite-size AEP correction.

**Eve** runs the same public protocol on her own :math:`z_e` with everything sent in the
clear: her MAP bits from her posteriors, the same syndromes (only those revealed for the
user), the same hash. Her agreement with the final key is reported (1/2 is ignorance).

The one-way rate :math:`2[H(Q|z_e) - H(Q|z_b)]^+` (:func:`nfkg.bounds.one_way_rate`) is what such a
protocol can reach; the SKR :math:`I(z_a; z_b|z_e)` of the papers is an upper bound it does
not reach when Eve is as good as the user (J5: a final key of 0 bits, honestly).

Contents
--------
keygen, KeygenResult, UserKey
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import numpy as np

from .amplification import TAG_BITS, confirmation_tag, key_length, toeplitz_hash
from .bounds import bit_posteriors, conditional_entropy, correlation, one_way_rate
from .quantization import kdr as kdr_of, multi_bit, one_bit
from .scenario import Scenario

__all__ = ["keygen", "KeygenResult", "UserKey", "QUANTIZERS", "NIST_MIN_BITS"]

QUANTIZERS = ("one-bit", "multi-bit")
#: Shortest final key tested with SP 800-22 (below: "too short").
NIST_MIN_BITS = 1000
#: Default reconciliation block [bits].
BLOCK_BITS = 20_000
#: Most syndrome bits revealed per block, in units of n times the entropy the user's soft
#: information implies (its posteriors are slightly over-confident: z_a is a scale mixture).
F_MAX = 3.0
#: Rate schedule of :func:`nfkg.reconciliation.reconcile` in the protocol: measured final
#: rates are 1.1-1.7 times the soft-information entropy, so the first syndrome is 1.25 times
#: it and each failed attempt (50 BP iterations) adds 0.1.
RECONCILE_OPTIONS = {"f_start": 1.25, "f_step": 0.1, "f_max": F_MAX, "max_iter": 50}


@dataclass
class UserKey:
    """One user's outcome (the fields of ``nfkg keygen --json``).

    ``key_sha256`` is the SHA-256 of the key packed MSB first into bytes (zero-padded to
    whole bytes); ``nist_passed`` is ``'passed'``, ``'failed'`` or ``'too short'``.
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
    status: str = "ok"
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


def _quantize_bs(z_a: np.ndarray, c_aa: float, quantizer: str, bits: int) -> np.ndarray:
    if quantizer == "one-bit":
        return one_bit(z_a)
    return multi_bit(z_a, bits, sigma=math.sqrt(c_aa / 2.0)).bits


def _nist(key: np.ndarray, alpha: float = 0.01) -> str:
    r"""SP 800-22 verdict of one key: ``'passed'``, ``'failed'`` or ``'too short'``.

    A test with one P-value (or two: serial, cumulative sums) passes when each is at least
    ``alpha``. A test with many (148 templates, 8 or 18 excursion states) passes when the
    proportion of its P-values at least ``alpha`` is within SP 800-22's 3-sigma interval
    (section 4.2.1): :math:`\hat p \ge 1 - \alpha - 3\sqrt{\alpha(1-\alpha)/m}`; demanding all of
    them would fail about 1 - 0.99^148 = 77 % of perfectly random keys.
    """
    if key.size < NIST_MIN_BITS:
        return "too short"
    from .randomness import run_all

    suite = run_all(key, alpha=alpha)
    applied = [r for r in suite.results if r.applicable]
    if not applied:
        return "too short"
    for r in applied:
        ok = np.asarray(r.passed(alpha), bool)
        m = ok.size
        if m <= 2:
            if not ok.all():
                return "failed"
        elif ok.mean() < 1 - alpha - 3 * math.sqrt(alpha * (1 - alpha) / m):
            return "failed"
    return "passed"


def keygen(scenario: Scenario, scheme: str = "svd-pa", rounds: int = 10_000, seed: int = 0,
           quantizer: str = "one-bit", bits: int = 2, shaping: str | None = None, block_bits: int = BLOCK_BITS,
           eps_pa: float = 1e-9, eps_smooth: float = 1e-9, finite_size: bool = True,
           progress: Callable[[int], None] | None = None, evaluation=None, probing=None,
           **options) -> KeygenResult:
    r"""Run probing, quantisation, reconciliation, confirmation and amplification for every user.

    Parameters
    ----------
    scenario : Scenario
        One scenario (batch shape ``()``).
    scheme : str
        A registered precoding scheme.
    rounds, seed : int
        Probing rounds T and the seed of everything random (probing, codes, hashes).
    quantizer : {'one-bit', 'multi-bit'}
        J(45), or ``bits``-bit equiprobable Gray quantisation.
    bits : int
        Bits per real sample of the multi-bit quantiser.
    block_bits : int
        Reconciliation block length (rounded to whole symbols); the last block takes the rest.
    eps_pa, eps_smooth : float
        Leftover-hash-lemma and smoothing parameters (the key is
        :math:`(2\varepsilon_s + \varepsilon_{PA})`-secret).
    finite_size : bool
        Subtract the AEP term from the key length (default); ``asymptotic_key_bits`` is
        always reported beside it.
    progress : callable, optional
        Called with 1 after the probing and after each user.
    evaluation, probing : optional
        A :class:`~nfkg.precoding.Evaluation` of this scenario and scheme and a
        :class:`~nfkg.probing.Probing` drawn from it, to reuse (e.g. both quantisers on the
        same probings); by default both are computed here.

    Returns
    -------
    KeygenResult
    """
    from .precoding import evaluate
    from .probing import probe
    from .reconciliation import reconcile

    if quantizer not in QUANTIZERS:
        raise ValueError(f"quantizer: must be one of {', '.join(QUANTIZERS)}, got {quantizer!r}")
    b = 1 if quantizer == "one-bit" else int(bits)
    if not 1 <= b <= 8:
        raise ValueError(f"bits: must be 1..8, got {bits}")
    if int(block_bits) < 64 * b:
        raise ValueError(f"block_bits: must be at least {64 * b}, got {block_bits}")
    ev = evaluate(scenario, scheme, shaping, **options) if evaluation is None else evaluation
    p = probe(scenario, ev.result, rounds=rounds, seed=_int_seed(_seed(seed, 0))) if probing is None else probing
    rounds = p.rounds
    if progress is not None:
        progress(1)
    users = []
    for k in range(scenario.n_users):
        c = ev.cov[k]
        c_aa, c_bb, c_ee = (float(c[i, i].real) for i in range(3))
        x_a = _quantize_bs(p.z_a[:, k], c_aa, quantizer, b)
        post_b = bit_posteriors(p.z_b[:, k], c_aa, c_bb, c[0, 1], b)
        post_e = bit_posteriors(p.z_e[:, k], c_aa, c_ee, c[0, 2], b)
        x_b, x_e = (post_b > 0.5).astype(np.uint8), (post_e > 0.5).astype(np.uint8)
        pe_b, pe_e = np.minimum(post_b, 1 - post_b), np.minimum(post_e, 1 - post_e)
        # J(46): each party's own quantisation of its own measurement against the BS's bits
        kdr = kdr_of(x_a, _quantize_bs(p.z_b[:, k], c_bb, quantizer, b))
        eve_kdr = kdr_of(x_a, _quantize_bs(p.z_e[:, k], c_ee, quantizer, b))
        n = x_a.size
        rho_e = float(correlation(c_aa, c_ee, c[0, 2]))
        h_e = conditional_entropy(rho_e, b)                   # H(Q | z_e) per real sample (symbol)
        h_b = conditional_entropy(float(correlation(c_aa, c_bb, c[0, 1])), b)
        if key_length(n // b, h_e - h_b, 0, eps_pa, eps_smooth, 2 ** b, finite_size) == 0:
            # even an ideal reconciliation (leak n H(Q|z_b)) would leave no key: abort before it
            users.append(UserKey(
                quantized_bits=int(n), kdr=float(kdr), eve_kdr=float(eve_kdr), leaked_bits=0, efficiency=None,
                key_bits=0, keys_match=True, eve_agreement=None, nist_passed="too short", bits_per_probing=0.0,
                one_way_bound=float(one_way_rate(c, b)), analytic_skr=float(ev.skr[k]),
                key_sha256=hashlib.sha256(b"").hexdigest(), blocks=0, failed_blocks=0, asymptotic_key_bits=0,
                status="aborted: no key even with an ideal reconciliation (H(Q|z_e) - H(Q|z_b) too small)",
                key=np.zeros(0, np.uint8)))
            if progress is not None:
                progress(1)
            continue
        blk = max(b, (int(block_bits) // b) * b)
        starts = list(range(0, n, blk))
        if len(starts) > 1 and n - starts[-1] < blk // 2:
            starts.pop()  # a short tail joins the previous block
        bounds = [*starts[1:], n]
        kept_a, kept_b, kept_e = [], [], []
        leaked_kept = leaked_all = syndrome_all = 0
        failed = 0
        for i, (s0, s1) in enumerate(zip(starts, bounds)):
            code_seed = _int_seed(_seed(seed, 1, k, i))
            rec = reconcile(x_a[s0:s1], x_b[s0:s1], pe_b[s0:s1], code_seed, **RECONCILE_OPTIONS)
            tag_seed = _seed(seed, 2, k, i)
            ok = bool(rec.success) and confirmation_tag(x_a[s0:s1], tag_seed) == confirmation_tag(rec.bits, tag_seed)
            leak = int(rec.leaked_bits) + TAG_BITS
            leaked_all += leak
            syndrome_all += int(rec.leaked_bits)
            if not ok:
                failed += 1
                continue
            eve = _eve_decode(rec, x_a[s0:s1], x_e[s0:s1], pe_e[s0:s1])
            kept_a.append(x_a[s0:s1])
            kept_b.append(rec.bits)
            kept_e.append(eve)
            leaked_kept += leak
        cat = lambda parts: np.concatenate(parts) if parts else np.zeros(0, np.uint8)  # noqa: E731
        ka, kb, ke = cat(kept_a), cat(kept_b), cat(kept_e)
        n_sym = ka.size // b
        ell = key_length(n_sym, h_e, leaked_kept, eps_pa, eps_smooth, 2 ** b, finite_size)
        ell_asym = key_length(n_sym, h_e, leaked_kept, eps_pa, eps_smooth, 2 ** b, finite_size=False)
        pa_seed = _seed(seed, 3, k)
        key_a = toeplitz_hash(ka, ell, pa_seed)
        key_b = toeplitz_hash(kb, ell, pa_seed)
        key_e = toeplitz_hash(ke, ell, pa_seed)
        kdr_map = float(np.mean(x_a != x_b)) if n else 0.0
        eff = syndrome_all / (n * _h2(kdr_map)) if n and _h2(kdr_map) > 0 else None
        users.append(UserKey(
            quantized_bits=int(n), kdr=float(kdr), eve_kdr=float(eve_kdr), leaked_bits=int(leaked_all),
            efficiency=None if eff is None else float(eff), key_bits=int(ell),
            keys_match=bool(np.array_equal(key_a, key_b)),
            eve_agreement=float(np.mean(key_e == key_a)) if ell > 0 else None,
            nist_passed=_nist(key_a), bits_per_probing=float(ell) / int(rounds),
            one_way_bound=float(one_way_rate(c, b)), analytic_skr=float(ev.skr[k]),
            key_sha256=hashlib.sha256(np.packbits(key_a).tobytes()).hexdigest(),
            blocks=len(starts), failed_blocks=failed, asymptotic_key_bits=int(ell_asym),
            status="ok" if failed == 0 else f"{failed} of {len(starts)} block(s) discarded (decoding or confirmation "
                                              "failed)", key=key_a))
        if progress is not None:
            progress(1)
    params = {"bits_per_sample": b, "block_bits": int(block_bits), "eps_pa": eps_pa, "eps_smooth": eps_smooth,
              "finite_size": bool(finite_size), "n_ant": scenario.n_ant, "n_users": scenario.n_users}
    return KeygenResult(ev.result.scheme, int(rounds), int(seed), quantizer, users, params)


def _eve_decode(rec, x_a: np.ndarray, x_e: np.ndarray, pe_e: np.ndarray) -> np.ndarray:
    """Eve's estimate of the BS block from every syndrome bit revealed for the user (public)."""
    from .reconciliation import decode

    return decode(rec.code, rec.code.syndrome(x_a), x_e, pe_e)
