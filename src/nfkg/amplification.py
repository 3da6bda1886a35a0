r"""Privacy amplification and key confirmation: Toeplitz hashing and the leftover hash lemma.

Toeplitz hashing
    A random binary Toeplitz matrix :math:`T \in \{0,1\}^{\ell\times n}`, defined by
    :math:`\ell + n - 1` public random bits, is a 2-universal family (Krawczyk 1994;
    Carter-Wegman). :math:`k = Tx \bmod 2` is computed with
    :func:`scipy.linalg.matmul_toeplitz` (FFT based, :math:`O((n+\ell)\log(n+\ell))`): the
    integer products are below :math:`n \le 2^{31}`, so float64 FFTs with rounding are
    exact; the tests compare with a plain GF(2) product.

Output length (leftover hash lemma)
    :math:`\ell = \lfloor H_{\min}^{\varepsilon_s}(X^n \mid Z^n) - \text{leak} - 2\log_2(1/\varepsilon_{PA})\rfloor`,
    where the smooth min-entropy of n i.i.d. symbols given Eve's observations is bounded by
    the asymptotic equipartition property (Tomamichel, Colbeck, Renner, IEEE Trans. Inf.
    Theory 55(12), 2009, Thm. 9): :math:`H_{\min}^{\varepsilon_s} \ge nH(X|Z) - \sqrt n\,\delta`,
    :math:`\delta = 4\log_2(\upsilon)\sqrt{\log_2(2/\varepsilon_s^2)}`,
    :math:`\upsilon \le 2 + \sqrt{|\mathcal X|}` for a classical :math:`X` (3.41 for bits).
    The key is then :math:`(2\varepsilon_s + \varepsilon_{PA})`-secret. :math:`H(X|Z)` comes from
    the model (:mod:`nfkg.bounds`). ``finite_size=False`` drops the :math:`\sqrt n\,\delta` term
    (the asymptotic length, for comparison only).

Key confirmation
    A 64-bit Toeplitz tag of the reconciled string under a fresh public seed: equal strings
    give equal tags; different strings collide with probability :math:`2^{-64}`. The tag is
    disclosed, so its bits count as leaked.

Contents
--------
toeplitz_hash, key_length, confirmation_tag, aep_penalty, public_bits
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["toeplitz_hash", "key_length", "confirmation_tag", "aep_penalty", "public_bits", "TAG_BITS"]

#: Bits of the confirmation tag.
TAG_BITS = 64


def public_bits(seed: int | np.random.SeedSequence, n: int) -> np.ndarray:
    """``n`` public random bits (``uint8``) from a seed (the seed is sent in the clear)."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 2, int(n), dtype=np.uint8)


def toeplitz_hash(x: ArrayLike, out_bits: int, seed: int | np.random.SeedSequence) -> np.ndarray:
    r""":math:`Tx \bmod 2` for the ``out_bits x n`` Toeplitz matrix drawn from ``seed``.

    ``T[i, j] = t[i - j + n - 1]`` with ``t`` the ``out_bits + n - 1`` public bits: first
    column ``t[n-1:]``, first row ``t[n-1::-1]``.
    """
    from scipy.linalg import matmul_toeplitz

    x = np.asarray(x, dtype=np.uint8).ravel()
    n, ell = x.size, int(out_bits)
    if ell <= 0 or n == 0:
        return np.zeros(max(ell, 0), dtype=np.uint8)
    t = public_bits(seed, ell + n - 1).astype(float)
    col = t[n - 1:]
    row = t[n - 1::-1]
    y = matmul_toeplitz((col, row), x.astype(float), check_finite=False)
    return (np.rint(y).astype(np.int64) & 1).astype(np.uint8)


def aep_penalty(n: int, alphabet: int = 2, eps_smooth: float = 1e-9) -> float:
    r""":math:`\sqrt n\,\delta(\varepsilon_s, \upsilon)` of the AEP with :math:`\upsilon = 2 + \sqrt{|\mathcal X|}` [bits]."""
    if n <= 0:
        return 0.0
    ups = 2.0 + math.sqrt(alphabet)
    return math.sqrt(n) * 4.0 * math.log2(ups) * math.sqrt(math.log2(2.0 / eps_smooth**2))


def key_length(n_symbols: int, h_cond: float, leaked_bits: int, eps_pa: float = 1e-9, eps_smooth: float = 1e-9,
               alphabet: int = 2, finite_size: bool = True) -> int:
    r"""Secret key length of the leftover hash lemma, at least 0.

    Parameters
    ----------
    n_symbols : int
        Number of quantised symbols (bits for the one-bit quantiser).
    h_cond : float
        :math:`H(X|Z)` per symbol [bits], from the model.
    leaked_bits : int
        Everything disclosed about the string (syndromes, confirmation tag).
    eps_pa, eps_smooth : float
        Privacy-amplification and smoothing parameters.
    alphabet : int
        Symbol alphabet size (2 for bits, :math:`2^b` for b-bit symbols).
    finite_size : bool
        Subtract the AEP's :math:`\sqrt n\,\delta` (default); ``False``: asymptotic length.
    """
    h = n_symbols * max(float(h_cond), 0.0)
    if finite_size:
        h -= aep_penalty(n_symbols, alphabet, eps_smooth)
    return max(0, int(math.floor(h - leaked_bits - 2.0 * math.log2(1.0 / eps_pa))))


def confirmation_tag(bits: ArrayLike, seed: int | np.random.SeedSequence, tag_bits: int = TAG_BITS) -> str:
    """The hex digest of a ``tag_bits`` Toeplitz tag of ``bits`` (2-universal, collision ``2^-tag_bits``)."""
    tag = toeplitz_hash(bits, tag_bits, seed)
    return np.packbits(tag).tobytes().hex()
