r"""SP 800-22 template tests: non-overlapping (2.7) and overlapping (2.8) template matching,
and the aperiodic templates of NIST's template files."""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import gammaincc

from ._common import NistResult, _bits, _bits_to_str, _igamc, _na, _ok, _template_bits, _windows

__all__ = ["aperiodic_templates", "non_overlapping_template_matching", "overlapping_template_matching",
           "NON_OVERLAPPING_MIN_MEAN"]


# --------------------------------------------------------------------------- 2.7 non-overlapping templates
@lru_cache(maxsize=None)
def _aperiodic_values(m: int) -> tuple[int, ...]:
    v = np.arange(1 << m, dtype=np.int64)
    ok = np.ones(v.size, bool)
    for k in range(1, m):
        ok &= (v >> (m - k)) != (v & ((1 << k) - 1))
    return tuple(int(x) for x in np.flatnonzero(ok))


def aperiodic_templates(m: int) -> np.ndarray:
    """The aperiodic templates of length m (no proper prefix equals a suffix).

    Parameters
    ----------
    m : int
        Template length, 2 <= m <= 21.

    Returns
    -------
    ndarray of uint8, ``(T, m)``
        One template per row, in increasing binary order, which is the order of NIST's
        ``templates/template<m>`` files (T = 148 for m = 9).

    Examples
    --------
    >>> t = aperiodic_templates(9)
    >>> t.shape, "".join(map(str, t[0])), "".join(map(str, t[-1]))
    ((148, 9), '000000001', '111111110')
    """
    if not 2 <= m <= 21:
        raise ValueError(f"m must be in [2, 21], got {m}")
    vals = np.array(_aperiodic_values(m), np.int64)
    return ((vals[:, None] >> np.arange(m - 1, -1, -1)) & 1).astype(np.uint8)


def _is_aperiodic(t: np.ndarray) -> bool:
    m = t.size
    return all(not np.array_equal(t[:k], t[m - k:]) for k in range(1, m))


# Least expected number of matches per block in strict mode (documented in nfkg.randomness).
NON_OVERLAPPING_MIN_MEAN = 20


def non_overlapping_template_matching(bits: ArrayLike, m: int = 9,
                                      templates: str | ArrayLike | Sequence | None = None,
                                      n_blocks: int = 8, strict: bool = True) -> NistResult:
    r"""Non-overlapping template matching test, SP 800-22 section 2.7.

    In each of the N blocks of :math:`M = \lfloor n/N\rfloor` bits, :math:`W_j` counts the
    occurrences of the template B (the window restarts after each match), and

    .. math::
        \mu = \frac{M - m + 1}{2^m},\quad
        \sigma^2 = M\Big(\frac1{2^m} - \frac{2m-1}{2^{2m}}\Big),\quad
        \chi^2 = \sum_{j=1}^{N}\frac{(W_j - \mu)^2}{\sigma^2},\quad
        P = Q\big(\tfrac N2, \tfrac{\chi^2}2\big).

    Parameters
    ----------
    bits : array_like of 0/1, ``(n,)``
        The sequence.
    m : int
        Template length (default 9) when ``templates`` is None.
    templates : str, array_like or sequence of them, optional
        The template(s) B, e.g. ``'000000001'``. Default: every aperiodic template of
        length m (:func:`aperiodic_templates`; 148 for m = 9), one P-value each.
    n_blocks : int
        N (8 in the reference code).
    strict : bool
        Require N <= 100 and M > 0.01 n (SP 800-22 2.7.7) and at least
        :data:`NON_OVERLAPPING_MIN_MEAN` expected matches per block,
        :math:`\mu = (M - m + 1)/2^m \ge 20` (n >= 81,984 for m = 9, N = 8; see Notes).

    Returns
    -------
    NistResult
        One P-value per template, labelled by the template.

    Notes
    -----
    An aperiodic template cannot overlap itself, so its non-overlapping count equals its
    count at every position; all aperiodic templates are then counted at once from the
    histogram of m-bit windows per block. A periodic template supplied by the caller is
    scanned with the restart rule.

    SP 800-22 2.7.7 sets no minimum n, but the chi-square of 2.7.4 takes every count
    :math:`W_j` as normal with mean :math:`\mu`, which it is not when few matches are
    expected: with N = 8 and m = 9, P < 0.01 for 3.5 % of random 1,000-bit sequences
    (:math:`\mu = 0.23`), 2.3 % at 5,000 bits (1.2), 1.5 % at 20,000 bits (4.9) and 1.1 % at
    100,000 bits (24), measured over all 148 templates of 1,000 sequences each. Strict mode
    therefore also requires :math:`\mu \ge 20`.
    """
    eps = _bits(bits)
    n = eps.size
    if templates is None:
        tmpl = aperiodic_templates(int(m))
    elif isinstance(templates, str) or (isinstance(templates, np.ndarray) and templates.ndim == 1) \
            or all(isinstance(v, (int, np.integer)) for v in templates):
        tmpl = _template_bits(templates)[None, :]
    else:
        tl = [_template_bits(t) for t in templates]
        if len({t.size for t in tl}) != 1:
            raise ValueError("templates must all have the same length")
        tmpl = np.stack(tl)
    m = tmpl.shape[1]
    nb = int(n_blocks)
    if nb < 1:
        raise ValueError(f"n_blocks must be >= 1, got {n_blocks}")
    bl = n // nb
    par = {"n": n, "m": m, "N": nb, "M": bl, "n_templates": tmpl.shape[0]}
    lam = (bl - m + 1) / 2.0 ** m
    if lam <= 0:
        return _na("non_overlapping_template_matching", par,
                   f"block length M = {bl} < m = {m} (lambda <= 0)")
    if strict and (nb > 100 or bl <= 0.01 * n):
        return _na("non_overlapping_template_matching", par,
                   f"N = {nb} > 100 or M = {bl} <= 0.01 n (SP 800-22 2.7.7)")
    if strict and lam < NON_OVERLAPPING_MIN_MEAN:
        n_min = nb * (NON_OVERLAPPING_MIN_MEAN * 2 ** m + m - 1)
        return _na("non_overlapping_template_matching", par,
                   f"mu = (M - m + 1)/2^m = {lam:.3g} < {NON_OVERLAPPING_MIN_MEAN} expected matches per block: "
                   f"too few for the chi-square of SP 800-22 2.7.4 (n >= {n_min:,} for m = {m}, N = {nb})")
    var = bl * (1.0 / 2.0 ** m - (2.0 * m - 1.0) / 2.0 ** (2.0 * m))
    # windows inside each block: positions i*M + j, j = 0..M-m
    w = _windows(eps[:nb * bl], m, cyclic=False)
    wpad = np.zeros(nb * bl, np.int64)
    wpad[:w.size] = w
    wb = wpad.reshape(nb, bl)[:, : bl - m + 1]
    tval = (tmpl.astype(np.int64) << np.arange(m - 1, -1, -1)).sum(axis=1)
    counts = np.empty((tmpl.shape[0], nb), np.float64)
    aper = np.array([_is_aperiodic(t) for t in tmpl])
    if aper.any():
        if (1 << m) <= 4 * bl + (1 << 16):
            hist = np.stack([np.bincount(row, minlength=1 << m) for row in wb])  # (N, 2^m)
            counts[aper] = hist[:, tval[aper]].T
        else:
            for i in np.flatnonzero(aper):
                counts[i] = (wb == tval[i]).sum(axis=1)
    for i in np.flatnonzero(~aper):
        for j in range(nb):
            pos = np.flatnonzero(wb[j] == tval[i])
            c, nxt = 0, -1
            for p in pos.tolist():
                if p >= nxt:
                    c += 1
                    nxt = p + m
            counts[i, j] = c
    chi2 = np.sum((counts - lam) ** 2, axis=1) / var
    p = gammaincc(nb / 2.0, chi2 / 2.0)
    return _ok("non_overlapping_template_matching", p, [_bits_to_str(t) for t in tmpl], par)


# --------------------------------------------------------------------------- 2.8 overlapping template
def _overlapping_probabilities(m: int, block: int, k: int = 5) -> np.ndarray:
    """Class probabilities of the reference code (``Pr(u, eta)``), u = 0..K-1, and the rest."""
    eta = (block - m + 1) / 2.0 ** m / 2.0
    pi = np.empty(k + 1)
    pi[0] = math.exp(-eta)
    for u in range(1, k):
        pi[u] = sum(math.exp(-eta - u * math.log(2) + l * math.log(eta) - math.lgamma(l + 1)
                             + math.lgamma(u) - math.lgamma(l) - math.lgamma(u - l + 1))
                    for l in range(1, u + 1))
    pi[k] = 1.0 - pi[:k].sum()
    return pi


def overlapping_template_matching(bits: ArrayLike, m: int = 9, template: str | ArrayLike | None = None,
                                  block_size: int = 1032, strict: bool = True) -> NistResult:
    r"""Overlapping template matching test, SP 800-22 section 2.8.

    In each of the :math:`N = \lfloor n/M\rfloor` blocks of M = 1032 bits the
    occurrences of B (all ones, m = 9, counted at every position) are binned into
    0, 1, 2, 3, 4, >= 5 and

    .. math::
        \chi^2 = \sum_{i=0}^{5}\frac{(\nu_i - N\pi_i)^2}{N\pi_i},\qquad
        P = Q\big(\tfrac52, \tfrac{\chi^2}2\big).

    Parameters
    ----------
    bits : array_like of 0/1, ``(n,)``
        The sequence.
    m : int
        Template length when ``template`` is None (the template is then m ones).
    template : str or array_like, optional
        B; default ``'1' * m``.
    block_size : int
        M (1032).
    strict : bool
        Require n >= 10^6 (SP 800-22 2.8.7).

    Returns
    -------
    NistResult
        One P-value.

    Notes
    -----
    The probabilities are those the reference code computes,
    :math:`\pi_0 = e^{-\eta}`, :math:`\pi_u = \sum_{l=1}^{u} e^{-\eta}2^{-u}\eta^l/l!\,
    \binom{u-1}{l-1}` with :math:`\eta = (M - m + 1)/2^{m+1}` (0.367879, 0.183940, 0.137955,
    0.099634, 0.069935, 0.140657 for the defaults), with which Appendix B was computed;
    not the corrected values 0.364091, 0.185659, 0.139381, 0.100571, 0.070432, 0.139865 of
    section 3.8.
    """
    eps = _bits(bits)
    tb = np.ones(int(m), np.uint8) if template is None else _template_bits(template)
    m = tb.size
    n = eps.size
    bl = int(block_size)
    nb = n // bl
    par = {"n": n, "m": m, "M": bl, "N": nb, "K": 5, "template": _bits_to_str(tb)}
    if nb < 1 or bl < m:
        return _na("overlapping_template_matching", par, f"no block of M = {bl} >= m bits in n = {n}")
    if strict and n < 1_000_000:
        return _na("overlapping_template_matching", par, f"n = {n} < 1000000 (SP 800-22 2.8.7)")
    pi = _overlapping_probabilities(m, bl)
    tval = int((tb.astype(np.int64) << np.arange(m - 1, -1, -1)).sum())
    w = _windows(eps[:nb * bl], m, cyclic=False)
    hit = np.zeros(nb * bl, bool)
    hit[:w.size] = w == tval
    counts = hit.reshape(nb, bl)[:, : bl - m + 1].sum(axis=1)
    nu = np.bincount(np.minimum(counts, 5), minlength=6)
    chi2 = float(np.sum((nu - nb * pi) ** 2 / (nb * pi)))
    return _ok("overlapping_template_matching", _igamc(2.5, chi2 / 2.0), ("",), par)
