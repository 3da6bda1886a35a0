r"""Power allocation for SVD precoding: Dinkelbach, water-filling, alternating optimisation.

All solvers are vectorised: every coefficient may carry a batch shape ``(...)``
(scenarios) and, for the multi-user solvers, a trailing user axis ``(..., K)``.

With :math:`W_k = P_{S,k} R_k + P_{N,k} R_{ek}` the problem is described by the
five scalars of J(42) per user,

.. math::
    s_1 = |f^H R h|^2,\; s_2 = h^H R h,\; s_3 = \Re\{(f^H R_e h)(h^H R f)\},\;
    s_4 = h^H R_e h,\; s_5 = f^H R f,

so no N x N matrix is needed (J's traces :math:`\mathrm{Tr}(R A R B)` etc. are these
bilinear forms; SPEC 9: :math:`A_k = h_k h_k^H`). For every SVD design
:math:`R_e f = 0`, hence :math:`s_3 = 0`.

Contents
--------
OptimizeResult
    Result object (SciPy style).
view_coefficients
    :math:`s_{1..5}` of J(42) and the Gram determinant :math:`w = s_2s_5 - s_1` from the
    reduced shapes (:mod:`nfkg.engine.reduced`), exactly.
svd_coefficients
    The same from N-space shapes (:class:`~nfkg.engine.subspace.Shape`), for checks.
alpha_of_powers
    :math:`\alpha_k(P_S, P_N)`, J(42).
dinkelbach_coefficients, dinkelbach
    C(28)-(31), J(28)-(31), C/J Algorithm 1 (with SPEC 9's sign correction).
waterfill_coefficients, waterfill_objective, waterfill
    J(32)-(40), J Algorithm 2 (two-level search on the water level).
alternating
    J IV: alternate Dinkelbach per user and water-filling across users.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ..engine.reduced import ShapeView
from ..engine.secrecy import skr_of_alpha
from ..engine.subspace import Shape

__all__ = [
    "OptimizeResult",
    "svd_coefficients",
    "view_coefficients",
    "alpha_of_powers",
    "dinkelbach_coefficients",
    "dinkelbach",
    "waterfill_coefficients",
    "waterfill_objective",
    "waterfill",
    "alternating",
]

_LN2 = np.log(2.0)
_TINY = np.finfo(float).tiny


@dataclass(frozen=True)
class OptimizeResult:
    """Outcome of an nfkg solver (after :class:`scipy.optimize.OptimizeResult`).

    Attributes
    ----------
    x : ndarray
        The solution (its meaning is given by each solver).
    fun : ndarray
        Objective value at ``x``.
    success : bool
        Whether every batch element met the tolerance.
    message : str
        Plain-language status.
    nit : int
        Iterations used (the maximum over the batch).
    history : ndarray
        Objective after each iteration, shape ``(nit + 1, ...)`` (first row: start).
    extra : dict
        Solver-specific by-products (e.g. ``beta``, ``mu``, ``p_s``).
    """

    x: np.ndarray
    fun: np.ndarray
    success: bool
    message: str
    nit: int
    history: np.ndarray
    extra: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        extra = object.__getattribute__(self, "extra")
        if name in extra:
            return extra[name]
        raise AttributeError(name)


# --------------------------------------------------------------------------- coefficients
def svd_coefficients(f: np.ndarray, h: np.ndarray, signal: Shape, jamming: Shape) -> dict[str, np.ndarray]:
    r"""The coefficients :math:`s_{1..5,k}` of J(42) for every user.

    Parameters
    ----------
    f, h : ndarray, shape ``(..., K, N)``
        User and Eve channels.
    signal, jamming : Shape
        :math:`R_k` and :math:`R_{ek}`, batched ``(..., K)``.

    Returns
    -------
    dict of ndarray, each ``(..., K)``
        ``s1 = |f^H R h|^2``, ``s2 = h^H R h``, ``s3 = Re{(f^H R_e h)(h^H R f)}``,
        ``s4 = h^H R_e h``, ``s5 = f^H R f``.
    """
    x = np.stack([f, h], axis=-1)  # (..., K, N, 2)
    gr = signal.gram(x)
    ge = jamming.gram(x)
    s = {
        "s1": np.abs(gr[..., 0, 1]) ** 2,
        "s2": gr[..., 1, 1].real,
        "s3": np.real(ge[..., 0, 1] * gr[..., 1, 0]),
        "s4": ge[..., 1, 1].real,
        "s5": gr[..., 0, 0].real,
    }
    s["w"] = np.maximum(s["s2"] * s["s5"] - s["s1"], 0.0)  # by subtraction here: see view_coefficients
    return s


def view_coefficients(signal: ShapeView, jamming: ShapeView) -> dict[str, np.ndarray]:
    r"""The coefficients :math:`s_{1..5,k}` of J(42) and :math:`w_k = s_2s_5 - s_1`, exactly.

    From the rows :math:`F_f = f_k^H R_k^{1/2}`, :math:`F_h = h_k^H R_k^{1/2}` of the
    signal view and :math:`J_f, J_h` of the jamming view (:mod:`nfkg.engine.reduced`):
    :math:`s_5 = \|F_f\|^2`, :math:`s_2 = \|F_h\|^2`, :math:`s_1 = |F_f F_h^H|^2`,
    :math:`s_4 = \|J_h\|^2`, :math:`s_3 = \Re\{(J_fJ_h^H)(F_hF_f^H)\}` (0 for every
    SVD design, :math:`R_{ek}f_k = 0`), and the Gram determinant
    :math:`w = \|F_f\|^2\|F_h\|^2 - |F_fF_h^H|^2 = \sum_{i<j}|F_{f,i}F_{h,j} - F_{f,j}F_{h,i}|^2`
    by Lagrange's identity: for the reduced views one of the two products is an exact
    zero, so :math:`w` is a product, not a difference (it vanishes when Eve is close).

    Returns
    -------
    dict of ndarray, each ``(..., K)``: ``s1`` .. ``s5``, ``w``.
    """
    n_users = signal.view.shape[-3]
    k = np.arange(n_users)
    ff = signal.view[..., k, k, :]
    fh = signal.view[..., k, n_users + k, :]
    jf = jamming.view[..., k, k, :]
    jh = jamming.view[..., k, n_users + k, :]
    sq = lambda x: np.sum(x.real**2 + x.imag**2, axis=-1)  # noqa: E731
    ip = lambda x, y: np.sum(x * y.conj(), axis=-1)  # noqa: E731  x y^H
    r = ff.shape[-1]
    w = np.zeros(ff.shape[:-1])
    for i in range(r):
        for j in range(i + 1, r):
            w = w + np.abs(ff[..., i] * fh[..., j] - ff[..., j] * fh[..., i]) ** 2
    return {
        "s1": np.abs(ip(ff, fh)) ** 2,
        "s2": sq(fh),
        "s3": np.real(ip(jf, jh) * ip(fh, ff)),
        "s4": sq(jh),
        "s5": sq(ff),
        "w": w,
    }


def _wedge(s: dict[str, np.ndarray]) -> np.ndarray:
    r""":math:`s_2s_5 - s_1 \ge 0`, exact when the coefficients carry it (``'w'``)."""
    if "w" in s:
        return s["w"]
    return np.maximum(s["s2"] * s["s5"] - s["s1"], 0.0)


def alpha_of_powers(s: dict[str, np.ndarray], p_s: ArrayLike, p_n: ArrayLike, var_ne: ArrayLike) -> np.ndarray:
    r""":math:`\alpha_k` as a function of the power split, J(42).

    .. math::
        \alpha_k = P_{S,k}s_{5,k} - \frac{P_{S,k}^2 s_{1,k} + P_{S,k}P_{N,k}s_{3,k}}
                                      {P_{S,k}s_{2,k} + P_{N,k}s_{4,k} + \hat\sigma_e^2}
                 = \frac{P_{S,k}s_{5,k}(P_{N,k}s_{4,k} + \hat\sigma_e^2) + P_{S,k}^2 w_k
                         - P_{S,k}P_{N,k}s_{3,k}}{P_{S,k}s_{2,k} + P_{N,k}s_{4,k} + \hat\sigma_e^2}

    evaluated in the second form with :math:`w_k = s_{2,k}s_{5,k} - s_{1,k}` from
    :func:`view_coefficients` (exact). Clipped at 0 (it is :math:`\ge 0` by Cauchy-Schwarz).
    """
    p_s = np.asarray(p_s, float)
    p_n = np.asarray(p_n, float)
    # alpha den = P_S s5 (P_N s4 + var_e) + P_S^2 (s2 s5 - s1) - P_S P_N s3: non-negative terms
    # (s3 = 0 for SVD designs), no cancellation of the signal against the noise.
    num = p_s * s["s5"] * (p_n * s["s4"] + var_ne) + p_s**2 * _wedge(s) - p_s * p_n * s["s3"]
    den = p_s * s["s2"] + p_n * s["s4"] + var_ne
    return np.maximum(num / den, 0.0)


def dinkelbach_coefficients(s: dict[str, np.ndarray], p_a: ArrayLike, var_ne: ArrayLike) -> tuple[np.ndarray, ...]:
    r"""Coefficients of :math:`-\alpha = (m_1P_S^2 + m_2P_S)/(m_3P_S + m_4)`, C(29), J(29).

    .. math::
        \begin{aligned}
        m_1 &= s_1 - s_2 s_5 + s_4 s_5 - s_3, &
        m_2 &= P_a s_3 - P_a s_4 s_5 - \hat\sigma_e^2 s_5,\\
        m_3 &= s_2 - s_4, & m_4 &= P_a s_4 + \hat\sigma_e^2.
        \end{aligned}
    """
    p_a = np.asarray(p_a, float)
    m1 = s["s4"] * s["s5"] - _wedge(s) - s["s3"]
    m2 = p_a * s["s3"] - p_a * s["s4"] * s["s5"] - var_ne * s["s5"]
    m3 = s["s2"] - s["s4"]
    m4 = p_a * s["s4"] + var_ne
    return m1, m2, m3, m4


# --------------------------------------------------------------------------- Dinkelbach
def dinkelbach(
    m1: ArrayLike, m2: ArrayLike, m3: ArrayLike, m4: ArrayLike, p_a: ArrayLike,
    rtol: float = 1e-13, maxiter: int = 100,
) -> OptimizeResult:
    r"""Minimise :math:`(m_1P^2 + m_2P)/(m_3P + m_4)` over :math:`0 \le P \le P_a`, C/J Algorithm 1.

    Dinkelbach's method: with :math:`\beta_t` the ratio at :math:`P_{t-1}`, solve
    :math:`\min_P y(P) = m_1P^2 + m_2P - \beta_t(m_3P + m_4)` exactly (C(31); J(31)
    prints ``+ beta``, corrected in SPEC 9) among the candidates :math:`0`, :math:`P_a`
    and the stationary point :math:`(\beta_t m_3 - m_2)/(2m_1)` when :math:`m_1 > 0`
    and it lies in :math:`[0, P_a]`. Start: :math:`P_0 = P_a`. Stop when
    :math:`|y(P_t)| \le` ``rtol`` times the magnitude of its terms. Since each
    sub-problem is solved globally, the iteration converges to the global minimum.

    The denominator must be positive on :math:`[0, P_a]` (it is
    :math:`\sigma_E^2 + \hat\sigma_e^2`).

    Returns
    -------
    OptimizeResult
        ``x``: optimal :math:`P_S`; ``fun``: minimal ratio (:math:`-\alpha`);
        ``extra['beta']``: final :math:`\beta`; ``history``: :math:`\beta_t`.

    Examples
    --------
    Minimise :math:`(P^2 - 4P)/1` on :math:`[0, 5]`: the minimum is at 2.

    >>> res = dinkelbach(1.0, -4.0, 0.0, 1.0, 5.0)
    >>> float(res.x), float(res.fun)
    (2.0, -4.0)
    """
    m1, m2, m3, m4, p_a = (np.array(v, dtype=float) for v in np.broadcast_arrays(m1, m2, m3, m4, p_a))
    if m1.size == 1:  # one scenario: the same iteration on Python floats, ~10x less overhead
        res = _dinkelbach_scalar(*(float(v.reshape(-1)[0]) for v in (m1, m2, m3, m4, p_a)), rtol, maxiter)
        x, fun, beta, nit, hist, ok = res
        shape = m1.shape
        return OptimizeResult(
            x=np.full(shape, x), fun=np.full(shape, fun), success=ok,
            message="converged" if ok else f"maxiter={maxiter} reached", nit=nit,
            history=np.array(hist).reshape(-1, *shape), extra={"beta": np.full(shape, beta)})

    def ratio(p):
        return (m1 * p * p + m2 * p) / (m3 * p + m4)

    p = p_a.copy()
    beta = ratio(p)
    history = [beta.copy()]
    done = np.zeros(p.shape, dtype=bool)
    nit = 0
    pos = m1 > 0
    for nit in range(1, maxiter + 1):
        lin = m2 - beta * m3
        with np.errstate(divide="ignore", invalid="ignore"):
            stat = -lin / (2.0 * m1)
        stat = np.where(pos & (stat > 0) & (stat < p_a), stat, 0.0)
        # y(P) + beta m4 for the candidates 0, P_a and the stationary point.
        y_pa = (m1 * p_a + lin) * p_a
        y_st = (m1 * stat + lin) * stat
        p_new = np.where(y_pa < 0.0, p_a, 0.0)
        p_new = np.where(y_st < np.minimum(y_pa, 0.0), stat, p_new)
        y_new = (m1 * p_new + lin) * p_new - beta * m4
        scale = np.abs(beta) * (np.abs(m3) * p_new + np.abs(m4)) + np.abs(m1) * p_new**2 + np.abs(m2) * p_new
        conv = np.abs(y_new) <= rtol * scale + _TINY
        p = np.where(done, p, p_new)
        beta = np.where(done, beta, ratio(p))
        history.append(beta.copy())
        done |= conv
        if done.all():
            break
    return OptimizeResult(
        x=p, fun=ratio(p), success=bool(done.all()),
        message="converged" if done.all() else f"maxiter={maxiter} reached",
        nit=nit, history=np.array(history), extra={"beta": beta},
    )


def _dinkelbach_scalar(m1, m2, m3, m4, p_a, rtol, maxiter):
    """:func:`dinkelbach` for one problem, step for step, on Python floats."""
    def ratio(p):
        return (m1 * p * p + m2 * p) / (m3 * p + m4)

    p = p_a
    beta = ratio(p)
    hist = [beta]
    nit, ok = 0, False
    for nit in range(1, maxiter + 1):
        lin = m2 - beta * m3
        p_new, y_best = 0.0, 0.0                     # y(P) + beta m4 at P = 0
        y_pa = (m1 * p_a + lin) * p_a
        if y_pa < y_best:
            p_new, y_best = p_a, y_pa
        if m1 > 0:
            st = -lin / (2.0 * m1)
            if 0.0 < st < p_a and (m1 * st + lin) * st < min(y_pa, 0.0):
                p_new, y_best = st, (m1 * st + lin) * st
        y_new = y_best - beta * m4
        scale = abs(beta) * (abs(m3) * p_new + abs(m4)) + abs(m1) * p_new**2 + abs(m2) * p_new
        p = p_new
        beta = ratio(p)
        hist.append(beta)
        if abs(y_new) <= rtol * scale + _TINY:
            ok = True
            break
    return p, ratio(p), beta, nit, hist, ok


# --------------------------------------------------------------------------- water-filling
def waterfill_coefficients(s: dict[str, np.ndarray], p_s: ArrayLike, var_ne: ArrayLike) -> tuple[np.ndarray, ...]:
    r"""Coefficients of :math:`-\alpha_k = (y_1P_{a,k} + y_2)/(y_3P_{a,k} + y_4)` at fixed :math:`P_{S,k}`, J(33).

    .. math::
        \begin{aligned}
        y_1 &= P_S(s_3 - s_4 s_5), & y_2 &= P_S^2(s_1 - s_2s_5 + s_4s_5 - s_3) - P_S\hat\sigma_e^2 s_5,\\
        y_3 &= s_4, & y_4 &= P_S(s_2 - s_4) + \hat\sigma_e^2.
        \end{aligned}
    """
    p_s = np.asarray(p_s, float)
    y1 = p_s * (s["s3"] - s["s4"] * s["s5"])
    y2 = p_s**2 * (s["s4"] * s["s5"] - _wedge(s) - s["s3"]) - p_s * var_ne * s["s5"]
    y3 = s["s4"] * np.ones_like(p_s)
    y4 = p_s * (s["s2"] - s["s4"]) + var_ne
    return y1, y2, y3, y4


def waterfill_objective(y: tuple[np.ndarray, ...], p_a: ArrayLike, var_na: ArrayLike, var_nb: ArrayLike) -> np.ndarray:
    r"""Per-user optimiser objective :math:`C_k(P_{a,k})`, J(34), in the :math:`\alpha` form.

    .. math:: C_k = \log_2\Big(1 + \frac{\alpha_k^2}{(\hat\sigma_a^2+\hat\sigma_b^2)\alpha_k
              + \hat\sigma_a^2\hat\sigma_b^2}\Big),\quad
              \alpha_k = -\frac{y_1P_{a,k} + y_2}{y_3P_{a,k} + y_4}
    """
    y1, y2, y3, y4 = y
    p_a = np.asarray(p_a, float)
    a = -(y1 * p_a + y2) / (y3 * p_a + y4)
    return skr_of_alpha(a, var_na, var_nb)


def _wf_slope(p, y, c, d):
    """dC/dP (bits/W) and d log(dC/dP)/dP for the water-filling objective J(37)."""
    y1, y2, y3, y4 = y
    den = y3 * p + y4
    a = np.maximum(-(y1 * p + y2) / den, 0.0)
    da = -(y1 * y4 - y2 * y3) / (den * den)
    q1 = c * a * a + 2.0 * d * a
    q2 = c * a + d
    q3 = q2 + a * a
    slope = q1 / (q2 * q3) * da / _LN2
    with np.errstate(divide="ignore", invalid="ignore"):
        dlog = da * ((2.0 * c * a + 2.0 * d) / q1 - c / q2 - (c + 2.0 * a) / q3) - 2.0 * y3 / den
    return slope, dlog


def _wf_slope_scalar(p, y1, y2, y3, y4, c, d):
    """:func:`_wf_slope` on Python floats."""
    den = y3 * p + y4
    a = max(-(y1 * p + y2) / den, 0.0)
    da = -(y1 * y4 - y2 * y3) / (den * den)
    q1 = c * a * a + 2.0 * d * a
    q2 = c * a + d
    q3 = q2 + a * a
    slope = q1 / (q2 * q3) * da / _LN2
    if q1 > 0 and q2 > 0:
        dlog = da * ((2.0 * c * a + 2.0 * d) / q1 - c / q2 - (c + 2.0 * a) / q3) - 2.0 * y3 / den
    else:
        dlog = math.nan
    return slope, dlog


def _newton_step(x, v, dv, lo, hi):
    """Safeguarded Newton step for a decreasing function: bisection when Newton leaves (lo, hi)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        xn = x - v / dv
    bad = ~np.isfinite(xn) | (xn <= lo) | (xn >= hi) | ~(dv < 0)
    xn = np.where(bad, 0.5 * (lo + hi), xn)
    return np.where(v == 0, x, xn)


def _inner(yk, ck, dk, lo, hi, x, log_mu, xtol, maxiter=60):
    """Solve ``log C_k'(P) = log mu`` on [lo, hi] for every element (1-D arrays), warm start ``x``."""
    x = np.clip(x, lo, hi)
    lo, hi = lo.copy(), hi.copy()
    idx = np.flatnonzero(hi > lo)
    for _ in range(maxiter):
        if idx.size == 0:
            break
        xi = x[idx]
        sl, dl = _wf_slope(xi, tuple(v[idx] for v in yk), ck[idx], dk[idx])
        v = np.log(np.maximum(sl, _TINY)) - log_mu[idx]
        l = np.where(v > 0, xi, lo[idx])
        h = np.where(v < 0, xi, hi[idx])
        xn = _newton_step(xi, v, dl, l, h)
        lo[idx], hi[idx], x[idx] = l, h, xn
        keep = (np.abs(xn - xi) > xtol[idx]) & (h - l > xtol[idx]) & (v != 0)
        idx = idx[keep]
    return x


def _waterfill_scalar(y, p_s, p_max, c, d, p_init, rtol, maxiter):
    """:func:`waterfill` for one scenario on Python floats (K users)."""
    n = len(p_s)
    ys = list(zip(*y))
    slope_lo = [_wf_slope_scalar(p_s[k], *ys[k], c[k], d[k])[0] for k in range(n)]
    slope_hi = [_wf_slope_scalar(p_max, *ys[k], c[k], d[k])[0] for k in range(n)]
    active = [sl > 0 for sl in slope_lo]
    if not any(active):
        return list(p_init), 1.0, 0
    mu_hi = max(sl for sl, act in zip(slope_lo, active) if act)
    mu_lo = min(max(min(sl for sl, act in zip(slope_hi, active) if act), _TINY), mu_hi)
    lmu_lo, lmu_hi = math.log(mu_lo), math.log(mu_hi)
    p = [min(max(p_init[k], p_s[k]), p_max) for k in range(n)]
    sl0 = [_wf_slope_scalar(p[k], *ys[k], c[k], d[k])[0] for k in range(n)]
    pos = [v for v in sl0 if v > 0]
    lmu = math.log(sum(pos) / len(pos)) if pos else 0.5 * (lmu_lo + lmu_hi)
    if not lmu_lo < lmu < lmu_hi:
        lmu = 0.5 * (lmu_lo + lmu_hi)
    xtol = rtol * p_max
    nit = 0
    for nit in range(1, maxiter + 1):
        mu = math.exp(lmu)
        total, dtot = 0.0, 0.0
        for k in range(n):
            if not active[k] or slope_lo[k] <= mu:
                p[k] = p_s[k]
                continue
            if slope_hi[k] >= mu:
                p[k] = p_max
                continue
            lo, hi, x = p_s[k], p_max, min(max(p[k], p_s[k]), p_max)
            dl = math.nan
            for _ in range(60):
                sl, dl = _wf_slope_scalar(x, *ys[k], c[k], d[k])
                v = math.log(max(sl, _TINY)) - lmu
                if v > 0:
                    lo = x
                elif v < 0:
                    hi = x
                else:
                    break
                xn = x - v / dl if (dl < 0 and math.isfinite(dl)) else math.nan
                if not (lo < xn < hi):
                    xn = 0.5 * (lo + hi)
                step, x = abs(xn - x), xn
                if step <= xtol or hi - lo <= xtol:
                    break
            p[k] = x
            if dl < 0 and math.isfinite(dl):
                dtot += 1.0 / dl
        for k in range(n):
            total += p[k]
        v = math.log(total) - math.log(p_max)
        if v > 0:
            lmu_lo = lmu
        elif v < 0:
            lmu_hi = lmu
        dv = dtot / total
        ln = lmu - v / dv if dv < 0 else math.nan
        if not (lmu_lo < ln < lmu_hi):
            ln = 0.5 * (lmu_lo + lmu_hi)
        if abs(v) <= 1e-14 or abs(ln - lmu) <= 1e-13 or lmu_hi - lmu_lo <= 1e-13:
            break
        lmu = ln
    return p, math.exp(lmu), nit


def waterfill(
    y: tuple[np.ndarray, ...], p_s: ArrayLike, p_max: ArrayLike, var_na: ArrayLike, var_nb: ArrayLike,
    p_init: ArrayLike | None = None, rtol: float = 1e-12, maxiter: int = 100,
) -> OptimizeResult:
    r"""Maximise :math:`\sum_k C_k(P_{a,k})` s.t. :math:`\sum_k P_{a,k} = P_{\max}`, :math:`P_{a,k} \ge P_{S,k}`, J(36)-(40).

    KKT (J(40)): :math:`C_k'(P_{a,k}) = \mu` for users above their lower bound,
    :math:`C_k'(P_{S,k}) \le \mu` for users at it. J Algorithm 2 searches the water
    level :math:`\mu` (outer) and, per user, :math:`P_{a,k} = g_k(\mu)` (inner).
    Both searches here are safeguarded Newton iterations inside the bisection
    brackets of Algorithm 2 (outer on :math:`\log\mu`, inner on :math:`\log C_k'`),
    with the analytic slopes of J(37); they fall back to bisection whenever Newton
    leaves the bracket. Each scenario of a batch stops on its own (convergence masks),
    the inner search is warm-started from the previous outer step (and from
    ``p_init``), and one scenario runs on Python floats (no array overhead).

    Parameters
    ----------
    y : tuple of ndarray, each ``(..., K)``
        :func:`waterfill_coefficients`.
    p_s : array_like, ``(..., K)``
        Lower bounds :math:`P_{S,k}`.
    p_max : array_like, ``(...)``
        Budget.
    var_na, var_nb : array_like, broadcastable to ``(..., K)``
        Optimiser noise (worst-case BS noise, J III-D) and user noise.
    p_init : array_like, optional
        Warm start, and the allocation kept for batch elements whose objective does
        not depend on :math:`P_a` (all slopes zero). Default: equal split above the bounds.
    rtol : float
        Relative tolerance of the inner search (times :math:`P_{\max}`).
    maxiter : int
        Outer iterations per scenario.

    Returns
    -------
    OptimizeResult
        ``x``: :math:`P_{a,k}` ``(..., K)``; ``fun``: :math:`\sum_k C_k`;
        ``extra['mu']``: water level; ``nit``: outer iterations (max over the batch).
    """
    p_s = np.asarray(p_s, float)
    shape = np.broadcast_shapes(p_s.shape, *(np.shape(v) for v in y))
    n_users = shape[-1]
    y = tuple(np.broadcast_to(np.asarray(v, float), shape) for v in y)
    p_s = np.broadcast_to(p_s, shape)
    p_max_b = np.broadcast_to(np.asarray(p_max, float), shape[:-1])
    c_full = np.broadcast_to(np.asarray(var_na, float) + np.asarray(var_nb, float), shape)
    d_full = np.broadcast_to(np.asarray(var_na, float) * np.asarray(var_nb, float), shape)
    if p_init is None:
        p_init = p_s + (p_max_b - p_s.sum(axis=-1))[..., None] / n_users
    p_init = np.broadcast_to(np.asarray(p_init, float), shape)

    flat = lambda a: np.ascontiguousarray(a).reshape(-1, n_users)  # noqa: E731
    Y = tuple(flat(v) for v in y)
    PS, C, D, P0 = flat(p_s), flat(c_full), flat(d_full), flat(p_init)
    PM = np.ascontiguousarray(p_max_b).reshape(-1)
    n_b = PM.size
    if n_b == 1:
        p, mu, nit = _waterfill_scalar([v[0].tolist() for v in Y], PS[0].tolist(), float(PM[0]),
                                       C[0].tolist(), D[0].tolist(), P0[0].tolist(), rtol, maxiter)
        P = np.array([p])
        MU = np.array([mu])
    else:
        P, MU, nit = _waterfill_batch(Y, PS, PM, C, D, P0, rtol, maxiter)
    # Distribute the sum residual (<= rtol) on the users above their bounds.
    free_mass = np.maximum(P - PS, 0.0)
    fm = free_mass.sum(-1, keepdims=True)
    resid = PM - P.sum(axis=-1)
    share = np.where(fm > 0, free_mass / np.where(fm > 0, fm, 1.0), 1.0 / n_users)
    P = P + resid[:, None] * share
    p_a = P.reshape(shape)
    fun = waterfill_objective(y, p_a, var_na, var_nb).sum(axis=-1)
    ok = np.abs(p_a.sum(-1) - p_max_b) <= 1e-9 * p_max_b
    return OptimizeResult(x=p_a, fun=fun, success=bool(np.all(ok)),
                          message="converged" if np.all(ok) else "power budget not met",
                          nit=nit, history=fun[None], extra={"mu": MU.reshape(shape[:-1])})


def _waterfill_batch(Y, PS, PM, C, D, P0, rtol, maxiter):
    """The batched water-filling on flattened ``(B, K)`` arrays, with per-scenario masks."""
    n_b, n_users = PS.shape
    pm = np.broadcast_to(PM[:, None], PS.shape)
    slope_lo, _ = _wf_slope(PS, Y, C, D)
    slope_hi, _ = _wf_slope(pm, Y, C, D)
    active = slope_lo > 0
    any_active = active.any(axis=-1)
    mu_hi = np.where(any_active, slope_lo.max(axis=-1, initial=0.0, where=active), 1.0)
    mu_lo = np.where(any_active, slope_hi.min(axis=-1, initial=np.inf, where=active), 1.0)
    mu_lo = np.minimum(np.maximum(mu_lo, _TINY), mu_hi)
    lo_mu, hi_mu = np.log(mu_lo), np.log(mu_hi)
    P = np.clip(P0, PS, pm).copy()
    sl0, _ = _wf_slope(P, Y, C, D)
    pos = sl0 > 0
    cnt = pos.sum(-1)
    mean_slope = np.where(pos, sl0, 0.0).sum(-1) / np.maximum(cnt, 1)
    L = np.where(cnt > 0, np.log(np.where(cnt > 0, mean_slope, 1.0)), 0.5 * (lo_mu + hi_mu))
    L = np.where((L > lo_mu) & (L < hi_mu), L, 0.5 * (lo_mu + hi_mu))
    MU = np.exp(L)
    P = np.where(any_active[:, None], P, P0)
    xtol_all = rtol * pm
    idx = np.flatnonzero(any_active)
    nit = 0
    for nit in range(1, maxiter + 1):
        if idx.size == 0:
            break
        li = L[idx]
        mu = np.exp(li)[:, None]
        sl_lo, sl_hi, act = slope_lo[idx], slope_hi[idx], active[idx]
        at_lo = ~act | (sl_lo <= mu)
        at_hi = act & (sl_hi >= mu)
        free = ~(at_lo | at_hi)
        psi, pmi = PS[idx], pm[idx]
        fixed = np.where(at_lo, psi, pmi)
        lo = np.where(free, psi, fixed)
        hi = np.where(free, pmi, fixed)
        pi = np.where(free, P[idx], fixed)
        e = np.flatnonzero(free.ravel())
        flat_p = pi.ravel()
        if e.size:
            yk = tuple(v[idx].ravel()[e] for v in Y)
            flat_p[e] = _inner(yk, C[idx].ravel()[e], D[idx].ravel()[e], lo.ravel()[e], hi.ravel()[e],
                               flat_p[e], np.broadcast_to(li[:, None], free.shape).ravel()[e],
                               xtol_all[idx].ravel()[e])
        pi = flat_p.reshape(pi.shape)
        P[idx] = pi
        total = pi.sum(axis=-1)
        _, dl = _wf_slope(pi, tuple(v[idx] for v in Y), C[idx], D[idx])
        with np.errstate(divide="ignore", invalid="ignore"):
            dp = np.where(free & (dl < 0), 1.0 / dl, 0.0)
        v = np.log(total) - np.log(PM[idx])
        dv = dp.sum(axis=-1) / total
        l_mu = np.where(v > 0, li, lo_mu[idx])
        h_mu = np.where(v < 0, li, hi_mu[idx])
        ln = _newton_step(li, v, dv, l_mu, h_mu)
        lo_mu[idx], hi_mu[idx] = l_mu, h_mu
        done = (np.abs(v) <= 1e-14) | (np.abs(ln - li) <= 1e-13) | (h_mu - l_mu <= 1e-13)
        MU[idx] = np.exp(li)
        L[idx] = np.where(done, li, ln)
        idx = idx[~done]
    return P, MU, nit


# --------------------------------------------------------------------------- alternating optimisation
def alternating(
    s: dict[str, np.ndarray], p_max: ArrayLike, var_na: ArrayLike, var_nb: ArrayLike, var_ne: ArrayLike,
    tol: float = 1e-9, maxiter: int = 100,
) -> OptimizeResult:
    r"""SVD w/ PA: alternating optimisation of J IV from :math:`P_{a,k} = P_{\max}/K`.

    Each iteration runs (a) Dinkelbach per user at fixed :math:`P_{a,k}` (J Alg. 1),
    then (b) water-filling over :math:`P_{a,k}` at fixed :math:`P_{S,k}` (J Alg. 2).
    A scenario stops when its sum objective :math:`\sum_k C_k` changes by less than
    ``tol`` (relative) over one iteration; the others go on (convergence masks).
    Step (a) is solved globally; step (b) finds the KKT point of J(40), the global
    optimum where each :math:`C_k` is concave on :math:`[P_{S,k}, \infty)` (J IV-B-1).
    That assumption fails at very low SNR (SKRs of ~1e-3 bit), where a water-filling
    step that would lower the objective is rejected; so the objective never
    decreases. For K = 1, step (b) is trivial: one Dinkelbach run is C's single-user
    optimum.

    Parameters
    ----------
    s : dict
        :func:`view_coefficients` (or :func:`svd_coefficients`), each ``(..., K)``.
    p_max : array_like ``(...)``
    var_na : array_like
        BS noise used by the optimiser: the worst case :math:`P_{\max}\sigma_a^2/(VP_b)`
        (J III-D, SPEC 5).
    var_nb, var_ne : array_like
        User and Eve estimation noise.
    tol : float
    maxiter : int

    Returns
    -------
    OptimizeResult
        ``x``: :math:`P_{a,k}`; ``extra['p_s']``: :math:`P_{S,k}`; ``fun``: the
        optimiser's sum objective; ``history``: that objective after every half-step
        (start, then after (a) and (b) of each iteration; a scenario that stopped keeps
        its last value); ``nit``: iterations of the slowest scenario.
    """
    shape = s["s5"].shape
    n_users = shape[-1]
    def flat(a):
        a = np.asarray(a, float)
        if a.shape != shape:
            a = np.broadcast_to(a, shape)
        return np.ascontiguousarray(a).reshape(-1, n_users)

    S = {k: flat(v) for k, v in s.items()}
    PM = np.ascontiguousarray(np.broadcast_to(np.asarray(p_max, float), shape[:-1])).reshape(-1)
    NA, NB, NE = flat(var_na), flat(var_nb), flat(var_ne)
    n_b = PM.size
    p_a = np.repeat(PM[:, None] / n_users, n_users, axis=1)
    p_s = p_a / 2.0

    def objective(i, ps, pa):
        si = {k: v[i] for k, v in S.items()}
        return skr_of_alpha(alpha_of_powers(si, ps, pa - ps, NE[i]), NA[i], NB[i]).sum(-1)

    every = np.arange(n_b)
    cur = objective(every, p_s, p_a)
    history = [cur.copy()]
    idx = every
    nit = 0
    for nit in range(1, maxiter + 1):
        si = {k: v[idx] for k, v in S.items()}
        pa_i = p_a[idx]
        m = dinkelbach_coefficients(si, pa_i, NE[idx])
        if idx.size == 1:  # one scenario: K scalar Dinkelbach runs, no array overhead
            x = [_dinkelbach_scalar(*(float(v[0, k]) for v in (*m, pa_i)), 1e-13, 100)[0]
                 for k in range(n_users)]
            ps_i = np.minimum(np.array([x]), pa_i)
        else:
            ps_i = np.minimum(dinkelbach(*m, pa_i).x, pa_i)
        p_s[idx] = ps_i
        prev = cur[idx].copy()
        obj_a = objective(idx, ps_i, pa_i)
        cur[idx] = obj_a
        history.append(cur.copy())
        if n_users == 1:  # P_a = P_max: Dinkelbach alone is the global optimum (C Alg. 1)
            idx = idx[:0]
            history.append(cur.copy())
            break
        wf = waterfill(waterfill_coefficients(si, ps_i, NE[idx]), ps_i, PM[idx], NA[idx], NB[idx], p_init=pa_i)
        p_new = np.maximum(wf.x, ps_i)
        # J IV-B-1 assumes each C_k concave on [P_S, inf); at very low SNR it is not and
        # the KKT point can be worse than the current one: then keep the current P_a.
        obj_new = objective(idx, ps_i, p_new)
        better = obj_new >= obj_a
        p_a[idx] = np.where(better[:, None], p_new, pa_i)
        cur[idx] = np.where(better, obj_new, obj_a)
        history.append(cur.copy())
        done = np.abs(cur[idx] - prev) <= tol * np.maximum(np.abs(cur[idx]), _TINY)
        idx = idx[~done]
        if idx.size == 0:
            break
    success = idx.size == 0
    out_shape = shape[:-1]
    return OptimizeResult(
        x=p_a.reshape(shape), fun=cur.reshape(out_shape), success=success,
        message="converged" if success else f"maxiter={maxiter} reached",
        nit=nit, history=np.array(history).reshape(-1, *out_shape), extra={"p_s": p_s.reshape(shape)},
    )
