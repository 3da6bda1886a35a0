r"""Information reconciliation: one-way syndrome decoding of the key bits with LDPC codes.

After quantisation the BS holds :math:`x_a` and the user :math:`x_b`, two strings of
:math:`n` bits that differ in a fraction KDR of positions. The BS publishes the syndrome
:math:`s = H x_a` of a public, seeded low-density parity-check matrix :math:`H`; the user
decodes the difference :math:`e = x_a \oplus x_b` from

.. math::
    H e = H x_b \oplus s \pmod 2

by belief propagation (BP) with the channel probabilities :math:`P(e_i = 1) = p_i`, i.e. the
log-likelihood ratios :math:`\ln((1-p_i)/p_i)`, and outputs :math:`x_b \oplus \hat e`.
Every syndrome bit is public, so the :math:`m` rows sent are the leak that privacy
amplification must remove. Slepian-Wolf bounds it below by :math:`n H(X_a|X_b)`, which is
:math:`\sum_i h_2(p_i) = n\hat H` for calibrated soft information (:math:`n h_2(\mathrm{KDR})`
for hard decisions); the *reconciliation efficiency*

.. math::
    f = \frac{\text{leaked bits}}{n\,\hat H} \ge 1

is the usual figure of merit (Elkouss et al. 2009 [1]_; :func:`efficiency` with the KDR).

How the rate is chosen
----------------------
The rate adapts by incremental redundancy ("blind" reconciliation, Martinez-Mateo et al.
2012 [2]_): the BS first sends :math:`m_0 = \lceil f_0 n\hat H\rceil` syndrome bits, and while
BP does not converge it reveals further rows, up to :math:`m_k = \lceil f_k n\hat H\rceil` with
:math:`f_k = f_0 + f_\Delta(1 + g + \dots + g^{k-1})` (``f_start``, ``f_step``,
``f_growth``; at least one row more each time) as long as :math:`f_k \le f_{\max}`. The
new rows are appended to the code (:func:`extend_code`, default) or split off its rows
(:func:`split_code`), and BP continues from its messages of the previous attempt (warm start:
an attempt that fails has mostly fixed the bits already, and the new checks resolve the
rest; this beats decoding every enlarged code from scratch, which an appended code often
fails to do at any rate below 1.2). An attempt stops after ``max_iter`` iterations, or
earlier when the number of unsatisfied checks has not fallen for 10 iterations (the last
one runs to ``max_iter``). The efficiency reached is therefore about the code's threshold
plus half a step: small steps from :math:`f_0 \approx 1` cost a few extra attempts
(0.2-0.6 s each at :math:`n = 10^5`) and leak less than a first guess above the threshold.
The edge cases:

* :math:`\hat H = 0` (every :math:`p_i = 0`: no error is possible): nothing is sent; the
  result is ``success`` with ``leaked_bits = 0`` and a code with no rows. As always, key
  confirmation (a hash of the corrected block) must follow; it is the only check then.
* Tiny :math:`\hat H`: at least one row (one row is the parity of the whole block).
* :math:`m_k \ge n`: the BS discloses :math:`x_a` instead (``Reconciled.disclosed``,
  ``leaked_bits = n`` whatever was sent before, since everything sent is a function of
  :math:`x_a`; the code is the identity). With :math:`p_i = 0.5` everywhere
  (:math:`\hat H = 1`) the first message is the disclosure, :math:`f = 1`; in general
  disclosure costs :math:`f = 1/\hat H`, which at :math:`\hat H \ge 0.9` is no more than a
  code needs, so callers may as well disclose such blocks (or levels) directly.

Codes and decoders
------------------
The codes (construction, incremental rows, degree profiles, the cache) are in
:mod:`nfkg.protocol.ldpc_codes`, the belief-propagation decoders in :mod:`nfkg.protocol.bp`; their names
are re-exported here.

Measured
--------
With the recommended schedule (``f_start='auto', f_step=0.01, f_growth=1.05``) and exactly
calibrated soft inputs at :math:`n = 2\times 10^4`: :math:`f` = 1.04-1.10 at
:math:`\hat H` = 0.3 and 0.5, 1.10-1.14 at :math:`\hat H = 0.1` (``tests/test_reconciliation.py``;
``benchmarks/bench_reconciliation.py`` for :math:`n = 10^5`).

Contents
--------
binary_entropy, efficiency, Reconciled, reconcile, AUTO_F_START; re-exported: LdpcCode,
make_code, extend_code, split_code, DEGREE_TABLE, SOFT_DEGREE_TABLE, degree_profile,
code_cache_info, clear_code_cache, CODE_CACHE_BYTES (:mod:`nfkg.protocol.ldpc_codes`), decode,
SHUFFLED_GROUPS (:mod:`nfkg.protocol.bp`).

References
----------
.. [1] D. Elkouss, A. Leverrier, R. Alleaume, J. J. Boutros, "Efficient reconciliation protocol
   for discrete-variable quantum key distribution", Proc. IEEE ISIT, 2009.
.. [2] J. Martinez-Mateo, D. Elkouss, V. Martin, "Blind reconciliation", Quantum Inf. Comput.
   12(9-10), 2012.
.. [3] X.-Y. Hu, E. Eleftheriou, D.-M. Arnold, "Regular and irregular progressive edge-growth
   Tanner graphs", IEEE Trans. Inf. Theory 51(1), 2005.
.. [4] J. Roffe, D. R. White, S. Burton, E. Campbell, "Decoding across the quantum low-density
   parity-check code landscape", Phys. Rev. Research 2, 043423, 2020 (the ``ldpc`` package).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

from .bp import (_LLR_MAX, _P_FLOOR, _PHI_MIN, SHUFFLED_GROUPS, _bp_ldpc, _bp_numpy, _bp_shuffled,  # noqa: F401
                 _carry_messages, _check_decoder, _check_messages, _Graph, _is_identity, _phi, _run_numpy, decode)
from .ldpc_codes import (CODE_CACHE_BYTES, DEGREE_TABLE, SOFT_DEGREE_TABLE, LdpcCode, _identity_code,  # noqa: F401
                         _row_parents, _split_parent_syndrome, clear_code_cache, code_cache_info, degree_profile, extend_code,
                         make_code, split_code)

# re-exports keep their names here; constants are listed by their own modules
__all__ = ["binary_entropy", "efficiency", "LdpcCode", "make_code", "extend_code", "split_code", "decode",
           "degree_profile", "Reconciled", "reconcile", "code_cache_info", "clear_code_cache", "AUTO_F_START"]

_PATIENCE = 10          # numpy BP: an attempt stops after this many iterations without fewer unsatisfied checks
_SOFT_RATIO = 1.05       # p_err is "soft" when h2(mean p) exceeds mean h2(p) by this factor


# --------------------------------------------------------------------------------------------
# entropy and efficiency
# --------------------------------------------------------------------------------------------

def binary_entropy(p: ArrayLike) -> np.ndarray | float:
    r"""Binary entropy in bits, elementwise.

    .. math::
        h_2(p) = -p\log_2 p - (1-p)\log_2(1-p), \qquad h_2(0) = h_2(1) = 0.

    Parameters
    ----------
    p : array_like
        Probabilities in :math:`[0, 1]`.

    Returns
    -------
    float or ndarray
        :math:`h_2(p)` [bits], same shape as ``p`` (a float for a scalar).

    Examples
    --------
    >>> float(binary_entropy(0.5)), round(float(binary_entropy(0.11)), 4)
    (1.0, 0.4999)
    """
    p = np.asarray(p, dtype=float)
    q = 1.0 - p
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -(np.where(p > 0, p * np.log2(np.where(p > 0, p, 1.0)), 0.0)
              + np.where(q > 0, q * np.log2(np.where(q > 0, q, 1.0)), 0.0))
    h = np.where((p >= 0) & (p <= 1), h, np.nan)
    return float(h) if h.ndim == 0 else h


def efficiency(leaked_bits: ArrayLike, n: ArrayLike, kdr: ArrayLike) -> np.ndarray | float:
    r"""Reconciliation efficiency :math:`f` (1 is the Slepian-Wolf limit, larger leaks more).

    .. math::
        f = \frac{\text{leaked bits}}{n\, h_2(\mathrm{KDR})}

    Parameters
    ----------
    leaked_bits : array_like
        Bits disclosed, ``Reconciled.leaked_bits``.
    n : array_like
        Block length [bits].
    kdr : array_like
        Key disagreement rate in :math:`(0, 0.5]`.

    Returns
    -------
    float or ndarray
        :math:`f` (``inf`` where KDR = 0 and something leaked, ``nan`` for 0/0).

    Examples
    --------
    >>> round(float(efficiency(1100, 2000, 0.11)), 3)
    1.1
    """
    den = np.asarray(n, float) * np.asarray(binary_entropy(kdr), float)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.asarray(leaked_bits, float) / den
    return float(f) if f.ndim == 0 else f


# --------------------------------------------------------------------------------------------
# reconciliation
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Reconciled:
    r"""Result of :func:`reconcile`.

    Attributes
    ----------
    bits : ndarray ``(n,)``, uint8
        The user's corrected bits (equal to the BS's when ``success``, up to undetected errors).
    success : bool
        BP converged *and* :math:`H x = s \pmod 2` for every row sent (or the block was
        disclosed, or nothing had to be sent).
    leaked_bits : int
        Information disclosed [bits]: the syndrome bits sent, all increments together
        (``sum(rate_history)``), except for a disclosed block, where it is ``n`` (everything
        sent is a function of the BS's ``n`` bits).
    increments : int
        Messages sent (``len(rate_history)``; 0 when nothing was sent).
    rate_history : tuple of int
        Bits of each message: syndrome bits, and ``n`` for a disclosure.
    message : str
        Why it stopped.
    f : float
        ``leaked_bits / (n * H_hat)``: the efficiency against the entropy the user's ``p_err``
        implies (:func:`efficiency` with the true KDR is the figure of merit); 1.0 when
        :math:`\hat H = 0` and nothing was sent.
    nit : int
        BP iterations of the last decoding (0 when none ran).
    code : LdpcCode
        The public code, all rows sent: ``m = 0`` when nothing was sent, the ``n x n``
        identity when the block was disclosed (its syndrome is the BS's bits).
    disclosed : bool
        The BS's bits were sent in the clear (the schedule reached ``n`` rows).
    """

    bits: np.ndarray
    success: bool
    leaked_bits: int
    increments: int
    rate_history: tuple
    message: str
    f: float
    nit: int
    code: LdpcCode
    disclosed: bool = False


def _bits(x, name: str) -> np.ndarray:
    a = np.asarray(x)
    if a.ndim != 1 or a.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of bits, got shape {a.shape}")
    if not np.isin(a, (0, 1)).all():
        raise ValueError(f"{name} must contain only 0 and 1")
    return a.astype(np.uint8)


def _check_inputs(bits_a, bits_b, p_err, f_start, f_step, f_max, f_growth, max_iter, bp_method):
    a, b = _bits(bits_a, "bits_a"), _bits(bits_b, "bits_b")
    if a.size != b.size:
        raise ValueError(f"bits_a and bits_b must have the same length, got {a.size} and {b.size}")
    n = a.size
    if n < 2:
        raise ValueError(f"bits_a must have at least 2 bits, got {n}")
    p = np.asarray(p_err, dtype=float)
    if p.ndim > 1 or (p.ndim == 1 and p.size != n):
        raise ValueError(f"p_err must be a scalar or have shape ({n},), got {p.shape}")
    if not np.all((p >= 0) & (p <= 0.5)):
        raise ValueError("p_err must lie in [0, 0.5]")
    if isinstance(f_start, str):
        if f_start != "auto":
            raise ValueError(f"f_start must be a number or 'auto', got {f_start!r}")
        f_start = min(AUTO_F_START[-1][1], float(f_max))
    if not (f_start > 0 and f_step > 0 and f_max >= f_start):
        raise ValueError(f"need f_start > 0, f_step > 0 and f_max >= f_start, got "
                         f"{f_start}, {f_step}, {f_max}")
    if not f_growth >= 1.0:
        raise ValueError(f"f_growth must be at least 1, got {f_growth}")
    if int(max_iter) < 1:
        raise ValueError(f"max_iter must be at least 1, got {max_iter}")
    if bp_method not in ("product_sum", "minimum_sum"):
        raise ValueError(f"bp_method must be 'product_sum' or 'minimum_sum', got {bp_method!r}")
    return a, b, np.broadcast_to(p, (n,)).astype(float)


#: ``f_start='auto'``: the first message at these f, by the largest :math:`\hat H` each is used
#: for; just below the smallest f that decoded any calibrated soft block at n = 10^5 (1.08 at
#: h <= 0.1, 1.05 above; module notes), so that starting there loses no efficiency against
#: starting at 1.0 and saves 3-6 attempts (about half the time per block).
AUTO_F_START: tuple = ((0.2, 1.05), (1.0, 1.03))


def _auto_f_start(h: float, f_max: float) -> float:
    f0 = next((f for h_max, f in AUTO_F_START if h <= h_max), AUTO_F_START[-1][1])
    return min(f0, f_max)


def _on_grid(m: int, grid: float) -> int:
    """The smallest value ``ceil((1 + grid)^j) >= m`` (``m`` itself for ``grid = 0``)."""
    if grid <= 0 or m <= 1:
        return m
    j = math.ceil(math.log(m) / math.log1p(grid) - 1e-9)
    while math.ceil((1.0 + grid) ** j) < m:
        j += 1
    return max(m, math.ceil((1.0 + grid) ** j))


def _schedule(n: int, h: float, f_start: float, f_step: float, f_max: float, f_growth: float = 1.0,
              grid: float = 0.0, floor: float = 0.0) -> list[int]:
    """Cumulative rows after each increment: ceil(f_k n h) for f_0 = f_start and steps
    f_step, f_step f_growth, f_step f_growth^2, ... while f_k <= f_max, rounded up onto the
    geometric ``grid`` (:func:`_on_grid`), at least ``max(1, ceil(floor n))`` rows more each
    time; a size of n or more ends the list with n (disclosure). Empty for h = 0."""
    if not h > 0:
        return []
    sizes: list[int] = []
    f, step = f_start, f_step
    for k in range(1_000_000):
        if k:
            f, step = (f_start + k * f_step, f_step) if f_growth == 1.0 else (f + step, step * f_growth)
        if f > f_max + 1e-9:
            break
        mk = _on_grid(max(1, math.ceil(f * n * h - 1e-9)), grid)
        if sizes:
            if floor > 0 and mk < sizes[-1] + math.ceil(floor * n):
                continue                                   # too small a step: take the next f
            mk = max(mk, sizes[-1] + 1)
        if mk >= n:
            sizes.append(n)
            break
        sizes.append(mk)
    return sizes


def reconcile(bits_a: ArrayLike, bits_b: ArrayLike, p_err: ArrayLike, seed: int, *,
              f_start: float | str = "auto", f_step: float = 0.01, f_max: float = 2.0, max_iter: int = 100,
              bp_method: str = "product_sum", ms_scaling_factor: float = 0.75,
              schedule: str = "parallel",
              column_weight: int | Mapping[int, float] | str = "auto",
              f_growth: float = 1.0, adapt: str = "extend", decoder: str = "auto",
              restart: bool = False, cache: bool = True, size_grid: float = 0.0,
              step_floor: float = 0.0) -> Reconciled:
    r"""Rate-adaptive syndrome reconciliation of the user's bits onto the BS's.

    The BS sends :math:`s = H x_a` for a code of :math:`m_0 = \lceil f_0 n \hat H\rceil` rows
    (:func:`make_code`), :math:`\hat H = \frac1n\sum_i h_2(p_i)`; the user runs BP on
    :math:`H e = H x_b \oplus s` with channel probabilities ``p_err`` and keeps
    :math:`x_b \oplus \hat e`. While BP does not converge, the BS reveals
    :math:`\lceil f_k n\hat H\rceil - m` further syndrome bits of new rows (appended by
    :func:`extend_code` or split off by :func:`split_code`, ``adapt``) for
    :math:`f_k = f_0 + f_\Delta (1 + g + \dots + g^{k-1}) \le f_{\max}`, and the user's BP
    continues from its last messages (see the module notes: *How the rate is chosen*, with
    the edge cases :math:`\hat H = 0`, nothing sent, and :math:`m_k \ge n`, disclosure).

    Parameters
    ----------
    bits_a : array_like ``(n,)``
        BS's bits (0/1); only its syndrome is used.
    bits_b : array_like ``(n,)``
        User's bits (0/1).
    p_err : float or array_like ``(n,)``
        The user's probability that its bit differs from the BS's, in :math:`[0, 0.5]`: a
        scalar (hard decisions, e.g. the estimated KDR) or per bit (soft information). Values
        are floored at 1e-7 inside BP (a finite LLR).
    seed : int
        Public seed of the code (sent in the clear); same inputs and seed, same result.
        Blocks that pass the same seed, length and rate reuse the cached code.
    f_start : float or 'auto'
        The first message, in units of :math:`n\hat H` syndrome bits; ``'auto'`` (default):
        :data:`AUTO_F_START` for :math:`\hat H` (1.05 up to 0.2, 1.03 above), just below
        where calibrated soft blocks of :math:`10^5` bits start to decode.
    f_step, f_max : float
        The first step and the most ever sent, in the same units. The recommendation for the
        protocol is ``f_start='auto', f_step=0.01, f_growth=1.05, f_max=3.0, max_iter=100``
        (module notes, *Measured*).
    max_iter : int
        BP iterations per decoding attempt at most.
    bp_method : {'product_sum', 'minimum_sum'}
        Sum-product (exact BP) or min-sum BP scaled by ``ms_scaling_factor``.
    ms_scaling_factor : float
        Normalisation of min-sum messages, 0 for the adaptive :math:`1 - 2^{-t}` at
        iteration :math:`t` (ignored by product-sum).
    schedule : {'parallel', 'serial', 'shuffled'}
        Message passing: parallel flooding (default); group-shuffled, the rows in
        :data:`~nfkg.protocol.bp.SHUFFLED_GROUPS` groups updated in turn (numpy decoder; about half the
        iterations at the same cost per iteration, the protocol's choice); or serial in fixed
        column order, which only ``decoder='ldpc'`` has (fewer iterations, but ``ldpc``
        recomputes each check per edge, which costs :math:`O(d_c^2)` and is slow for the heavy
        rows of high rates).
    column_weight : 'auto', int or mapping
        Column degrees of the first block (:func:`make_code`): ``'auto'`` takes the irregular
        profile of :func:`degree_profile` for :math:`\hat H` (the soft table when ``p_err``
        is soft); an int gives a regular code.
    f_growth : float
        Each step is ``f_growth`` times the previous one (at least 1; 1 keeps ``f_step``):
        small steps near the threshold, few attempts when a block is far off.
    adapt : {'extend', 'split'}
        How the rate grows: append rows (:func:`extend_code`, default: with small steps and
        the warm start it leaks 0.01-0.03 less than splitting) or split rows
        (:func:`split_code`: every intermediate code is a fresh-like code, better when each
        attempt decodes from scratch, ``restart=True`` or ``decoder='ldpc'``).
    decoder : {'auto', 'numba', 'numpy', 'ldpc'}
        BP: compiled (``'auto'`` with numba, the ``fast`` extra), vectorised numpy (both warm
        start, early stop) or :class:`ldpc.BpDecoder` (``'auto'`` with the serial schedule;
        each attempt from scratch): :mod:`nfkg.protocol.bp`.
    restart : bool
        Decode every attempt from scratch (numpy decoder) instead of continuing.
    cache : bool
        Use the cache of constructed codes (:func:`code_cache_info`).
    size_grid : float
        Round every syndrome size up onto the geometric grid :math:`\lceil(1+g)^j\rceil`
        (0: exact sizes). Blocks of one length, seed and similar :math:`\hat H` then ask for
        the same first size and reuse the cached code (construction with 4-cycle removal takes
        0.3-1 s at :math:`n = 10^5`); the leak grows by at most the fraction ``size_grid``.
    step_floor : float
        Every increment reveals at least this fraction of ``n`` rows (0: one row): a step of
        0.01 in f is :math:`0.01 n\hat H` rows, a few rows at :math:`\hat H \approx 0.006`, and
        such a level would take a dozen attempts to climb 0.15 in f; with a floor of
        :math:`5\cdot 10^{-4}` it takes three, and the leak grows by at most
        :math:`5\cdot 10^{-4}` bit per bit, wherever it stops.

    Returns
    -------
    Reconciled
        ``success`` is False, with the reason in ``message``, when BP has not converged at
        :math:`f_{\max}`; ``leaked_bits`` counts every syndrome bit sent either way.

    Notes
    -----
    The first block is sized by the entropy the user's ``p_err`` implies,
    :math:`\overline{h_2(p_i)}`, not by :math:`h_2(\bar p)`: the two agree for a scalar
    ``p_err``, and with soft information the first is the Slepian-Wolf rate of the
    soft-labelled source, which is what lets soft information leak less. The soft values must
    be calibrated: overconfident ones start too low and cost increments (or fail).

    ``success`` means that the user's corrected string has the BS's syndrome; it does *not*
    prove equality. BP can converge to another solution :math:`\hat e = e \oplus c` with
    :math:`c` a low-weight codeword of :math:`H` (cycles of degree-2 columns were the usual
    ones; :func:`make_code` now chains them without cycles). A hash comparison (key
    confirmation) must follow before privacy amplification, which must also remove
    ``leaked_bits``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> a = rng.integers(0, 2, 4000)
    >>> b = a ^ (rng.random(4000) < 0.05)
    >>> r = reconcile(a, b, 0.05, seed=7)
    >>> bool(r.success), bool((r.bits == a).all()), r.leaked_bits == sum(r.rate_history)
    (True, True, True)
    >>> r = reconcile(a, a, 0.0, seed=7)                       # no error possible: nothing sent
    >>> bool(r.success), r.leaked_bits, r.code.m
    (True, 0, 0)
    >>> r = reconcile(a, b, 0.5, seed=7)                       # h = 1: disclosed
    >>> r.disclosed, r.leaked_bits, bool((r.bits == a).all())
    (True, 4000, True)
    """
    a, b, p = _check_inputs(bits_a, bits_b, p_err, f_start, f_step, f_max, f_growth, max_iter, bp_method)
    engine = _check_decoder(decoder, schedule)
    if adapt not in ("split", "extend"):
        raise ValueError(f"adapt must be 'split' or 'extend', got {adapt!r}")
    n = a.size
    hs = binary_entropy(p)
    h = float(np.mean(hs))
    soft = bool(h > 0 and float(binary_entropy(float(np.mean(p)))) > _SOFT_RATIO * h)
    cw = degree_profile(h, soft) if isinstance(column_weight, str) and column_weight == "auto" else column_weight
    if isinstance(cw, str):
        raise ValueError(f"column_weight must be 'auto', an int or a mapping, got {column_weight!r}")
    f0 = _auto_f_start(h, float(f_max)) if isinstance(f_start, str) else float(f_start)
    if not (math.isfinite(size_grid) and 0.0 <= size_grid < 1.0):
        raise ValueError(f"size_grid must be in [0, 1), got {size_grid}")
    if not (math.isfinite(step_floor) and 0.0 <= step_floor < 1.0):
        raise ValueError(f"step_floor must be in [0, 1), got {step_floor}")
    sizes = _schedule(n, h, f0, float(f_step), float(f_max), float(f_growth), float(size_grid), float(step_floor))
    if not sizes:                                       # h = 0: no error is possible
        return Reconciled(bits=b.copy(), success=True, leaked_bits=0, increments=0, rate_history=(),
                          message="nothing sent: p_err is 0 for every bit (h = 0)", f=1.0, nit=0,
                          code=LdpcCode(sp.csr_matrix((0, n), dtype=np.uint8), int(seed), cw, ()))
    channel = np.clip(p, _P_FLOOR, 0.5)
    llr = np.log1p(-channel) - np.log(channel)
    history: list[int] = []
    e_hat = np.zeros(n, np.uint8)
    converged, match, nit, c2v, code = False, False, 0, None, None
    for k, mk in enumerate(sizes):
        if mk >= n:                                     # disclosure: x_a in the clear
            history.append(n)
            code = _identity_code(n, seed)
            leaked = n
            return Reconciled(bits=a.copy(), success=True, leaked_bits=leaked, increments=len(history),
                              rate_history=tuple(history),
                              message=(f"disclosed: the schedule reached n = {n} rows after {len(history) - 1} "
                                       f"syndrome message(s) ({leaked / (n * h):.3f} n h2(p))"),
                              f=leaked / (n * h), nit=nit, code=code, disclosed=True)
        if code is None:
            code = make_code(n, mk, seed, cw, cache=cache)
        else:
            prev = code
            grow = split_code if adapt == "split" else extend_code
            code = grow(prev, mk - prev.m, cache=cache)
            if c2v is not None:
                c2v = _carry_messages(prev, code, c2v)
        history.append(code.m - sum(history))            # the BS discloses the new rows only
        s = code.syndrome(a)                              # rows sent so far (earlier ones unchanged)
        target = s ^ code.syndrome(b)                     # H e
        if engine == "ldpc":
            e_hat, converged, nit = _bp_ldpc(code, target, channel, max_iter, bp_method, ms_scaling_factor, schedule)
        else:
            e_hat, converged, nit, c2v = _run_numpy(schedule, _Graph(code.H), target, llr, max_iter, bp_method,
                                                    ms_scaling_factor, None if restart else c2v,
                                                    _PATIENCE if k < len(sizes) - 1 else 0, engine)
        match = bool(np.array_equal(code.syndrome(b ^ e_hat), s))
        if converged and match:
            break
    leaked = int(sum(history))
    f_used = leaked / (n * h)
    ok = converged and match
    if ok:
        msg = (f"converged after {len(history)} increment(s), {leaked} syndrome bits "
               f"({f_used:.3f} n h2(p))")
    elif not converged:
        msg = (f"decoder did not converge after revealing {leaked} syndrome bits "
               f"({f_used:.3f} n h2(p), f_max = {f_max})")
    else:  # pragma: no cover - BP's convergence test is the syndrome match itself
        msg = "decoder reported convergence but the syndrome does not match"
    return Reconciled(bits=b ^ e_hat, success=ok, leaked_bits=leaked, increments=len(history),
                      rate_history=tuple(history), message=msg, f=f_used, nit=nit, code=code)
