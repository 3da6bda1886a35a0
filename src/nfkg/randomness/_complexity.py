r"""SP 800-22 tests of compressibility and pattern frequencies: Maurer's universal test (2.9),
linear complexity (2.10), serial (2.11) and approximate entropy (2.12)."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import erfc

from ._common import NistResult, _bits, _igamc, _na, _ok, _window_counts

__all__ = ["universal", "linear_complexity", "serial", "approximate_entropy"]


# --------------------------------------------------------------------------- 2.9 universal
_UNIVERSAL_EXPECTED = (0.0, 0.7326495, 1.5374383, 2.4016068, 3.3112247, 4.2534266, 5.2177052,
                       6.1962507, 7.1836656, 8.1764248, 9.1723243, 10.170032, 11.168765,
                       12.168070, 13.167693, 14.167488, 15.167379)
_UNIVERSAL_VARIANCE = (0.0, 0.690, 1.338, 1.901, 2.358, 2.705, 2.954, 3.125, 3.238, 3.311,
                       3.356, 3.384, 3.401, 3.410, 3.416, 3.419, 3.421)
_UNIVERSAL_MIN_N = (387840, 904960, 2068480, 4654080, 10342400, 22753280, 49643520,
                    107560960, 231669760, 496435200, 1059061760)  # n at which L = 6, 7, ..., 16


def universal(bits: ArrayLike, block_length: int | None = None, init_blocks: int | None = None,
              sigma_correction: bool = True, strict: bool = True) -> NistResult:
    r"""Maurer's "universal statistical" test, SP 800-22 section 2.9.

    The first Q blocks of L bits initialise a table of last positions; for the K next
    blocks

    .. math::
        f_n = \frac1K\sum_{i=Q+1}^{Q+K}\log_2(i - T_{b_i}),\quad
        \sigma = c\sqrt{\frac{\mathrm{variance}(L)}{K}},\quad
        c = 0.7 - \frac{0.8}{L} + \Big(4 + \frac{32}{L}\Big)\frac{K^{-3/L}}{15},\quad
        P = \operatorname{erfc}\Big(\frac{|f_n - \mathrm{expectedValue}(L)|}{\sqrt2\,\sigma}\Big).

    Parameters
    ----------
    bits : array_like of 0/1, ``(n,)``
        The sequence.
    block_length : int, optional
        L in [1, 16]; default from SP 800-22's table by n (L = 6 from n = 387,840, ...,
        16 from n = 1,059,061,760; 5 below, which strict mode rejects).
    init_blocks : int, optional
        Q; default :math:`10\cdot 2^L`.
    sigma_correction : bool
        Use :math:`\sigma = c\sqrt{\mathrm{variance}(L)/K}` (the test's definition and
        the reference code). False uses :math:`\sigma = \sqrt{\mathrm{variance}(L)}`,
        which is what the document's worked example (2.9.8, P = 0.767189) does.
    strict : bool
        Require 6 <= L <= 16 and Q >= 10 * 2^L (the reference code's checks).

    Returns
    -------
    NistResult
        One P-value.
    """
    eps = _bits(bits)
    n = eps.size
    if block_length is None:
        if init_blocks is not None:
            raise ValueError("init_blocks needs block_length")
        big_l = 5 + int(np.searchsorted(_UNIVERSAL_MIN_N, n, side="right"))
    else:
        big_l = int(block_length)
        if not 1 <= big_l <= 16:
            raise ValueError(f"block_length must be in [1, 16], got {block_length}")
    q = 10 * 2 ** big_l if init_blocks is None else int(init_blocks)
    k = n // big_l - q
    par = {"n": n, "L": big_l, "Q": q, "K": k}
    if strict and not 6 <= big_l <= 16:
        return _na("universal", par, f"L = {big_l} not in [6, 16]: n = {n} < 387840 (SP 800-22 2.9.7)")
    if strict and q < 10 * 2 ** big_l:
        return _na("universal", par, f"Q = {q} < 10 * 2^L = {10 * 2 ** big_l} (SP 800-22 2.9.7)")
    if k < 1 or q < 1:
        return _na("universal", par, f"n = {n} too short for Q = {q} blocks of L = {big_l} plus one")
    nblk = q + k
    vals = np.packbits(eps[:nblk * big_l].reshape(nblk, big_l), axis=1, bitorder="little")
    # block values (any fixed bijection of the pattern will do: only equality matters)
    v = np.zeros(nblk, np.int64)
    for b in range(vals.shape[1]):
        v |= vals[:, b].astype(np.int64) << (8 * b)
    order = np.argsort(v, kind="stable")
    sv = v[order]
    prev = np.zeros(nblk, np.int64)  # 1-based index of the previous block with the same value, 0 if none
    same = sv[1:] == sv[:-1]
    prev[order[1:][same]] = order[:-1][same] + 1
    i = np.arange(q + 1, nblk + 1)
    fn = float(np.sum(np.log2(i - prev[q:]))) / k
    if sigma_correction:
        c = 0.7 - 0.8 / big_l + (4 + 32 / big_l) * k ** (-3 / big_l) / 15
        sigma = c * math.sqrt(_UNIVERSAL_VARIANCE[big_l] / k)
    else:
        sigma = math.sqrt(_UNIVERSAL_VARIANCE[big_l])
    p = erfc(abs(fn - _UNIVERSAL_EXPECTED[big_l]) / (math.sqrt(2.0) * sigma))
    return _ok("universal", p, ("",), {**par, "fn": fn})


# --------------------------------------------------------------------------- 2.10 linear complexity
def _linear_complexities(blocks: np.ndarray) -> np.ndarray:
    """Berlekamp-Massey linear complexity of every row of ``blocks`` ``(N, M)``, at once.

    The connection polynomial C(x) is kept aligned with the sequence: bit q + 1 of ``e``
    holds the coefficient of C that multiplies s_q at step t, so the discrepancy is the
    parity of ``e & s``; ``g`` holds B(x) in the same frame, fixed since its last update,
    so C <- C + x^(t-m) B is ``e ^= g``; ``e`` shifts by one bit per step.
    """
    nb, m = blocks.shape
    nw = (m + 1 + 63) // 64
    sb = np.zeros((nb, nw * 64), np.uint8)
    sb[:, 1:m + 1] = blocks
    s = np.packbits(sb, axis=1, bitorder="little").view("<u8").astype(np.uint64)
    e = np.zeros((nb, nw), np.uint64)
    e[:, 0] = 2  # C = 1 at step 0: bit 1
    g = np.zeros((nb, nw), np.uint64)
    g[:, 0] = 1  # B = 1 with m = -1: bit 0
    lc = np.zeros(nb, np.int64)
    one = np.uint64(1)
    s63 = np.uint64(63)
    for t in range(m):
        w = min(nw, (t + 1) // 64 + 1)  # the words that hold bits 0..t+1
        d = np.bitwise_count(np.bitwise_xor.reduce(e[:, :w] & s[:, :w], axis=1)) & 1
        dmask = (-d.astype(np.int64)).astype(np.uint64)[:, None]
        upd = (d == 1) & (2 * lc <= t)
        umask = (-upd.astype(np.int64)).astype(np.uint64)[:, None]
        g_new = g ^ ((e ^ g) & umask)
        e ^= g & dmask
        g = g_new
        lc = np.where(upd, t + 1 - lc, lc)
        hi = e >> s63
        e <<= one
        e[:, 1:] |= hi[:, :-1]
    return lc


_LC_PI_REFERENCE = (0.01047, 0.03125, 0.12500, 0.50000, 0.25000, 0.06250, 0.020833)
_LC_PI_EXACT = (1 / 96, 1 / 32, 1 / 8, 1 / 2, 1 / 4, 1 / 16, 1 / 48)


def linear_complexity(bits: ArrayLike, block_size: int = 500, probabilities: str = "reference",
                      strict: bool = True) -> NistResult:
    r"""Linear complexity test, SP 800-22 section 2.10.

    With :math:`L_i` the Berlekamp-Massey linear complexity of block i of M bits,

    .. math::
        \mu = \frac M2 + \frac{9 + (-1)^{M+1}}{36} - \frac{M/3 + 2/9}{2^M},\quad
        T_i = (-1)^M (L_i - \mu) + \frac29,

    binned at -2.5, -1.5, ..., 2.5 into 7 classes, and
    :math:`P = Q(3, \chi^2/2)`, :math:`\chi^2 = \sum (\nu_i - N\pi_i)^2/(N\pi_i)`.

    Parameters
    ----------
    bits : array_like of 0/1, ``(n,)``
        The sequence.
    block_size : int
        M (500).
    probabilities : {'reference', 'exact'}
        ``'reference'``: the reference code's
        (0.01047, 0.03125, 0.125, 0.5, 0.25, 0.0625, 0.020833), with which Appendix B
        was computed (its :math:`\pi_0 = 0.01047` is a typo for 1/96 = 0.010417);
        ``'exact'``: 1/96, 1/32, 1/8, 1/2, 1/4, 1/16, 1/48.
    strict : bool
        Require n >= 10^6, 500 <= M <= 5000 and N >= 200 (SP 800-22 2.10.7).

    Returns
    -------
    NistResult
        One P-value.
    """
    eps = _bits(bits)
    n, m = eps.size, int(block_size)
    if m < 1:
        raise ValueError(f"block_size must be >= 1, got {block_size}")
    if probabilities not in ("reference", "exact"):
        raise ValueError(f"probabilities must be 'reference' or 'exact', got {probabilities!r}")
    nb = n // m
    par = {"n": n, "M": m, "N": nb, "K": 6}
    if nb < 1:
        return _na("linear_complexity", par, f"n = {n} < M = {m}: no block")
    if strict and (n < 1_000_000 or not 500 <= m <= 5000 or nb < 200):
        return _na("linear_complexity", par,
                   f"n = {n} < 1000000, M = {m} not in [500, 5000] or N = {nb} < 200 (SP 800-22 2.10.7)")
    lc = _linear_complexities(eps[:nb * m].reshape(nb, m))
    sign = -1.0 if (m + 1) % 2 == 0 else 1.0
    mean = m / 2.0 + (9.0 + sign) / 36.0 - math.ldexp(1.0, -m) * (m / 3.0 + 2.0 / 9.0)
    sign = 1.0 if m % 2 == 0 else -1.0
    t = sign * (lc - mean) + 2.0 / 9.0
    cls = np.searchsorted(np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5]), t, side="left")
    nu = np.bincount(cls, minlength=7)
    pi = np.array(_LC_PI_REFERENCE if probabilities == "reference" else _LC_PI_EXACT)
    chi2 = float(np.sum((nu - nb * pi) ** 2 / (nb * pi)))
    return _ok("linear_complexity", _igamc(3.0, chi2 / 2.0), ("",), par)


# --------------------------------------------------------------------------- 2.11 serial
def _psi2(counts: np.ndarray, n: int, m: int) -> float:
    if m <= 0:
        return 0.0
    s = float(np.sum(counts.astype(np.int64) ** 2))
    return s * 2.0 ** m / n - n


def serial(bits: ArrayLike, m: int = 16, strict: bool = True) -> NistResult:
    r"""Serial test, SP 800-22 section 2.11.

    With :math:`\psi^2_m = \frac{2^m}{n}\sum_{\text{m-bit } i} \nu_i^2 - n` over the
    cyclically extended sequence,

    .. math::
        \nabla\psi^2_m = \psi^2_m - \psi^2_{m-1},\quad
        \nabla^2\psi^2_m = \psi^2_m - 2\psi^2_{m-1} + \psi^2_{m-2},\quad
        P_1 = Q\big(2^{m-2}, \tfrac{\nabla\psi^2_m}{2}\big),\;
        P_2 = Q\big(2^{m-3}, \tfrac{\nabla^2\psi^2_m}{2}\big).

    Parameters
    ----------
    bits : array_like of 0/1, ``(n,)``
        The sequence.
    m : int
        Block length (16), >= 2.
    strict : bool
        Require :math:`m < \lfloor\log_2 n\rfloor - 2` (SP 800-22 2.11.7).

    Returns
    -------
    NistResult
        Two P-values, labelled ``'p1'`` and ``'p2'``.

    Notes
    -----
    The document's worked example (2.11.8, m = 3) prints P1 = 0.9057, P2 = 0.8805; the
    correct values (and the reference code's) are 0.808792 and 0.670320.
    """
    eps = _bits(bits)
    n, m = eps.size, int(m)
    if m < 2:
        raise ValueError(f"m must be >= 2, got {m}")
    par = {"n": n, "m": m}
    if n < 1:
        return _na("serial", par, "empty sequence")
    if strict and m >= int(math.log2(n)) - 2:
        return _na("serial", par,
                   f"m = {m} >= floor(log2 n) - 2 = {int(math.log2(n)) - 2} (SP 800-22 2.11.7)")
    c0 = _window_counts(eps, m)
    if c0.size == 1 << m:  # marginals of the full histogram: prefixes of the m-bit windows
        c1 = c0.reshape(-1, 2).sum(axis=1)
        c2 = c1.reshape(-1, 2).sum(axis=1)
    else:
        c1, c2 = _window_counts(eps, m - 1), _window_counts(eps, m - 2)
    psi0, psi1, psi2 = _psi2(c0, n, m), _psi2(c1, n, m - 1), _psi2(c2, n, m - 2)
    d1 = psi0 - psi1
    d2 = psi0 - 2.0 * psi1 + psi2
    p = [_igamc(2.0 ** (m - 1) / 2, d1 / 2.0), _igamc(2.0 ** (m - 2) / 2, d2 / 2.0)]
    return _ok("serial", p, ("p1", "p2"), par)


# --------------------------------------------------------------------------- 2.12 approximate entropy
def _phi(counts: np.ndarray, n: int) -> float:
    c = counts[counts > 0].astype(np.float64)
    return float(np.sum(c * np.log(c / n))) / n


def approximate_entropy(bits: ArrayLike, m: int = 10, strict: bool = True) -> NistResult:
    r"""Approximate entropy test, SP 800-22 section 2.12.

    .. math::
        \varphi^{(m)} = \sum_i \pi_i \ln \pi_i,\quad
        \mathrm{ApEn}(m) = \varphi^{(m)} - \varphi^{(m+1)},\quad
        \chi^2 = 2n(\ln 2 - \mathrm{ApEn}(m)),\quad
        P = Q\big(2^{m-1}, \tfrac{\chi^2}{2}\big),

    with :math:`\pi_i` the frequencies of the cyclic m-bit patterns.

    Parameters
    ----------
    bits : array_like of 0/1, ``(n,)``
        The sequence.
    m : int
        Block length (10), >= 1.
    strict : bool
        Require :math:`m < \lfloor\log_2 n\rfloor - 5` (SP 800-22 2.12.7).

    Returns
    -------
    NistResult
        One P-value.
    """
    eps = _bits(bits)
    n, m = eps.size, int(m)
    if m < 1:
        raise ValueError(f"m must be >= 1, got {m}")
    par = {"n": n, "m": m}
    if n < 1:
        return _na("approximate_entropy", par, "empty sequence")
    if strict and m >= int(math.log2(n)) - 5:
        return _na("approximate_entropy", par,
                   f"m = {m} >= floor(log2 n) - 5 = {int(math.log2(n)) - 5} (SP 800-22 2.12.7)")
    c1 = _window_counts(eps, m + 1)
    c0 = c1.reshape(-1, 2).sum(axis=1) if c1.size == 1 << (m + 1) else _window_counts(eps, m)
    apen = _phi(c0, n) - _phi(c1, n)
    chi2 = 2.0 * n * (math.log(2) - apen)
    return _ok("approximate_entropy", _igamc(2.0 ** (m - 1), chi2 / 2.0), ("",), {**par, "ApEn": apen})
