r"""Baseline schemes: no power optimisation, every user gets :math:`P_{\max}/K` on one shape.

Registry names and sources
--------------------------
``ras``
    RAS w/o P, J VII-A(a): :math:`w_k = p_k \mathbf 1/\sqrt N`.
``mrc``
    MRC, C V-B, J VII-A(b): :math:`w_k = p_k f_k/\|f_k\|`.
``zf``
    Zero-forcing beam focusing without artificial noise [ZF]:
    :math:`w_k = p_k u_k`, :math:`u_k = P_\perp([f_{i\ne k}, h_1..h_K]) f_k` normalised.
``rbf``
    Isotropic random beamforming [RBF]: :math:`W_k = (P_{\max}/K)\, I_N/N`.

In all four :math:`p_k \sim \mathcal{CN}(0, P_{\max}/K)`, drawn anew at every probing round:
this artificial randomness is the source of the key (the LoS channel itself is static).
``f_k`` is user k's channel and ``h_k`` that of Eve k, who targets user k.

Every shape is given as the :class:`~nfkg.engine.reduced.ShapeView` of the 2K channels
(:mod:`nfkg.engine.reduced`: one thin QR of the channels per scenario, no N x N matrix),
and its N-space realisation (:class:`~nfkg.engine.subspace.PrecoderCovariance`) is built on
demand for Monte Carlo probing and mismatch scoring.

References
----------
.. [ZF] Physical-layer key generation in near-field XL-MIMO (line of sight) with artificial
   randomness, zero-forcing precoding that nulls the eavesdropper and machine-learning-based
   beam focusing, KTH Royal Institute of Technology, IEEE conference paper, 2024 (ISBN
   979-8-3503-4319-9); http://kth.diva-portal.org/smash/record.jsf?pid=diva2:1899241
.. [RBF] M. G. Madiseh, S. W. Neville, and M. L. McGuire, "Applying beamforming to address
   temporal correlation in wireless channel characterization-based secret key generation,"
   IEEE Trans. Inf. Forensics Security, vol. 7, no. 4, pp. 1278-1287, Aug. 2012 (J's [18],
   C's [5]).

Contents
--------
equal_powers, zf_gains
"""

from __future__ import annotations

import numpy as np

from ..engine.reduced import ShapeView, beam_view, geometry, rank_tolerance
from ..engine.subspace import PrecoderCovariance, Shape, orthonormal_basis, project_out
from ..model.scenario import Scenario
from .registry import PrecodingResult, register_scheme

__all__ = ["equal_powers", "zf_gains"]


def equal_powers(scenario: Scenario) -> np.ndarray:
    r""":math:`P_{\max}/K` for every user, shape ``(..., K)`` [W] (J VII-A)."""
    k = scenario.n_users
    return np.broadcast_to(scenario.p_max[..., None] / k, (*scenario.batch_shape, k))


_equal_powers = equal_powers  # the name used before the split


def _one_shape(name: str, view: ShapeView, scenario: Scenario, realize) -> PrecodingResult:
    """A scheme with one shape per user and the equal split, no jamming."""
    p = equal_powers(scenario)
    return PrecodingResult(name, None, (view,), p[..., None], p_s=p * view.trace, p_n=np.zeros_like(p),
                           realize=realize)


@register_scheme("ras", "RAS w/o P: random amplitude scaling without beamforming (J VII-A(a))")
def _ras(scenario: Scenario, shaping: None = None) -> PrecodingResult:
    r"""RAS w/o P, J VII-A(a): :math:`w_k = p_k \mathbf 1_N/\sqrt N`, :math:`p_k \sim \mathcal{CN}(0, P_{\max}/K)`."""
    n, k = scenario.n_ant, scenario.n_users
    geo = geometry(scenario)
    inner = np.concatenate([geo.f.sum(axis=-1), geo.h.sum(axis=-1)], axis=-1).conj()  # x_p^H 1, (..., 2K)
    view = beam_view(np.broadcast_to(inner[..., None, :], (*inner.shape[:-1], k, 2 * k)),
                     np.full(inner.shape[:-1] + (k,), np.sqrt(n)))

    def realize():
        ones = np.full((*scenario.batch_shape, k, n), 1.0 + 0j)
        return PrecoderCovariance((Shape.beam(ones),), equal_powers(scenario)[..., None])

    return _one_shape("ras", view, scenario, realize)


@register_scheme("mrc", "MRC: random amplitude on the user's matched beam f_k/||f_k|| (C V-B, J VII-A(b))")
def _mrc(scenario: Scenario, shaping: None = None) -> PrecodingResult:
    r"""MRC, C V-B, J VII-A(b): :math:`w_k = p_k f_k/\|f_k\|`, :math:`p_k \sim \mathcal{CN}(0, P_{\max}/K)`."""
    k = scenario.n_users
    geo = geometry(scenario)
    gram = np.einsum("...rp,...rq->...pq", geo.coords.conj(), geo.coords)      # x_p^H x_q
    inner = np.swapaxes(gram[..., :, :k], -1, -2)                               # [k, p] = x_p^H f_k
    norm = np.sqrt(np.maximum(np.real(np.diagonal(gram, axis1=-2, axis2=-1))[..., :k], 0.0))
    view = beam_view(inner, norm)

    def realize():
        f, _ = scenario.channels()
        return PrecoderCovariance((Shape.beam(f),), equal_powers(scenario)[..., None])

    return _one_shape("mrc", view, scenario, realize)


# --------------------------------------------------------------------------- zero forcing
def _zf_columns(n_users: int) -> np.ndarray:
    """For each user k the columns ``[f_i (i != k), h_1..h_K]`` of ``[f_1..f_K, h_1..h_K]``, ``(K, 2K-1)``."""
    return np.array([[i for i in range(n_users) if i != k] + list(range(n_users, 2 * n_users))
                     for k in range(n_users)], dtype=int).reshape(n_users, 2 * n_users - 1)


def _zf_residual(x: np.ndarray, rtol: float) -> np.ndarray:
    r""":math:`P_\perp(A_k) f_k` for columns ``x`` ``(..., 2K, D)`` (the channels as rows, in any
    coordinates), ``(..., K, D)``; exactly 0 where it is round-off (``<= rtol ||f_k||``)."""
    n_users = x.shape[-2] // 2
    a = np.moveaxis(np.swapaxes(x, -1, -2)[..., _zf_columns(n_users)], -2, -3)   # (..., K, D, 2K-1)
    q, _ = orthonormal_basis(a, rtol)                                            # thin SVD of 2K-1 vectors
    f = x[..., :n_users, :]
    res = project_out(f, q)
    small = np.linalg.norm(res, axis=-1) <= rtol * np.linalg.norm(f, axis=-1)
    return np.where(small[..., None], 0.0, res)


def _check_zf(scenario: Scenario) -> None:
    n, k = scenario.n_ant, scenario.n_users
    if n < 2 * k:
        raise ValueError(f"antennas: zf needs N >= 2K = {2 * k} for K = {k} users (a beam orthogonal to the "
                         f"other users' and all Eves' channels), got N = {n}")


def zf_gains(coords: np.ndarray, n_ant: int, rtol: float | None = None) -> np.ndarray:
    r"""Gains :math:`t_k = \|P_\perp(A_k) f_k\|` of the zero-forcing beams, :math:`A_k = [f_{i\ne k}, h_1..h_K]`.

    Computed in the reduced coordinates :math:`C` of the 2K channels
    (:func:`~nfkg.engine.reduced.channel_coordinates`), where inner products are those of N-space:
    one thin SVD of the ``2K x (2K-1)`` matrix :math:`C_{A_k}` per user (rank tolerance as
    :func:`~nfkg.engine.subspace.orthonormal_basis`, so repeated or dependent channels are
    handled), then :math:`t_k = \|c_{f_k} - U U^H c_{f_k}\|`. The beam
    :math:`u_k = P_\perp(A_k) f_k / t_k` has :math:`x_p^H u_k = 0` for every channel of
    :math:`A_k` and :math:`f_k^H u_k = t_k`.

    Parameters
    ----------
    coords : ndarray, complex, shape ``(..., 2K, 2K)``
    n_ant : int
        N (for the rank tolerance).
    rtol : float, optional
        Relative rank tolerance; default ``max(N, 2K-1) * eps``. A residual below ``rtol``
        times :math:`\|f_k\|` is 0 (no beam: nothing radiated).

    Returns
    -------
    ndarray, shape ``(..., K)``
        :math:`t_k \ge 0`.

    Examples
    --------
    >>> from nfkg.engine.reduced import channel_coordinates
    >>> f = np.array([[1.0, 1.0, 0.0]]) + 0j           # K = 1, N = 3
    >>> h = np.array([[1.0, 0.0, 0.0]]) + 0j
    >>> round(float(zf_gains(channel_coordinates(f, h), 3)[0]), 12)   # f minus its part along h: (0, 1, 0)
    1.0
    """
    m = coords.shape[-1]
    tol = rank_tolerance(n_ant, m - 1) if rtol is None else float(rtol)
    return np.linalg.norm(_zf_residual(np.swapaxes(coords, -1, -2), tol), axis=-1)


@register_scheme("zf", "ZF: a beam to the user nulling the other users and all Eves, no artificial noise "
                 "(near-field PLKG with ZF, KTH 2024)")
def _zf(scenario: Scenario, shaping: None = None, rtol: float | None = None) -> PrecodingResult:
    r"""Zero-forcing beam focusing without artificial noise [ZF].

    .. math::
        w_k = p_k u_k, \quad u_k = \frac{P_\perp(A_k) f_k}{\|P_\perp(A_k) f_k\|}, \quad
        A_k = [f_1..f_{k-1}, f_{k+1}..f_K, h_1..h_K], \quad p_k \sim \mathcal{CN}(0, P_{\max}/K)

    so :math:`W_k = (P_{\max}/K) u_k u_k^H`. Eve k and every other Eve see nothing of any user's
    precoder, and no user sees another's: the SKR is :math:`I(z_a; z_b)` of J(18) with
    :math:`\alpha_k = (P_{\max}/K) \|P_\perp(A_k) f_k\|^2`, the same under both scorings. An Eve
    close to its user makes :math:`P_\perp(A_k) f_k` small (the beam loses its gain), where the
    SVD schemes instead jam her. Needs :math:`N \ge 2K` (otherwise the ``2K-1`` channels of
    :math:`A_k` span everything, ``ValueError``); where :math:`f_k` lies in the span of
    :math:`A_k` nothing is radiated to user k.

    ``rtol``: rank tolerance (:func:`zf_gains`).
    """
    _check_zf(scenario)
    k = scenario.n_users
    geo = geometry(scenario)
    t = zf_gains(geo.coords, geo.n_ant, rtol)                                  # (..., K)
    view = np.zeros((*t.shape, 2 * k, 1), dtype=complex)
    view[..., np.arange(k), np.arange(k), 0] = t                                # x_p^H u_k: 0 but f_k^H u_k = t_k
    shape_view = ShapeView(view, (t > 0).astype(float), "zero-forcing")
    tol = rank_tolerance(scenario.n_ant, 2 * k - 1) if rtol is None else float(rtol)

    def realize():
        f, h = scenario.channels()
        res = _zf_residual(np.concatenate([f, h], axis=-2), tol)
        return PrecoderCovariance((Shape.beam(res),), equal_powers(scenario)[..., None])

    return _one_shape("zf", shape_view, scenario, realize)


# --------------------------------------------------------------------------- random beamforming
@register_scheme("rbf", "RBF: isotropic random beamforming, W_k = (P_max/K) I/N, i.i.d. antenna weights "
                 "(Madiseh et al., IEEE TIFS 2012)")
def _rbf(scenario: Scenario, shaping: None = None) -> PrecodingResult:
    r"""Isotropic random beamforming [RBF]: :math:`W_k = (P_{\max}/K)\, I_N/N`.

    Every antenna weight is drawn i.i.d. :math:`\mathcal{CN}(0, P_{\max}/(KN))` at each probing
    round (the random beamforming that mimics fast fading on a static channel, applied here per
    user with the non-orthogonal pilots of J III). The identity shape :math:`I_N/N` is seen from
    the channels as :math:`x_p^H x_q/N = c_p^H c_q/N` in the reduced coordinates (view rows
    :math:`c_p^H/\sqrt N`), never as an N x N matrix; in N-space it is the isotropic
    complement of an empty basis (:class:`~nfkg.engine.subspace.Shape`).
    """
    n, k = scenario.n_ant, scenario.n_users
    coords = geometry(scenario).coords                                         # (..., 2K, 2K)
    rows = np.swapaxes(coords.conj(), -1, -2) / np.sqrt(n)                       # row p: c_p^H / sqrt(N)
    view = np.ascontiguousarray(np.broadcast_to(rows[..., None, :, :], (*rows.shape[:-2], k, 2 * k, 2 * k)))
    shape_view = ShapeView(view, np.ones(view.shape[:-2]), "identity")

    def realize():
        batch = (*scenario.batch_shape, k)
        empty = np.broadcast_to(np.zeros((n, 1), dtype=complex), (*batch, n, 1))
        return PrecoderCovariance((Shape(empty, np.zeros(batch, dtype=int), complement=True),),
                                  equal_powers(scenario)[..., None])

    return _one_shape("rbf", shape_view, scenario, realize)
