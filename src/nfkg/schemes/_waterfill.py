r"""Water-filling of the users' total powers at fixed signal powers, J(32)-(40), J Algorithm 2.

Maximises :math:`\sum_k C_k(P_{a,k})` under the budget :math:`\sum_k P_{a,k} = P_{\max}` and the
bounds :math:`P_{a,k} \ge P_{S,k}`: safeguarded Newton iterations on the water level and, per
user, on the slope of J(37), inside the bisection brackets of Algorithm 2; batched over
scenarios (each stops on its own), or on Python floats for one scenario.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from ..engine.secrecy import skr_of_alpha
from ._result import OptimizeResult

__all__ = ["waterfill_objective", "waterfill"]

_LN2 = np.log(2.0)
_TINY = np.finfo(float).tiny


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
