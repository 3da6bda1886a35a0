r"""A robust SVD design: null and jam the span of several positions of each Eve's uncertainty region.

Instead of the estimated Eve channel alone, the design uses the channels of five sigma
points of each Eve's region (:func:`region_channels`): the SVD precoders null their span and
jam it (isotropically in the complement, or targeted at it). :func:`robust_csi_error`
scores it like :func:`nfkg.studies.eve_csi.csi_error` scores the registered schemes.

Contents
--------
region_channels
    Channels of the sigma points of each Eve's uncertainty region.
robust_svd_covariance
    The robust SVD precoders, in N-space.
robust_csi_error
    Its sum SKR at the true positions over D estimates.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ..engine.mismatch import score_mismatched
from ..engine.subspace import PrecoderCovariance, Shape
from .eve_csi import CsiResult, _nonneg, _single, perturb_positions

__all__ = ["region_channels", "robust_svd_covariance", "robust_csi_error"]


def region_channels(ula, r: ArrayLike, psi: ArrayLike, sigma_r: ArrayLike, sigma_psi: ArrayLike,
                    spread: float = 2.0) -> np.ndarray:
    r"""Channels of the sigma points of each Eve's uncertainty region.

    The five positions :math:`(\hat r, \hat\psi)`, :math:`(\hat r \pm c\sigma_r, \hat\psi)`,
    :math:`(\hat r, \hat\psi \pm c\sigma_\psi)` (``c = spread``), clipped to
    :math:`r \ge 1` cm and :math:`|\psi| \le \pi/2`.

    Parameters
    ----------
    ula : ULA
    r, psi : array_like, shape ``(..., K)``
        Estimated positions.
    sigma_r, sigma_psi : array_like, broadcastable to ``(K,)``
    spread : float
        c, in standard deviations.

    Returns
    -------
    ndarray, complex, shape ``(..., K, 5, N)``
    """
    r, psi = np.broadcast_arrays(np.asarray(r, dtype=float), np.asarray(psi, dtype=float))
    sr = np.broadcast_to(_nonneg("sigma_r", sigma_r), r.shape) * spread
    sp = np.broadcast_to(_nonneg("sigma_psi", sigma_psi), r.shape) * spread
    zero = np.zeros_like(r)
    dr = np.stack([zero, sr, -sr, zero, zero], axis=-1)
    dp = np.stack([zero, zero, zero, sp, -sp], axis=-1)
    rr = np.maximum(r[..., None] + dr, 0.01)
    pp = np.clip(psi[..., None] + dp, -np.pi / 2, np.pi / 2)
    return ula.channel(rr, pp)


def robust_svd_covariance(f: np.ndarray, h_region: np.ndarray, p_max: ArrayLike,
                          jamming: str = "isotropic", rtol: float | None = None) -> PrecoderCovariance:
    r"""SVD precoding that nulls (and jams) the span of each Eve's uncertainty region.

    J(13)-(16) with every Eve channel :math:`h_i` replaced by the ``M`` channels
    :math:`H_i = [h_i^{(1)}..h_i^{(M)}]` of :func:`region_channels`:
    :math:`\tilde R_k = [f_{i\ne k}, H_{i\ne k}]`, :math:`\tilde R_{ek} = [f_1..f_K, H_{i\ne k}]`,
    signal :math:`P_\perp(\tilde R_k)/(N - r_k)` (isotropic, J(14)) and jamming
    :math:`P_\perp(\tilde R_{ek})/(N - r_{ek})` (``'isotropic'``, J(16)) or, ``'targeted'``,
    :math:`P_\perp H_k H_k^H P_\perp/\|P_\perp H_k\|_F^2` with :math:`P_\perp = P_\perp(\tilde R_{ek})`:
    The targeted jamming :math:`qq^H` averaged over Eve k's region (beams on the left
    singular vectors of :math:`P_\perp H_k`, power in proportion to the squared singular values). Equal split,
    :math:`P_{S,k} = P_{N,k} = P_{\max}/(2K)` (SVD w/o PA).

    Parameters
    ----------
    f : ndarray, shape ``(..., K, N)``
        Users' channels (known exactly).
    h_region : ndarray, shape ``(..., K, M, N)``
        Channels of each Eve's region.
    p_max : array_like, ``(...)``
    jamming : {'isotropic', 'targeted'}
    rtol : float, optional
        Rank tolerance of the bases (:func:`~nfkg.engine.subspace.orthonormal_basis`).

    Returns
    -------
    PrecoderCovariance
    """
    from ..engine.subspace import orthonormal_basis

    if jamming not in ("isotropic", "targeted"):
        raise ValueError(f"jamming: must be 'isotropic' or 'targeted', got {jamming!r}")
    n_users, n_ant = f.shape[-2], f.shape[-1]
    m = h_region.shape[-2]
    batch = np.broadcast_shapes(f.shape[:-2], h_region.shape[:-3])
    f = np.broadcast_to(f, (*batch, n_users, n_ant))
    h_region = np.broadcast_to(h_region, (*batch, n_users, m, n_ant))
    sig_cols, jam_cols = [], []
    for k in range(n_users):
        others = [i for i in range(n_users) if i != k]
        hf = h_region[..., others, :, :].reshape(*batch, (n_users - 1) * m, n_ant)
        sig_cols.append(np.concatenate([f[..., others, :], hf], axis=-2))
        jam_cols.append(np.concatenate([f, hf], axis=-2))
    sig_basis, sig_rank = orthonormal_basis(np.swapaxes(np.stack(sig_cols, axis=-3), -1, -2), rtol)
    jam_basis, jam_rank = orthonormal_basis(np.swapaxes(np.stack(jam_cols, axis=-3), -1, -2), rtol)
    signal = Shape(sig_basis, sig_rank, complement=True)
    p = np.broadcast_to(np.asarray(p_max, dtype=float)[..., None] / n_users, (*batch, n_users)) / 2.0
    if jamming == "isotropic":
        shapes = (signal, Shape(jam_basis, jam_rank, complement=True))
        powers = np.stack([p, p], axis=-1)
    else:
        # region-averaged targeted jamming P_perp H_k H_k^H P_perp / tr(.): beams on the left
        # singular vectors of P_perp H_k, power in proportion to the squared singular values
        own = np.swapaxes(h_region, -1, -2)                                   # (..., K, N, M)
        res = own - np.einsum("...nm,...mp->...np", jam_basis,
                              np.einsum("...nm,...np->...mp", jam_basis.conj(), own))
        u, sv, _ = np.linalg.svd(res, full_matrices=False)
        tol = (max(n_ant, m) * np.finfo(float).eps if rtol is None else rtol) * sv[..., :1]
        w = np.where(sv > tol, sv * sv, 0.0)
        tot = w.sum(axis=-1, keepdims=True)
        w = np.where(tot > 0, w / np.where(tot > 0, tot, 1.0), 0.0)
        beams = [Shape(u[..., i:i + 1] * (w[..., i] > 0)[..., None, None], (w[..., i] > 0).astype(int),
                       complement=False) for i in range(m)]
        shapes = (signal, *beams)
        powers = np.concatenate([p[..., None], p[..., None] * w], axis=-1)
    return PrecoderCovariance(shapes, powers)


def robust_csi_error(scenario, sigma_r: ArrayLike, sigma_psi: ArrayLike, draws: int = 32,
                     seed: int | np.random.Generator | None = 0, jamming: str = "isotropic",
                     spread: float = 2.0, rtol: float | None = None) -> CsiResult:
    r""":func:`~nfkg.studies.eve_csi.csi_error` for :func:`robust_svd_covariance` (scheme ``'robust-svd'``).

    Same draws as :func:`~nfkg.studies.eve_csi.csi_error` with the same seed. The region is centred on each
    estimate with the deviations the BS knows; with zero deviations the five sigma points
    coincide and the design is SVD w/o PA (``jamming='isotropic'``) or SVD w/o PA with
    targeted jamming.
    """
    from ..schemes.precoding import evaluate

    _single(scenario)
    ula = scenario.ula
    r_hat, psi_hat = perturb_positions(scenario.r_e, scenario.psi_e, sigma_r, sigma_psi, draws, seed,
                                       ula.n_ant, ula.spacing)
    f, h = scenario.channels()
    region = region_channels(ula, r_hat, psi_hat, sigma_r, sigma_psi, spread)
    cov = robust_svd_covariance(f, region, scenario.p_max, jamming, rtol)
    m = score_mismatched(cov, f, h, scenario)
    nominal = float(evaluate(scenario, "svd", "isotropic", jamming=jamming).sum_skr)
    return CsiResult(f"robust-svd ({jamming})", m.sum_skr, m.skr, r_hat, psi_hat, nominal)
