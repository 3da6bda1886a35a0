r"""SP 800-22 tests of the counts of ones: frequency (2.1), block frequency (2.2), runs (2.3),
longest run of ones (2.4) and cumulative sums (2.13)."""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import erfc, ndtr

from ._common import NistResult, _bits, _igamc, _na, _ok, _walk

__all__ = ["frequency", "block_frequency", "runs", "longest_run_of_ones", "cumulative_sums"]


# --------------------------------------------------------------------------- 2.1 frequency
def frequency(bits: ArrayLike, strict: bool = True) -> NistResult:
    r"""Frequency (monobit) test, SP 800-22 section 2.1.

    .. math::
        s_{obs} = \frac{|\sum_i (2\varepsilon_i - 1)|}{\sqrt n},\qquad
        P = \operatorname{erfc}\Big(\frac{s_{obs}}{\sqrt 2}\Big).

    Parameters
    ----------
    bits : array_like of 0/1, ``(n,)``
        The sequence.
    strict : bool
        Require SP 800-22's recommended minimum length n >= 100.

    Returns
    -------
    NistResult
        One P-value.

    Examples
    --------
    >>> import numpy as np
    >>> round(frequency(np.array([1, 0, 1, 1, 0, 1, 0, 1, 0, 1]), strict=False).p_values[0], 6)
    0.527089
    """
    eps = _bits(bits)
    n = eps.size
    par = {"n": n}
    if n < 1 or (strict and n < 100):
        return _na("frequency", par, f"n = {n} < 100 (SP 800-22 2.1.7)")
    s = 2 * int(np.count_nonzero(eps)) - n
    return _ok("frequency", erfc(abs(s) / math.sqrt(n) / math.sqrt(2.0)), ("",), par)


# --------------------------------------------------------------------------- 2.2 block frequency
def block_frequency(bits: ArrayLike, block_size: int = 128, strict: bool = True) -> NistResult:
    r"""Frequency test within a block, SP 800-22 section 2.2.

    .. math::
        \chi^2 = 4M \sum_{i=1}^{N} (\pi_i - \tfrac12)^2,\qquad
        P = Q\big(\tfrac N2, \tfrac{\chi^2}2\big),\quad N = \lfloor n/M \rfloor,

    with :math:`\pi_i` the proportion of ones in block i and Q the regularised upper
    incomplete gamma function.

    Parameters
    ----------
    bits : array_like of 0/1, ``(n,)``
        The sequence.
    block_size : int
        M (sts-2.1.2 default 128).
    strict : bool
        Require n >= 100 and M >= 20. (The document also asks for M > 0.01 n and
        N < 100, which its own Appendix B and the reference default M = 128 on 10^6
        bits do not meet; they are not checked.)

    Returns
    -------
    NistResult
        One P-value.
    """
    eps = _bits(bits)
    n, m = eps.size, int(block_size)
    if m < 1:
        raise ValueError(f"block_size must be >= 1, got {block_size}")
    nb = n // m
    par = {"n": n, "M": m, "N": nb}
    if nb < 1:
        return _na("block_frequency", par, f"n = {n} < M = {m}: no block")
    if strict and (n < 100 or m < 20):
        return _na("block_frequency", par, f"n = {n} < 100 or M = {m} < 20 (SP 800-22 2.2.7)")
    ones = eps[:nb * m].reshape(nb, m).sum(axis=1, dtype=np.int64)
    v = ones / m - 0.5
    chi2 = 4.0 * m * float(np.sum(v * v))
    return _ok("block_frequency", _igamc(nb / 2.0, chi2 / 2.0), ("",), par)


# --------------------------------------------------------------------------- 2.3 runs
def runs(bits: ArrayLike, strict: bool = True) -> NistResult:
    r"""Runs test, SP 800-22 section 2.3.

    .. math::
        P = \operatorname{erfc}\Big(\frac{|V_n - 2n\pi(1-\pi)|}{2\sqrt{2n}\,\pi(1-\pi)}\Big),

    with :math:`V_n` the number of runs and :math:`\pi` the proportion of ones.

    Parameters
    ----------
    bits : array_like of 0/1, ``(n,)``
        The sequence.
    strict : bool
        Require n >= 100.

    Returns
    -------
    NistResult
        One P-value. When the frequency prerequisite fails
        (:math:`|\pi - \tfrac12| > 2/\sqrt n`, as the reference code tests it) the
        P-value is 0.0 as SP 800-22 2.3.4 prescribes, and ``reason`` says so.
    """
    eps = _bits(bits)
    n = eps.size
    par = {"n": n}
    if n < 1 or (strict and n < 100):
        return _na("runs", par, f"n = {n} < 100 (SP 800-22 2.3.7)")
    pi = np.count_nonzero(eps) / n
    if abs(pi - 0.5) > 2.0 / math.sqrt(n):
        return _ok("runs", 0.0, ("",), par,
                   "frequency prerequisite failed (|pi - 1/2| > 2/sqrt(n)): P-value set to 0")
    if pi in (0.0, 1.0):  # n < 16: the prerequisite cannot reject a constant sequence
        return _ok("runs", 0.0, ("",), par, "constant sequence: P-value 0")
    v = 1 + int(np.count_nonzero(eps[1:] != eps[:-1]))
    arg = abs(v - 2.0 * n * pi * (1 - pi)) / (2.0 * pi * (1 - pi) * math.sqrt(2 * n))
    return _ok("runs", erfc(arg), ("",), par)


# --------------------------------------------------------------------------- 2.4 longest run
_LONGEST_RUN_TABLE = {
    # M: (v_min, v_max, probabilities of sts-2.1.2)
    8: (1, 4, (0.21484375, 0.3671875, 0.23046875, 0.1875)),
    128: (4, 9, (0.1174035788, 0.242955959, 0.249363483, 0.17517706, 0.102701071, 0.112398847)),
    10000: (10, 16, (0.0882, 0.2092, 0.2483, 0.1933, 0.1208, 0.0675, 0.0727)),
}


@lru_cache(maxsize=None)
def _longest_run_probabilities(m: int, v_min: int, v_max: int) -> tuple[float, ...]:
    """Exact class probabilities of the longest run of ones in m fair bits.

    ``P(longest <= k) = a_k(m) / 2^m`` with :math:`a_k(i) = 2 a_k(i-1) - a_k(i-k-2)`
    the number of i-bit strings without a run of k + 1 ones (exact integers).
    """
    def at_most(k: int) -> Fraction:
        a = [1 << i for i in range(k + 1)] + [(1 << (k + 1)) - 1]  # a(0), ..., a(k + 1)
        for i in range(k + 2, m + 1):
            a.append(2 * a[i - 1] - a[i - k - 2])
        return Fraction(a[m], 1 << m)

    cdf = [at_most(k) for k in range(v_min, v_max)]
    probs = [cdf[0]] + [cdf[i] - cdf[i - 1] for i in range(1, len(cdf))] + [1 - cdf[-1]]
    return tuple(float(p) for p in probs)


def longest_run_of_ones(bits: ArrayLike, block_size: int | None = None, probabilities: str = "reference",
                        strict: bool = True) -> NistResult:
    r"""Test for the longest run of ones in a block, SP 800-22 section 2.4.

    The longest run in each of the :math:`N = \lfloor n/M\rfloor` blocks is binned into
    K + 1 classes :math:`v \le v_{min}, \dots, v \ge v_{max}`, and

    .. math::
        \chi^2 = \sum_{i=0}^{K} \frac{(\nu_i - N\pi_i)^2}{N\pi_i},\qquad
        P = Q\big(\tfrac K2, \tfrac{\chi^2}2\big).

    Parameters
    ----------
    bits : array_like of 0/1, ``(n,)``
        The sequence.
    block_size : {None, 8, 128, 10000}
        M; by default from SP 800-22's table: 8 for n < 6272, 128 for n < 750000,
        10^4 above (n >= 128 in every case).
    probabilities : {'reference', 'exact'}
        ``'reference'``: the class probabilities of the reference code, with which
        Appendix B was computed; ``'exact'``: computed exactly with integers. The two
        agree for M = 8 (the reference has the exact 0.21484375, 0.3671875, 0.23046875,
        0.1875, which the document's example needs: its rounded table gives 0.180598
        instead of 0.180609) and to 1e-9 for M = 128. For M = 10^4 the reference's
        values (SP 800-22 3.4: 0.0882, 0.2092, ...) are an approximation, off by up to
        1.6e-3 (exact: 0.086632, 0.208201, 0.248419, 0.193913, 0.121458, 0.068011,
        0.073366); Appendix B was computed with them (pi: 0.024390; exact: 0.027295).
    strict : bool
        Require the table's minimum length for M (128, 6272, 750000).

    Returns
    -------
    NistResult
        One P-value.
    """
    eps = _bits(bits)
    n = eps.size
    if probabilities not in ("reference", "exact"):
        raise ValueError(f"probabilities must be 'reference' or 'exact', got {probabilities!r}")
    if block_size is None:
        m = 8 if n < 6272 else 128 if n < 750000 else 10000
    else:
        m = int(block_size)
        if m not in _LONGEST_RUN_TABLE:
            raise ValueError(f"block_size must be one of 8, 128, 10000 (SP 800-22 table), got {block_size}")
    v_min, v_max, ref = _LONGEST_RUN_TABLE[m]
    k = v_max - v_min
    nb = n // m
    par = {"n": n, "M": m, "N": nb, "K": k}
    n_min = {8: 128, 128: 6272, 10000: 750000}[m]
    if nb < 1 or (strict and n < n_min):
        return _na("longest_run_of_ones", par, f"n = {n} < {n_min} for M = {m} (SP 800-22 2.4.2)")
    pi = np.array(ref if probabilities == "reference" else _longest_run_probabilities(m, v_min, v_max))
    # longest run per block: runs of ones delimited by a zero column on each side
    x = np.zeros((nb, m + 2), np.int8)
    x[:, 1:-1] = eps[:nb * m].reshape(nb, m)
    d = np.diff(x.ravel())
    starts = np.flatnonzero(d == 1)
    ends = np.flatnonzero(d == -1)
    longest = np.zeros(nb, np.int64)
    np.maximum.at(longest, starts // (m + 2), ends - starts)
    nu = np.bincount(np.clip(longest, v_min, v_max) - v_min, minlength=k + 1)
    chi2 = float(np.sum((nu - nb * pi) ** 2 / (nb * pi)))
    return _ok("longest_run_of_ones", _igamc(k / 2.0, chi2 / 2.0), ("",), par)


# --------------------------------------------------------------------------- 2.13 cumulative sums
def _cusum_p(z: int, n: int) -> float:
    """P-value of the cumulative sums test for a maximal excursion z (reference summation limits)."""
    a = n // z  # the reference code's integer n/z; its limits truncate towards zero
    sq = math.sqrt(n)
    k1 = np.arange(-((a - 1) // 4), (a - 1) // 4 + 1)
    k2 = np.arange(-((a + 3) // 4), (a - 1) // 4 + 1)
    s1 = np.sum(ndtr((4 * k1 + 1) * z / sq) - ndtr((4 * k1 - 1) * z / sq))
    s2 = np.sum(ndtr((4 * k2 + 3) * z / sq) - ndtr((4 * k2 + 1) * z / sq))
    return float(1.0 - s1 + s2)


def cumulative_sums(bits: ArrayLike, strict: bool = True) -> NistResult:
    r"""Cumulative sums (cusum) test, forward and reverse, SP 800-22 section 2.13.

    With :math:`z = \max_k |S_k|` of the partial sums of :math:`2\varepsilon - 1`
    (forward; reverse: of the reversed sequence),

    .. math::
        P = 1 - \sum_{k=\lfloor(-n/z+1)/4\rfloor}^{\lfloor(n/z-1)/4\rfloor}
            \Big[\Phi\Big(\tfrac{(4k+1)z}{\sqrt n}\Big) - \Phi\Big(\tfrac{(4k-1)z}{\sqrt n}\Big)\Big]
          + \sum_{k=\lfloor(-n/z-3)/4\rfloor}^{\lfloor(n/z-1)/4\rfloor}
            \Big[\Phi\Big(\tfrac{(4k+3)z}{\sqrt n}\Big) - \Phi\Big(\tfrac{(4k+1)z}{\sqrt n}\Big)\Big].

    Parameters
    ----------
    bits : array_like of 0/1, ``(n,)``
        The sequence.
    strict : bool
        Require n >= 100.

    Returns
    -------
    NistResult
        Two P-values, ``'forward'`` and ``'reverse'``.

    Notes
    -----
    Partial sums are 64-bit. The summation limits are computed as the reference code
    does, with C's integer division (``n/z`` and the division by 4 truncate towards
    zero), which is what the worked examples and Appendix B use.
    """
    eps = _bits(bits)
    n = eps.size
    par = {"n": n}
    if n < 1 or (strict and n < 100):
        return _na("cumulative_sums", par, f"n = {n} < 100 (SP 800-22 2.13.7)")
    s = _walk(eps)
    sup, inf, total = max(int(s.max()), 0), min(int(s.min()), 0), int(s[-1])
    z_fwd = max(sup, -inf)
    z_rev = max(sup - total, total - inf)
    return _ok("cumulative_sums", (_cusum_p(z_fwd, n), _cusum_p(z_rev, n)), ("forward", "reverse"),
               {**par, "z_forward": z_fwd, "z_reverse": z_rev})
