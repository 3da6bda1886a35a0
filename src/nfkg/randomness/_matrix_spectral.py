r"""SP 800-22 tests of structure: binary matrix rank (2.5) and the discrete Fourier transform (2.6)."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import erfc

from ._common import NistResult, _bits, _na, _ok

__all__ = ["binary_matrix_rank", "discrete_fourier_transform"]


# --------------------------------------------------------------------------- 2.5 rank
def _gf2_rank(rows: np.ndarray, n_cols: int) -> np.ndarray:
    """Ranks over GF(2) of a stack of matrices given as packed rows ``(N, M)`` uint64."""
    r = rows.copy()
    rank = np.zeros(r.shape[0], np.int64)
    idx = np.arange(r.shape[0])
    one = np.uint64(1)
    for c in range(n_cols):
        bit = ((r >> np.uint64(c)) & one).astype(bool)
        has = bit.any(axis=1)
        pivot = r[idx, bit.argmax(axis=1)] * has  # 0 where the column has no pivot
        r ^= np.where(bit, pivot[:, None], np.uint64(0))  # clears the pivot row too
        rank += has
    return rank


def _rank_probability(r: int, m: int, q: int) -> float:
    """Probability that a random m x q matrix over GF(2) has rank r (SP 800-22 3.5)."""
    prod = 1.0
    for i in range(r):
        prod *= (1.0 - 2.0 ** (i - q)) * (1.0 - 2.0 ** (i - m)) / (1.0 - 2.0 ** (i - r))
    return 2.0 ** (r * (q + m - r) - m * q) * prod


def binary_matrix_rank(bits: ArrayLike, rows: int = 32, cols: int = 32,
                       probabilities: str = "exact", strict: bool = True) -> NistResult:
    r"""Binary matrix rank test, SP 800-22 section 2.5.

    The sequence fills :math:`N = \lfloor n/(MQ)\rfloor` matrices row by row; with
    :math:`F_M, F_{M-1}` the numbers of full-rank and rank M - 1 matrices,

    .. math::
        \chi^2 = \frac{(F_M - p_M N)^2}{p_M N} + \frac{(F_{M-1} - p_{M-1}N)^2}{p_{M-1}N}
                 + \frac{(N - F_M - F_{M-1} - p_{\le M-2}N)^2}{p_{\le M-2}N},\qquad
        P = e^{-\chi^2/2}.

    Ranks are computed exactly by GF(2) elimination on packed rows, all matrices at once.

    Parameters
    ----------
    bits : array_like of 0/1, ``(n,)``
        The sequence.
    rows, cols : int
        M and Q (at most 64 columns).
    probabilities : {'exact', 'document'}
        ``'exact'``: the rank probabilities of an M x Q matrix (for 32 x 32 those of the
        reference code, 0.288788, 0.577576, 0.133636). ``'document'``: the rounded
        32 x 32 constants 0.2888, 0.5776, 0.1336 of SP 800-22 2.5.4, whatever M and Q
        (what the document's 3 x 3 worked example uses).
    strict : bool
        Require n >= 38 M Q (SP 800-22 2.5.7).

    Returns
    -------
    NistResult
        One P-value.
    """
    eps = _bits(bits)
    m, q = int(rows), int(cols)
    if not (1 <= m and 1 <= q <= 64):
        raise ValueError(f"rows must be >= 1 and cols in [1, 64], got {rows} x {cols}")
    if probabilities not in ("exact", "document"):
        raise ValueError(f"probabilities must be 'exact' or 'document', got {probabilities!r}")
    n = eps.size
    nb = n // (m * q)
    par = {"n": n, "M": m, "Q": q, "N": nb}
    if nb < 1:
        return _na("binary_matrix_rank", par, f"n = {n} < M Q = {m * q}: no matrix")
    if strict and n < 38 * m * q:
        return _na("binary_matrix_rank", par, f"n = {n} < 38 M Q = {38 * m * q} (SP 800-22 2.5.7)")
    full = min(m, q)
    if probabilities == "exact":
        p_full = _rank_probability(full, m, q)
        p_less = _rank_probability(full - 1, m, q) if full > 1 else 0.0
    else:
        p_full, p_less = 0.2888, 0.5776
    p_rest = 1.0 - (p_full + p_less)
    mat = eps[:nb * m * q].reshape(nb * m, q)
    packed = np.zeros((nb * m, 8), np.uint8)
    packed[:, 8 - (q + 7) // 8:] = np.packbits(mat, axis=1)
    row_words = packed.view(">u8").astype(np.uint64).reshape(nb, m)
    rank = _gf2_rank(row_words, 64)
    f_full = int(np.count_nonzero(rank == full))
    f_less = int(np.count_nonzero(rank == full - 1))
    f_rest = nb - f_full - f_less
    chi2 = 0.0
    for f, p in ((f_full, p_full), (f_less, p_less), (f_rest, p_rest)):
        if p > 0:
            chi2 += (f - nb * p) ** 2 / (nb * p)
    return _ok("binary_matrix_rank", math.exp(-chi2 / 2.0), ("",), par)


# --------------------------------------------------------------------------- 2.6 DFT
def discrete_fourier_transform(bits: ArrayLike, strict: bool = True) -> NistResult:
    r"""Discrete Fourier transform (spectral) test, SP 800-22 section 2.6.

    With :math:`X = \mathrm{DFT}(2\varepsilon - 1)`, :math:`N_1` the number of
    :math:`|X_k|, k = 0..\lfloor n/2\rfloor - 1`, below :math:`T = \sqrt{2.995732274\,n}`
    (:math:`\ln 20` as the reference code writes it) and :math:`N_0 = 0.95\,n/2`,

    .. math::
        d = \frac{N_1 - N_0}{\sqrt{n\,(0.95)(0.05)/4}},\qquad
        P = \operatorname{erfc}\Big(\frac{|d|}{\sqrt 2}\Big).

    Parameters
    ----------
    bits : array_like of 0/1, ``(n,)``
        The sequence.
    strict : bool
        Require n >= 1000.

    Returns
    -------
    NistResult
        One P-value.

    Notes
    -----
    The document's worked example (2.6.8) counts :math:`N_1 = 46` on its 100-bit
    sequence; the reference code and this function count 48, and Appendix B agrees.
    """
    eps = _bits(bits)
    n = eps.size
    par = {"n": n}
    if n < 2 or (strict and n < 1000):
        return _na("discrete_fourier_transform", par, f"n = {n} < 1000 (SP 800-22 2.6.7)")
    x = eps.astype(np.float64) * 2.0 - 1.0
    spec = np.fft.rfft(x)[: n // 2]
    n1 = int(np.count_nonzero(np.abs(spec) < math.sqrt(2.995732274 * n)))
    d = (n1 - 0.95 * n / 2.0) / math.sqrt(n / 4.0 * 0.95 * 0.05)
    return _ok("discrete_fourier_transform", erfc(abs(d) / math.sqrt(2.0)), ("",), par)
