r"""Quantiser thresholds and the quadrature of functionals of a quantised Gaussian's cell masses.

A reference component normalised to :math:`\mathcal N(0, 1)` is, given the decoder's (or Eve's)
observation, Gaussian with mean :math:`\rho t` and variance :math:`s^2 = 1 - \rho^2`,
:math:`t \sim \mathcal N(0, 1)`. A quantiser with sorted thresholds :math:`\tau` (the equiprobable
ones of :func:`thresholds`, or the uniform ones of :func:`uniform_thresholds`; the end cells open)
gives the cell masses :math:`q_j(t) = \Phi((\tau_{j+1} - \rho t)/s) - \Phi((\tau_j - \rho t)/s)`.
The entropies of :mod:`nfkg.protocol.bounds` are expectations over :math:`t` of functionals of
these masses, computed here.

Quadrature
    The integrand :math:`h(q(t))` is analytic in :math:`t` but varies on the scale :math:`s/\rho`
    (tiny for :math:`\rho \to 1`) around every :math:`\tau_j/\rho`, and is below :math:`10^{-20}`
    farther than :math:`10\,s/\rho` from all of them (every cell but one has mass
    :math:`< \Phi(-10)`). It is integrated by composite Gauss-Legendre rules (order
    :data:`_GL_ORDER`, [DR84]_) on panels no wider than :math:`s/\rho` (and 1) covering the union of
    the windows :math:`[\tau_j \pm 10 s]/\rho` within :math:`|t| \le 12`; at each node only the cells
    within :math:`\pm 10 s` of the conditional mean are evaluated (the far tails lumped into the two
    outer ones), with cell masses formed from the tail on the far side of the mean so that small
    masses keep full relative precision. Cost: about (panels x order x cells in the window)
    evaluations of :math:`\Phi`, a few milliseconds for a 1024-level quantiser; relative error below
    :math:`10^{-10}` against mpmath in the tests.

High resolution
    For a fine uniform quantiser (:func:`_fine_step`) the entropies have closed forms, used instead.

References
----------
.. [DR84] P. J. Davis, P. Rabinowitz, *Methods of Numerical Integration*, 2nd ed., Academic Press,
   1984.

Contents
--------
thresholds, uniform_thresholds
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Callable

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["thresholds", "uniform_thresholds"]

#: Gauss-Legendre order of the composite rule.
_GL_ORDER = 12
#: Widest panel, in units of :math:`s/\rho`.
_PANEL = 3.0
#: Widest panel in :math:`t` (the Gaussian weight's own scale).
_PANEL_T = 1.0
#: Half-width of the window of cells evaluated around a node's conditional mean, in :math:`s`.
_WINDOW = 10.0
#: The Gaussian weight is truncated to :math:`|t| \le` this (tail mass :math:`2\cdot 10^{-33}`).
_T_MAX = 12.0
#: Most array elements per evaluation chunk (memory: 8 bytes each, a few arrays).
_CHUNK = 1 << 20
#: Cell masses computed at once within a chunk (cache-sized).
_SUB_CELLS = 1 << 17
#: Most levels of a quantiser.
_MAX_LEVELS = 1 << 16
_LN2 = math.log(2.0)


def thresholds(bits: int) -> np.ndarray:
    """Equiprobable thresholds of N(0, 1) for ``2^bits`` levels."""
    from scipy.special import ndtri

    n = 2 ** int(bits)
    return ndtri(np.arange(1, n) / n)


def uniform_thresholds(step: float, levels: int) -> np.ndarray:
    r"""Thresholds of a uniform quantiser, in units of the reference's :math:`\sigma_r = \sqrt{C_{rr}/2}`.

    :math:`t_j = (j - L/2)\Delta`, :math:`j = 1..L-1`: symmetric about 0, the end cells open (values
    beyond :math:`\pm (L/2)\Delta` fall in them). Same as
    :attr:`nfkg.protocol.multilevel.UniformQuantizer.thresholds`.

    Parameters
    ----------
    step : float
        :math:`\Delta > 0`.
    levels : int
        :math:`L`, a power of two in ``2..65536``.

    Returns
    -------
    ndarray ``(L - 1,)``

    Examples
    --------
    >>> uniform_thresholds(0.5, 4).tolist()
    [-0.5, 0.0, 0.5]
    """
    step = float(step)
    L = int(levels)
    if L != levels or L < 2 or L > _MAX_LEVELS or L & (L - 1):
        raise ValueError(f"levels: must be a power of two in 2..{_MAX_LEVELS}, got {levels!r}")
    if not (math.isfinite(step) and step > 0):
        raise ValueError(f"step: must be positive and finite, got {step}")
    return (np.arange(1, L) - L / 2) * step


def _thresholds_of(bits: int, tau: ArrayLike | None) -> np.ndarray:
    if tau is None:
        return thresholds(bits)
    t = np.asarray(tau, float)
    if t.ndim != 1:
        raise ValueError(f"thresholds: must be one-dimensional, got shape {t.shape}")
    if not np.all(np.isfinite(t)):
        raise ValueError("thresholds: must be finite")
    if t.size > 1 and np.any(np.diff(t) < 0):
        raise ValueError("thresholds: must be sorted (non-decreasing)")
    return t


#: High-resolution closed forms (:func:`_fine_step`) from this many quantiser steps per
#: conditional standard deviation on (relative error below 1e-10 against the quadrature there).
_FINE_RATIO = 40.0


def _fine_step(tau: np.ndarray, s: float) -> float | None:
    r"""The step :math:`\Delta` of a uniform quantiser symmetric about 0 whose cells cover
    :math:`\pm 7` and are fine against the conditional spread (:math:`s \ge 40\Delta`), else ``None``.

    There the cell masses are :math:`\Delta\phi_s(c_q - \rho t)(1 + O(\Delta^2/s^2))` and the
    high-resolution expansions hold, the same for every :math:`t`:
    :math:`H(Q|V) = \log_2(\sqrt{2\pi e}\,s/\Delta) + \frac{(\Delta/s)^2}{24\ln 2}` and
    :math:`H_\alpha^\downarrow(Q|V) = \log_2(\sqrt{2\pi}\,s/\Delta) + \frac{\log_2\alpha}{2(\alpha - 1)}
    + \frac{(\Delta/s)^2}{24\ln 2}` (the differential entropies of :math:`\mathcal N(0, s^2)` plus
    the cell-averaging term), with a relative error of order :math:`(\Delta/s)^4` (measured
    against the quadrature: 2e-7 at :math:`s = 7\Delta`, 2e-10 at :math:`35\Delta`, 5e-12 at
    :math:`87\Delta`) and the mass beyond the range, 2.6e-12. The quadrature costs grow with
    :math:`s/\Delta` (Eve's wide conditional over a 16,384-cell quantiser: 50 ms per value)."""
    if tau.size < 3:
        return None
    d = float(tau[1] - tau[0])
    L = tau.size + 1
    if not (d > 0 and s >= _FINE_RATIO * d and L * d / 2.0 >= 7.0 - 1e-9):
        return None
    if not np.allclose(np.diff(tau), d, rtol=1e-9, atol=0.0) or abs(tau[0] + (L / 2 - 1) * d) > 1e-9 * d * L:
        return None
    return d


def _rho_s(rho: float) -> tuple[float, float]:
    r = abs(float(rho))
    if not math.isfinite(r):
        raise ValueError(f"rho: must be finite, got {rho}")
    r = min(r, 1.0)
    return r, math.sqrt((1.0 - r) * (1.0 + r))

# ------------------------------------------------------------------------------------------
# the quadrature engine: E_t[f(q(t))] for functionals f of the cell probabilities
# ------------------------------------------------------------------------------------------

@lru_cache(maxsize=8)
def _gauss_legendre(order: int) -> tuple[np.ndarray, np.ndarray]:
    x, w = np.polynomial.legendre.leggauss(order)
    x.setflags(write=False)
    w.setflags(write=False)
    return x, w


def _nodes(r: float, s: float, tau: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""Conditional means :math:`\rho t` and weights :math:`w\varphi(t)` of the composite rule (see the module)."""
    if r <= 0.0:
        return np.zeros(1), np.ones(1)              # q does not depend on t
    if tau.size == 0:
        return np.zeros(0), np.zeros(0)
    hw = _WINDOW * s / r
    if hw >= 2.0 * _T_MAX:                            # weak correlation: every window covers |t| <= T
        a, b = np.array([-_T_MAX]), np.array([_T_MAX])
    else:
        lo_t, hi_t = tau / r - hw, tau / r + hw
        brk = np.flatnonzero(lo_t[1:] > hi_t[:-1])    # gaps between the merged windows
        a = np.maximum(lo_t[np.concatenate([[0], brk + 1])], -_T_MAX)
        b = np.minimum(hi_t[np.concatenate([brk, [tau.size - 1]])], _T_MAX)
        keep = b > a
        a, b = a[keep], b[keep]
    if a.size == 0:
        return np.zeros(0), np.zeros(0)
    hmax = min(_PANEL * s / r, _PANEL_T)
    npan = np.maximum(np.ceil((b - a) / hmax), 1).astype(np.int64)
    iv = np.repeat(np.arange(a.size), npan)
    k = np.arange(int(npan.sum())) - np.repeat(np.cumsum(npan) - npan, npan)
    width = ((b - a) / npan)[iv]
    half = 0.5 * width
    mid = a[iv] + (k + 0.5) * width
    x, w = _gauss_legendre(_GL_ORDER)
    t = (mid[:, None] + half[:, None] * x[None, :]).ravel()
    wt = (half[:, None] * w[None, :]).ravel() * np.exp(-0.5 * t * t) / math.sqrt(2.0 * math.pi)
    return r * t, wt


def _cell_probs(m: np.ndarray, s: float, tau: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                width: int | None = None) -> np.ndarray:
    r"""Masses of the cells ``lo..hi`` under :math:`\mathcal N(m, s^2)` per row, ``(n, K + 1)``.

    Row ``i`` holds cells ``lo[i] .. hi[i]`` (the first and last absorbing the tails beyond), then
    zeros, ``K + 1 = max(hi - lo) + 1`` columns or ``width`` if given (at least that). With
    :math:`a_j = \Phi(-|z_j|)`, :math:`z_j = (\tau_j - m)/s` (the smaller tail, full
    relative precision), a cell on one side of the mean has mass :math:`|a_j - a_{j-1}|` (a
    difference of lower tails left of the mean, of upper tails right of it) and the cell holding
    the mean :math:`1 - a_{j-1} - a_j`: no cancellation for small masses.
    """
    from scipy.special import ndtr

    n = m.size
    K = int((hi - lo).max()) if n else 0
    if width is not None:
        K = int(width) - 1
    if K == 0:
        return np.ones((n, 1))
    j = lo[:, None] + np.arange(K)[None, :]
    z = tau[np.minimum(j, tau.size - 1)]
    z -= m[:, None]
    z /= s
    z[j >= hi[:, None]] = np.inf                      # padding: empty cells
    c = np.count_nonzero(z < 0, axis=1)               # the cell holding the mean
    a = np.zeros((n, K + 2))
    np.abs(z, out=z)
    np.negative(z, out=z)
    ndtr(z, out=a[:, 1:-1])
    p = a[:, 1:] - a[:, :-1]
    np.abs(p, out=p)
    rows = np.arange(n)
    p[rows, c] = 1.0 - a[rows, c] - a[rows, c + 1]
    return np.maximum(p, 0.0, out=p)


def _expect(rho: float, tau: np.ndarray, f: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    r""":math:`\sum_i w_i f(p(t_i))` over the composite rule: the expectation over :math:`t` of ``f`` where
    ``f`` is negligible outside the thresholds' windows (``f`` maps ``(n, K+1)`` cell masses to
    ``(n,)`` or ``(n, k)``)."""
    return _expect_many(rho, tau, lambda p: (f(p),))[0]


def _expect_many(rho: float, tau: np.ndarray, f: Callable[[np.ndarray], tuple]) -> list:
    r""":func:`_expect` of several functionals at once: ``f`` maps the cell masses to a tuple of
    arrays (each ``(n,)`` or ``(n, k)``), and the masses, the costly part, are computed once for
    all of them; each expectation is the very sum :func:`_expect` of that functional alone forms."""
    r, s = _rho_s(rho)
    m, w = _nodes(r, s, tau)
    if r <= 0.0:
        s = 1.0
    lo = np.searchsorted(tau, m - _WINDOW * s, side="left")
    hi = np.searchsorted(tau, m + _WINDOW * s, side="right")
    totals = None
    width = int((hi - lo).max()) + 1 if m.size else 1
    step = max(1, _CHUNK // width)
    for i0 in range(0, m.size, step):
        sl = slice(i0, i0 + step)
        # the chunk's masses in cache-sized pieces of the chunk's width (rows as wide as in one
        # piece: the same per-row sums), the functionals' rows joined for one dot product each
        k = int((hi[sl] - lo[sl]).max()) + 1
        sub = max(1, _SUB_CELLS // k)
        parts = [f(_cell_probs(m[a:b], s, tau, lo[a:b], hi[a:b], k))
                 for a, b in ((a, min(a + sub, sl.stop, m.size)) for a in range(i0, min(sl.stop, m.size), sub))]
        vals = [w[sl] @ (v[0] if len(v) == 1 else np.concatenate(v)) for v in zip(*parts)]
        totals = vals if totals is None else [t + v for t, v in zip(totals, vals)]
    if totals is None:
        totals = [v[0] * 0.0 for v in f(np.ones((1, 1)))]
    return [np.asarray(t, float) for t in totals]


def _entropy_rows(p: np.ndarray) -> np.ndarray:
    from scipy.special import entr

    return entr(p).sum(axis=-1) / _LN2
