r"""What the quantised bits reveal: Gaussian and quantised one-way rates, conditional entropies, posteriors.

For user k the model's covariance :math:`C` of :math:`(z_0, z_1, z_2) = (z_a, z_b, z_e)`
(:func:`nfkg.schemes.precoding.evaluate`) describes each measurement as circular complex Gaussian. One
legitimate side is the **reference** :math:`r` whose measurement is quantised and reconciled
(:data:`REFERENCE`: the BS, ``'bs'``, direct reconciliation; or the user, ``'user'``, reverse
reconciliation as in continuous-variable QKD [GVW03]_), the other is the **side** :math:`x`, and
Eve is index 2. Conditioned on a complex observation :math:`z_x`,
:math:`z_r = \beta z_x + w` with :math:`\beta = C_{rx}/C_{xx}` and
:math:`w \sim \mathcal{CN}(0, C_{rr} - |C_{rx}|^2/C_{xx})`, so each real component of :math:`z_r`
normalised by :math:`\sigma_r = \sqrt{C_{rr}/2}` is, given :math:`z_x`, Gaussian with mean
:math:`\rho t` and variance :math:`s^2 = 1 - \rho^2`, :math:`t \sim \mathcal N(0, 1)`,
:math:`\rho = |C_{rx}|/\sqrt{C_{rr}C_{xx}}` (:func:`correlation`). The two real components are
conditionally independent given the complex observation (circularity), so every per-real-sample
entropy below counts twice per probing.

Unquantised (Gaussian) rates, bits per probing
    :func:`gaussian_mutual_information` :math:`I = -\log_2(1 - |\rho|^2)` per complex sample;
    :func:`gaussian_one_way_bs` :math:`[I(a;b) - I(a;e)]^+` and :func:`gaussian_one_way_user`
    :math:`[I(a;b) - I(b;e)]^+`: the one-way secret-key capacities of the Gaussian source model
    from the BS resp. the user (Csiszar-Korner [CK78]_, Ahlswede-Csiszar [AC93]_, Maurer [Mau93]_;
    for jointly Gaussian scalar sources the weaker of the two receivers is a degraded version of the
    stronger one, so :math:`V = U = z_r` is optimal [LH78]_). Both are at most the SKR
    :math:`I(z_a; z_b \mid z_e)`.

Quantised reference, bits per real sample
    :func:`conditional_entropy` :math:`H(Q(u)\mid v) = E_t[h(q(t))]`, with
    :math:`q_j(t) = \Phi((\tau_{j+1} - \rho t)/s) - \Phi((\tau_j - \rho t)/s)` for any sorted thresholds
    :math:`\tau` (the equiprobable ones of :func:`thresholds`, or the uniform ones of
    :func:`uniform_thresholds`); :func:`level_entropies` the chain-rule split
    :math:`H(B_i\mid V, B_0..B_{i-1})` over the binary levels of the cell index (multistage
    decoding, [WFH99]_, [VCC04]_); :func:`conditional_renyi_entropy` the conditional Renyi entropy
    :math:`H_\alpha^\downarrow(Q\mid V)` (Tomamichel [Tom16]_) for the finite-size key length of
    :mod:`nfkg.protocol.amplification`.
    :func:`quantizer_bound` :math:`2[H(Q(z_r)\mid z_e) - H(Q(z_r)\mid z_x)]^+` bits per probing: the
    one-way key rate with the quantiser used (reconciliation from the reference, the side keeping
    its soft observation, then hashing [AC93]_); :func:`one_way_rate` is its BS-reference form.
    :func:`bit_posteriors` -- per quantised bit, :math:`P(\text{BS bit} = 1 \mid z_x)`: the soft
    information (LLRs) of reconciliation, for the user and for Eve.

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

:math:`z_a` is in fact a Gaussian scale mixture (:mod:`nfkg.protocol.probing`); the Gaussian model
has its second moments, and the achieved rates are measured on the Monte Carlo bits.

References
----------
.. [CK78] I. Csiszar, J. Korner, "Broadcast channels with confidential messages", IEEE Trans. Inf.
   Theory 24(3), 339-348, 1978.
.. [AC93] R. Ahlswede, I. Csiszar, "Common randomness in information theory and cryptography. I.
   Secret sharing", IEEE Trans. Inf. Theory 39(4), 1121-1132, 1993.
.. [Mau93] U. M. Maurer, "Secret key agreement by public discussion from common information",
   IEEE Trans. Inf. Theory 39(3), 733-742, 1993.
.. [LH78] S. K. Leung-Yan-Cheong, M. E. Hellman, "The Gaussian wire-tap channel", IEEE Trans. Inf.
   Theory 24(4), 451-456, 1978.
.. [GVW03] F. Grosshans, G. Van Assche, J. Wenger, R. Brouri, N. J. Cerf, P. Grangier, "Quantum key
   distribution using gaussian-modulated coherent states", Nature 421, 238-241, 2003.
.. [WFH99] U. Wachsmann, R. F. H. Fischer, J. B. Huber, "Multilevel codes: theoretical concepts and
   practical design rules", IEEE Trans. Inf. Theory 45(5), 1361-1391, 1999.
.. [VCC04] G. Van Assche, J. Cardinal, N. J. Cerf, "Reconciliation of a quantum-distributed Gaussian
   key", IEEE Trans. Inf. Theory 50(2), 394-400, 2004.
.. [Tom16] M. Tomamichel, *Quantum Information Processing with Finite Resources*, SpringerBriefs in
   Mathematical Physics 5, Springer, 2016 (Ch. 5, the conditional Renyi entropies).
.. [DR84] P. J. Davis, P. Rabinowitz, *Methods of Numerical Integration*, 2nd ed., Academic Press,
   1984.

Contents
--------
REFERENCE, correlation, direction_correlations, gaussian_mutual_information, gaussian_one_way_bs,
gaussian_one_way_user, thresholds, uniform_thresholds, conditional_entropy, level_entropies,
conditional_renyi_entropy, quantizer_bound, one_way_rate, bit_posteriors
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Callable

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["REFERENCE", "correlation", "direction_correlations", "gaussian_mutual_information",
           "gaussian_one_way_bs", "gaussian_one_way_user", "thresholds", "uniform_thresholds",
           "conditional_entropy", "level_entropies", "conditional_renyi_entropy", "quantizer_bound",
           "one_way_rate", "bit_posteriors"]

#: Reconciliation direction -> (reference index, other legitimate side's index) in
#: :math:`(z_a, z_b, z_e)`; Eve is index 2.
REFERENCE: dict[str, tuple[int, int]] = {"bs": (0, 1), "user": (1, 0)}

#: Eve's index in :math:`(z_a, z_b, z_e)`.
EVE = 2

#: Smallest :math:`1 - \rho^2` used by :func:`gaussian_mutual_information` (caps it at 996.6 bits).
_MIN_ONE_MINUS_RHO2 = 1e-300
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
#: Most levels of a quantiser.
_MAX_LEVELS = 1 << 16
_LN2 = math.log(2.0)


# ------------------------------------------------------------------------------------------
# correlations and Gaussian (unquantised) rates
# ------------------------------------------------------------------------------------------

def correlation(c_aa: ArrayLike, c_xx: ArrayLike, c_ax: ArrayLike) -> np.ndarray:
    r""":math:`\rho = |C_{ax}|/\sqrt{C_{aa}C_{xx}}`, clipped to [0, 1]."""
    return np.clip(np.abs(np.asarray(c_ax)) / np.sqrt(np.asarray(c_aa, float) * np.asarray(c_xx, float)), 0.0, 1.0)


def direction_correlations(cov: ArrayLike, direction: str = "bs") -> tuple[np.ndarray, np.ndarray]:
    r"""Correlations of the reference with the other side and with Eve, for a reconciliation direction.

    Parameters
    ----------
    cov : array_like, ``(..., 3, 3)``
        Covariance of :math:`(z_a, z_b, z_e)` (``Evaluation.cov``).
    direction : {'bs', 'user'}
        The reference (:data:`REFERENCE`): ``'bs'`` quantises :math:`z_a` (side :math:`z_b`),
        ``'user'`` quantises :math:`z_b` (side :math:`z_a`, reverse reconciliation).

    Returns
    -------
    rho_side, rho_eve : ndarray ``(...)``
        :math:`|C_{rx}|/\sqrt{C_{rr}C_{xx}}` with :math:`x` the side resp. Eve (:func:`correlation`).

    Examples
    --------
    >>> c = np.array([[2.0, 1.0, 0.5], [1.0, 2.0, 1.5], [0.5, 1.5, 2.0]])
    >>> [float(r) for r in direction_correlations(c, "bs")], [float(r) for r in direction_correlations(c, "user")]
    ([0.5, 0.25], [0.5, 0.75])
    """
    r, x = _roles(direction)
    c = np.asarray(cov)
    if c.shape[-2:] != (3, 3):
        raise ValueError(f"cov: must have shape (..., 3, 3), got {c.shape}")
    c_rr = c[..., r, r].real
    rho_side = correlation(c_rr, c[..., x, x].real, c[..., r, x])
    rho_eve = correlation(c_rr, c[..., EVE, EVE].real, c[..., r, EVE])
    return rho_side, rho_eve


def _roles(direction: str) -> tuple[int, int]:
    try:
        return REFERENCE[direction]
    except (KeyError, TypeError):
        raise ValueError(f"direction: must be one of {', '.join(REFERENCE)}, got {direction!r}") from None


def gaussian_mutual_information(c_xx: ArrayLike, c_yy: ArrayLike, c_xy: ArrayLike) -> np.ndarray:
    r"""Mutual information of two jointly circular complex Gaussians [bits per complex sample].

    :math:`I(x; y) = -\log_2(1 - |\rho|^2)`, :math:`|\rho|^2 = |C_{xy}|^2/(C_{xx}C_{yy})` (Cover and
    Thomas, *Elements of Information Theory*, 2nd ed., 2006, Sec. 8.5 and 9.1, with the complex form
    of Neeser and Massey, IEEE Trans. Inf. Theory 39(4), 1993: twice the real value per
    component pair, i.e. :math:`\log_2` without the 1/2).

    Parameters
    ----------
    c_xx, c_yy : array_like
        Variances (real, or complex with zero imaginary part), broadcast together.
    c_xy : array_like
        :math:`E[x y^*]`.

    Returns
    -------
    ndarray
        Never inf or NaN for finite input: :math:`|\rho|^2` is clipped to :math:`[0, 1]` and
        :math:`1 - |\rho|^2` floored at :math:`10^{-300}`, so an (numerically) exact correlation
        gives :math:`-\log_2 10^{-300} \approx 996.6` bits, a large finite stand-in for infinity;
        a zero variance gives 0.

    Examples
    --------
    >>> round(float(gaussian_mutual_information(1.0, 1.0, 0.5j)), 12)   # -log2(3/4)
    0.415037499279
    >>> float(gaussian_mutual_information(1.0, 4.0, 2.0))
    996.5784284662087
    """
    cxx = np.real(np.asarray(c_xx)).astype(float)
    cyy = np.real(np.asarray(c_yy)).astype(float)
    num = np.abs(np.asarray(c_xy)) ** 2
    den = cxx * cyy
    ok = den > 0
    r2 = np.clip(np.divide(num, np.where(ok, den, 1.0)), 0.0, 1.0)
    r2 = np.where(ok, r2, 0.0)
    return -np.log2(np.maximum(1.0 - r2, _MIN_ONE_MINUS_RHO2))


def _mi_pair(c: np.ndarray, i: int, j: int) -> np.ndarray:
    return gaussian_mutual_information(c[..., i, i], c[..., j, j], c[..., i, j])


def gaussian_one_way_bs(cov: ArrayLike) -> np.ndarray:
    r"""One-way key rate from the BS's unquantised :math:`z_a` [bits per probing]: :math:`[I(a;b) - I(a;e)]^+`.

    The Csiszar-Korner one-way secret-key capacity of the Gaussian source model with
    :math:`z_a` as the reference ([CK78]_, [AC93]_; Gaussian optimality of :math:`V = U = z_a` by the
    degradedness of scalar Gaussian channels, [LH78]_). It is at most the SKR
    :math:`I(z_a; z_b \mid z_e)`.

    Parameters
    ----------
    cov : array_like, ``(..., 3, 3)``
        Covariance of :math:`(z_a, z_b, z_e)`.

    Returns
    -------
    ndarray ``(...)``

    Examples
    --------
    >>> c = np.array([[1.0, 0.9, 0.5], [0.9, 1.0, 0.45], [0.5, 0.45, 1.0]])
    >>> round(float(gaussian_one_way_bs(c)), 6), round(float(gaussian_one_way_user(c)), 6)
    (1.980891, 2.069485)
    """
    c = np.asarray(cov)
    return np.maximum(_mi_pair(c, 0, 1) - _mi_pair(c, 0, 2), 0.0)


def gaussian_one_way_user(cov: ArrayLike) -> np.ndarray:
    r"""One-way key rate from the user's unquantised :math:`z_b` [bits per probing]: :math:`[I(a;b) - I(b;e)]^+`.

    Reverse reconciliation: the user's measurement is the reference, as in continuous-variable QKD
    [GVW03]_; otherwise as :func:`gaussian_one_way_bs`.
    """
    c = np.asarray(cov)
    return np.maximum(_mi_pair(c, 0, 1) - _mi_pair(c, 1, 2), 0.0)


# ------------------------------------------------------------------------------------------
# quantisers
# ------------------------------------------------------------------------------------------

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


def _cell_probs(m: np.ndarray, s: float, tau: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    r"""Masses of the cells ``lo..hi`` under :math:`\mathcal N(m, s^2)` per row, ``(n, K + 1)``.

    Row ``i`` holds cells ``lo[i] .. hi[i]`` (the first and last absorbing the tails beyond), then
    zeros. With :math:`a_j = \Phi(-|z_j|)`, :math:`z_j = (\tau_j - m)/s` (the smaller tail, full
    relative precision), a cell on one side of the mean has mass :math:`|a_j - a_{j-1}|` (a
    difference of lower tails left of the mean, of upper tails right of it) and the cell holding
    the mean :math:`1 - a_{j-1} - a_j`: no cancellation for small masses.
    """
    from scipy.special import ndtr

    n = m.size
    K = int((hi - lo).max()) if n else 0
    if K == 0:
        return np.ones((n, 1))
    j = lo[:, None] + np.arange(K)[None, :]
    z = (tau[np.minimum(j, tau.size - 1)] - m[:, None]) / s
    z[j >= hi[:, None]] = np.inf                      # padding: empty cells
    a = np.zeros((n, K + 2))
    a[:, 1:-1] = ndtr(-np.abs(z))
    p = np.abs(np.diff(a, axis=1))
    c = np.count_nonzero(z < 0, axis=1)               # the cell holding the mean
    rows = np.arange(n)
    p[rows, c] = 1.0 - a[rows, c] - a[rows, c + 1]
    return np.maximum(p, 0.0)


def _expect(rho: float, tau: np.ndarray, f: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    r""":math:`\sum_i w_i f(p(t_i))` over the composite rule: the expectation over :math:`t` of ``f`` where
    ``f`` is negligible outside the thresholds' windows (``f`` maps ``(n, K+1)`` cell masses to
    ``(n,)`` or ``(n, k)``)."""
    r, s = _rho_s(rho)
    m, w = _nodes(r, s, tau)
    if r <= 0.0:
        s = 1.0
    lo = np.searchsorted(tau, m - _WINDOW * s, side="left")
    hi = np.searchsorted(tau, m + _WINDOW * s, side="right")
    total = None
    width = int((hi - lo).max()) + 1 if m.size else 1
    step = max(1, _CHUNK // width)
    for i0 in range(0, m.size, step):
        sl = slice(i0, i0 + step)
        val = w[sl] @ f(_cell_probs(m[sl], s, tau, lo[sl], hi[sl]))
        total = val if total is None else total + val
    if total is None:
        total = f(np.ones((1, 1)))[0] * 0.0
    return np.asarray(total, float)


def _entropy_rows(p: np.ndarray) -> np.ndarray:
    from scipy.special import entr

    return entr(p).sum(axis=-1) / _LN2


# ------------------------------------------------------------------------------------------
# conditional entropies of a quantised reference
# ------------------------------------------------------------------------------------------

def _scalar_or_array(rho: ArrayLike, fn: Callable[[float], float]) -> float | np.ndarray:
    if np.ndim(rho) == 0:
        return fn(float(rho))
    r = np.asarray(rho, float)
    return np.array([fn(float(x)) for x in r.ravel()]).reshape(r.shape)


def conditional_entropy(rho: ArrayLike, bits: int = 1, *, thresholds: ArrayLike | None = None) -> float | np.ndarray:
    r""":math:`H(Q(u) \mid v)` [bits per real sample] for standard Gaussians with correlation ``rho``.

    :math:`H(Q(u)\mid v) = E_t[h(q(t))]`, :math:`t \sim \mathcal N(0,1)`,
    :math:`q_j(t) = \Phi((\tau_{j+1} - \rho t)/s) - \Phi((\tau_j - \rho t)/s)`,
    :math:`s = \sqrt{1 - \rho^2}`, :math:`h` the Shannon entropy in bits; by the composite
    Gauss-Legendre rule of the module (relative error below :math:`10^{-10}`, a few ms for 1024
    levels). Per complex sample (the two real components) it is twice this.

    Parameters
    ----------
    rho : float or array_like
        Correlation of the quantised variable with the observation; only :math:`|\rho|` matters
        (:math:`t` is symmetric), values above 1 count as 1. An array gives an array.
    bits : int
        Levels :math:`2^b` of the equiprobable quantiser (:func:`thresholds`); ignored when
        ``thresholds`` is given.
    thresholds : array_like, optional
        Sorted thresholds :math:`\tau_1..\tau_{L-1}` in units of the standard deviation (e.g.
        :func:`uniform_thresholds`); the end cells are open.

    Returns
    -------
    float (ndarray for an array ``rho``). ``rho = 0``: the entropy of the cell masses (``bits``
    for the equiprobable quantiser); ``rho = 1``: 0.

    Examples
    --------
    >>> round(conditional_entropy(0.9, 1), 10)
    0.4499809148
    >>> round(conditional_entropy(0.0, thresholds=[0.0]), 12), conditional_entropy(1.0, 3)
    (1.0, 0.0)
    """
    tau = _thresholds_of(bits, thresholds)

    def one(r: float) -> float:
        rr, s = _rho_s(r)
        if s == 0.0 or tau.size == 0:
            return 0.0
        d = _fine_step(tau, s)
        if d is not None:                               # high resolution: closed form
            val = math.log2(math.sqrt(2.0 * math.pi * math.e) * s / d) + (d / s) ** 2 / (24.0 * _LN2)
            return min(val, math.log2(tau.size + 1))
        val = float(_expect(rr, tau, _entropy_rows))
        return min(max(val, 0.0), math.log2(tau.size + 1))

    return _scalar_or_array(rho, one)


def level_entropies(rho: float, thresholds: ArrayLike) -> np.ndarray:
    r"""Conditional entropies of the binary levels of the cell index (multistage decoding) [bits per real sample].

    The index :math:`q \in 0..L-1` of the quantiser with ``thresholds`` (:math:`L` a power of two) is
    written in natural binary, bit :math:`B_i` of weight :math:`2^i`. Least significant level first
    ([WFH99]_, [VCC04]_),

    .. math:: H(B_i \mid V, B_0..B_{i-1}) = H(q \bmod 2^{i+1} \mid V) - H(q \bmod 2^i \mid V),

    each term an expectation over :math:`t` of the entropy of the coset masses
    :math:`\sum_{q \equiv c} q_q(t)` (same quadrature as :func:`conditional_entropy`). By the chain
    rule they sum to :func:`conditional_entropy` with the same thresholds.

    Parameters
    ----------
    rho : float
        Correlation of the reference's component with the decoder's observation.
    thresholds : array_like ``(L - 1,)``
        Sorted, in units of the standard deviation.

    Returns
    -------
    ndarray ``(log2 L,)``, level 0 (least significant) first.

    Examples
    --------
    >>> h = level_entropies(0.99, uniform_thresholds(0.25, 16))
    >>> [round(float(x), 4) for x in h]
    [0.9245, 0.3775, 0.0049, 0.0]
    >>> bool(abs(h.sum() - conditional_entropy(0.99, thresholds=uniform_thresholds(0.25, 16))) < 1e-12)
    True
    """
    tau = _thresholds_of(0, thresholds)
    L = tau.size + 1
    if L < 2 or L & (L - 1):
        raise ValueError(f"thresholds: the number of cells must be a power of two >= 2, got {L}")
    b = L.bit_length() - 1
    r, s = _rho_s(rho)
    if s == 0.0:
        return np.zeros(b)

    def cosets(p: np.ndarray) -> np.ndarray:
        n, width = p.shape
        out = np.empty((n, b))
        full = _entropy_rows(p)
        for k in range(1, b + 1):
            M = 1 << k
            if M >= width:                             # every cell its own coset
                out[:, k - 1:] = full[:, None]
                break
            pad = (-width) % M
            pp = np.concatenate([p, np.zeros((n, pad))], axis=1) if pad else p
            out[:, k - 1] = _entropy_rows(pp.reshape(n, -1, M).sum(axis=1))
        return out

    hk = _expect(r, tau, cosets)                       # H(q mod 2^k | V), k = 1..b
    h = np.diff(np.concatenate([[0.0], hk]))
    return np.clip(h, 0.0, 1.0)


def conditional_renyi_entropy(rho: ArrayLike, alpha: float, *, bits: int = 1,
                              thresholds: ArrayLike | None = None) -> float | np.ndarray:
    r"""Conditional Renyi entropy :math:`H_\alpha^\downarrow(Q(u)\mid v)` [bits per real sample].

    .. math:: H_\alpha^\downarrow(Q\mid V) = \frac{1}{1-\alpha}\log_2 E_t\Big[\sum_x q_x(t)^\alpha\Big]
              = \frac{1}{1-\alpha}\log_2 \sum_v P(v)\sum_x P(x\mid v)^\alpha,

    the classical case of :math:`H_\alpha^\downarrow(A|B)_\rho = -D_\alpha(\rho_{AB}\|1_A\otimes\rho_B)`
    (Tomamichel [Tom16]_, Ch. 5; Tomamichel, Colbeck, Renner, IEEE Trans. Inf. Theory 55(12),
    2009), with :math:`q_x(t)` as in :func:`conditional_entropy`. It is non-increasing in
    :math:`\alpha`, at most :math:`H(Q|V)` and tends to it as :math:`\alpha \to 1`. Computed as
    :math:`\log_2(1 - D)/(1-\alpha)` with
    :math:`D = E_t[\sum_x q_x(1 - q_x^{\alpha-1})]` (``expm1``), so that it stays accurate for
    :math:`\alpha` near 1 and :math:`\rho` near 1. Per complex sample it is twice this: the two
    real components are conditionally independent given the complex observation, and
    :math:`H_\alpha^\downarrow` is additive over independent pairs.

    Parameters
    ----------
    rho : float or array_like
        As in :func:`conditional_entropy`.
    alpha : float
        :math:`\alpha \ge 1` (the finite-size bound of :mod:`nfkg.protocol.amplification` uses
        :math:`(1, 2]`); ``alpha = 1`` returns :func:`conditional_entropy`.
    bits, thresholds
        The quantiser, as in :func:`conditional_entropy`.

    Returns
    -------
    float (ndarray for an array ``rho``).

    Examples
    --------
    >>> round(conditional_renyi_entropy(0.9, 2.0), 10), round(conditional_entropy(0.9), 10)
    (0.3209673053, 0.4499809148)
    """
    alpha = float(alpha)
    if not (math.isfinite(alpha) and alpha >= 1.0):
        raise ValueError(f"alpha: must be a finite number >= 1, got {alpha}")
    if alpha == 1.0:
        return conditional_entropy(rho, bits, thresholds=thresholds)
    tau = _thresholds_of(bits, thresholds)
    am1 = alpha - 1.0

    def dev(p: np.ndarray) -> np.ndarray:
        pos = p > 0
        lp = np.log(np.where(pos, p, 1.0))
        return np.sum(np.where(pos, -p * np.expm1(am1 * lp), 0.0), axis=-1)

    def one(r: float) -> float:
        rr, s = _rho_s(r)
        if s == 0.0 or tau.size == 0:
            return 0.0
        fine = _fine_step(tau, s)
        if fine is not None:                            # high resolution: closed form
            val = (math.log2(math.sqrt(2.0 * math.pi) * s / fine) + math.log2(alpha) / (2.0 * am1)
                   + (fine / s) ** 2 / (24.0 * _LN2))
            return min(max(val, 0.0), math.log2(tau.size + 1))
        d = float(_expect(rr, tau, dev))
        d = min(max(d, 0.0), 1.0 - 1e-300)
        val = math.log1p(-d) / (-am1 * _LN2)
        return min(max(val, 0.0), math.log2(tau.size + 1))

    return _scalar_or_array(rho, one)


def quantizer_bound(cov: ArrayLike, direction: str = "bs", *, bits: int = 1,
                    thresholds: ArrayLike | None = None) -> np.ndarray:
    r"""One-way key rate of the quantiser used [bits per probing]: :math:`2[H(Q(z_r)\mid z_e) - H(Q(z_r)\mid z_x)]^+`.

    The reference :math:`r` (:data:`REFERENCE`) quantises each real component of its measurement
    with ``thresholds`` in units of :math:`\sigma_r = \sqrt{C_{rr}/2}` (default: the equiprobable
    ``bits``-bit quantiser); the other side :math:`x` and Eve keep their complex observations.
    One-way reconciliation from the reference followed by hashing achieves it ([AC93]_, [CK78]_
    with :math:`V = U = Q(z_r)`); the factor 2 counts the two real components.

    Parameters
    ----------
    cov : array_like, ``(..., 3, 3)``
        Covariance of :math:`(z_a, z_b, z_e)` (``Evaluation.cov``).
    direction : {'bs', 'user'}
        The reference.
    bits : int
        Bits of the equiprobable quantiser (when ``thresholds`` is None).
    thresholds : array_like, optional
        Sorted thresholds, e.g. :func:`uniform_thresholds` or
        :attr:`nfkg.protocol.multilevel.UniformQuantizer.thresholds`.

    Returns
    -------
    ndarray ``(...)``

    Examples
    --------
    >>> c = np.array([[1.0, 0.9, 0.5], [0.9, 1.0, 0.45], [0.5, 0.45, 1.0]])
    >>> round(float(quantizer_bound(c, "bs")), 6), round(float(quantizer_bound(c, "user")), 6)
    (0.849647, 0.900778)
    """
    tau = _thresholds_of(bits, thresholds)
    rho_s, rho_e = direction_correlations(cov, direction)
    rs, re = np.ravel(rho_s), np.ravel(rho_e)
    cache: dict[float, float] = {}

    def h(r: float) -> float:
        if r not in cache:
            cache[r] = float(conditional_entropy(r, thresholds=tau))
        return cache[r]

    out = np.array([2.0 * max(h(float(e)) - h(float(x)), 0.0) for x, e in zip(rs, re)])
    return out.reshape(np.shape(rho_s))


def one_way_rate(cov: ArrayLike, bits: int = 1) -> np.ndarray:
    r"""One-way key rate [bits per probing] of each user for the b-bit quantiser of the BS.

    ``quantizer_bound(cov, "bs", bits=bits)``.

    Parameters
    ----------
    cov : array_like, ``(..., 3, 3)``
        Covariance of :math:`(z_a, z_b, z_e)` (``Evaluation.cov``).
    bits : int
        Quantiser bits per real sample.

    Returns
    -------
    ndarray ``(...)``: :math:`2\,[H(Q|z_e) - H(Q|z_b)]^+`.
    """
    return quantizer_bound(cov, "bs", bits=bits)


def bit_posteriors(z_x: ArrayLike, c_aa: float, c_xx: float, c_ax: complex, bits: int = 1,
                   keep: ArrayLike | None = None) -> np.ndarray:
    r""":math:`P(\text{BS bit} = 1 \mid z_x)` for every quantised bit, in the quantiser's order.

    Parameters
    ----------
    z_x : array_like, complex, ``(T,)``
        The observer's measurements (the user's :math:`z_b` or Eve's :math:`z_e`).
    c_aa, c_xx : float
        Variances of :math:`z_a` and :math:`z_x`.
    c_ax : complex
        :math:`E[z_a z_x^*]`.
    bits : int
        Quantiser bits per real sample (1: J(45)); the BS quantises with the model's
        :math:`\sigma = \sqrt{C_{aa}/2}` per real component.
    keep : array_like of bool, optional
        Real samples kept by the guard bands (``(2T,)``); default all.

    Returns
    -------
    ndarray ``(n_kept * bits,)`` of probabilities.
    """
    from scipy.special import ndtr

    from .quantization import gray_code, stack_real

    z = np.asarray(z_x).ravel()
    beta = complex(c_ax) / float(c_xx)
    mu = stack_real(beta * z)                                # conditional means of Re a, Im a
    var_w = max(float(c_aa) - abs(complex(c_ax)) ** 2 / float(c_xx), 0.0) / 2.0
    sig_a = math.sqrt(float(c_aa) / 2.0)
    s = max(math.sqrt(var_w), 1e-300) / sig_a
    m = mu / sig_a
    if keep is not None:
        m = m[np.asarray(keep, bool)]
    tau = np.concatenate([[-np.inf], thresholds(bits), [np.inf]])
    cdf = ndtr((tau[None, :] - m[:, None]) / s)
    q = np.diff(cdf, axis=1)                                 # (n, 2^b) level probabilities
    table = gray_code(bits).astype(float)                    # (2^b, b)
    p1 = q @ table                                           # P(bit_j = 1), (n, b)
    return np.clip(p1.ravel(), 0.0, 1.0)
