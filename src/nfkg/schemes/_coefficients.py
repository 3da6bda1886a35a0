r"""The coefficients of SVD power allocation: :math:`s_{1..5,k}` of J(42) and the forms of
:math:`\alpha_k` that Dinkelbach (J(29)) and water-filling (J(33)) work on.

With :math:`W_k = P_{S,k} R_k + P_{N,k} R_{ek}` the problem is described by the five
scalars of J(42) per user,

.. math::
    s_1 = |f^H R h|^2,\; s_2 = h^H R h,\; s_3 = \Re\{(f^H R_e h)(h^H R f)\},\;
    s_4 = h^H R_e h,\; s_5 = f^H R f,

so no N x N matrix is needed. For every SVD design :math:`R_e f = 0`, hence :math:`s_3 = 0`.
Every function here is elementwise over a batch shape ``(..., K)``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ..engine.reduced import ShapeView
from ..engine.subspace import Shape

__all__ = ["svd_coefficients", "view_coefficients", "alpha_of_powers", "dinkelbach_coefficients",
           "waterfill_coefficients"]


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
