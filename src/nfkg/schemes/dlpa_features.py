"""KGSVD-Net's input: the per-scenario instance and its features (see :mod:`nfkg.schemes.dlpa`)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["FEATURES", "GLOBAL_FEATURES", "instance", "features", "feature_names"]

#: Per-user features, then the global one; defined in :mod:`nfkg.schemes.dlpa`'s docstring.
FEATURES = ("g5_db", "g2_db", "g4_db", "u_db", "s3n", "t_s", "t_n")
GLOBAL_FEATURES = ("c_db",)
_CLIP = {"g5": (-60.0, 200.0), "g2": (-60.0, 200.0), "g4": (-60.0, 200.0), "u": (-200.0, 0.0),
         "s3n": (-10.0, 10.0), "c": (-100.0, 100.0)}


def instance(s: dict[str, np.ndarray], t_s: ArrayLike, t_n: ArrayLike, p_max: ArrayLike, kappa: ArrayLike,
             var_nb: ArrayLike, var_ne: ArrayLike) -> dict[str, np.ndarray]:
    r"""The dimensionless instance of J(41)-(42) (see the module docstring).

    Parameters
    ----------
    s : dict
        :func:`nfkg.schemes.optimize.view_coefficients`: ``s1``..``s5`` and the exact ``w``, ``(..., K)``.
    t_s, t_n : array_like ``(..., K)``
        Traces of the signal and jamming shapes.
    p_max, kappa, var_nb, var_ne : array_like ``(...)``
        :math:`P_{\max}`, :math:`\sigma_a^2/(VP_b)`, :math:`\sigma_b^2/V`, :math:`\sigma_e^2/V`.

    Returns
    -------
    dict of ndarray (float64)
        ``g5, g2, g4, u, s3n, t_s, t_n`` ``(..., K)`` and ``c`` ``(...)``.
    """
    shape = np.broadcast_shapes(*(np.shape(v) for v in s.values()), np.shape(t_s), np.shape(t_n))
    col = lambda a: np.asarray(a, float)[..., None]  # noqa: E731
    pm, nb, ne = col(p_max), col(var_nb), col(var_ne)
    s2, s3, s4, s5 = (np.broadcast_to(np.asarray(s[k], float), shape) for k in ("s2", "s3", "s4", "s5"))
    w = np.broadcast_to(np.asarray(s["w"] if "w" in s else np.maximum(s2 * s5 - s["s1"], 0.0), float), shape)
    d25 = s2 * s5
    with np.errstate(divide="ignore", invalid="ignore"):
        u = np.where(d25 > 0, w / np.where(d25 > 0, d25, 1.0), 1.0)
        d45 = s4 * s5
        s3n = np.where(d45 > 0, s3 / np.where(d45 > 0, d45, 1.0), 0.0)
    c = np.asarray(kappa, float) * np.asarray(p_max, float) / np.asarray(var_nb, float)
    return {
        "g5": np.broadcast_to(pm * s5 / nb, shape).copy(),
        "g2": np.broadcast_to(pm * s2 / ne, shape).copy(),
        "g4": np.broadcast_to(pm * s4 / ne, shape).copy(),
        "u": np.clip(u, 0.0, 1.0),
        "s3n": s3n,
        "t_s": np.broadcast_to(np.asarray(t_s, float), shape).copy(),
        "t_n": np.broadcast_to(np.asarray(t_n, float), shape).copy(),
        "c": np.broadcast_to(c, shape[:-1]).copy(),
    }


def _db(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.clip(10.0 * np.log10(np.maximum(x, 0.0)), lo, hi)


def features(inst: dict[str, np.ndarray]) -> np.ndarray:
    """Unstandardised input features ``(..., 7K + 1)``: per user :data:`FEATURES`, then ``c_db``."""
    per_user = [_db(inst["g5"], *_CLIP["g5"]), _db(inst["g2"], *_CLIP["g2"]), _db(inst["g4"], *_CLIP["g4"]),
                _db(inst["u"], *_CLIP["u"]), np.clip(inst["s3n"], *_CLIP["s3n"]), inst["t_s"], inst["t_n"]]
    per_user = np.stack(per_user, axis=-1)  # (..., K, 7)
    flat = per_user.reshape(*per_user.shape[:-2], -1)
    return np.concatenate([flat, _db(inst["c"], *_CLIP["c"])[..., None]], axis=-1)


def feature_names(n_users: int) -> list[str]:
    """Names of the columns of :func:`features` for K users (``g5_db[1]`` ... counted from 1)."""
    return [f"{name}[{k + 1}]" for k in range(n_users) for name in FEATURES] + list(GLOBAL_FEATURES)
