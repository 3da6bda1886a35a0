r"""Dinkelbach's method for the signal power of one user, C/J Algorithm 1, C(28)-(31), J(28)-(31).

Minimises the ratio :math:`(m_1P^2 + m_2P)/(m_3P + m_4)` over :math:`0 \le P \le P_a`,
batched (every coefficient may carry a batch shape) or on Python floats for one problem.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ._result import OptimizeResult

__all__ = ["dinkelbach"]

_TINY = np.finfo(float).tiny


def dinkelbach(
    m1: ArrayLike, m2: ArrayLike, m3: ArrayLike, m4: ArrayLike, p_a: ArrayLike,
    rtol: float = 1e-13, maxiter: int = 100,
) -> OptimizeResult:
    r"""Minimise :math:`(m_1P^2 + m_2P)/(m_3P + m_4)` over :math:`0 \le P \le P_a`, C/J Algorithm 1.

    Dinkelbach's method: with :math:`\beta_t` the ratio at :math:`P_{t-1}`, solve
    :math:`\min_P y(P) = m_1P^2 + m_2P - \beta_t(m_3P + m_4)` exactly (C(31); J(31)
    prints ``+ beta``, a sign error) among the candidates :math:`0`, :math:`P_a`
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
