r"""Scoring a precoder design against channels other than those it was designed on (beyond the papers).

The BS designs its precoders :math:`W_k` on the channels it believes (estimates
:math:`\hat f_k, \hat h_k`, or the LoS channels), while the key is generated over
the channels that are really there (:math:`f_k, h_k`). The SKR is then the engine's
:math:`I(z_a; z_b \mid z_e)` (C(13), J(18)) with the *true* channels in
every observation and the *designed* precoders:

.. math::
    z_{a_k} = g^H w_k + n_{a_k},\quad z_{b_k} = f_k^H \textstyle\sum_i w_i + n_b,\quad
    z_{e_k} = h_k^H \textstyle\sum_i w_i + n_e,\qquad w_i \sim \mathcal{CN}(0, W_i),

with :math:`g = \sum_i f_i` and the BS noise :math:`P_{a,k}\sigma_a^2/(VP_b)` of the
power actually radiated, :math:`P_{a,k} = \mathrm{tr}\,W_k` (J(11)).

Contents
--------
true_views
    The shapes of a design seen from other channels (one reduced view per shape, no N x N matrix).
score_mismatched, MismatchEvaluation
    The SKR of a design with the true channels, and its result.

See also :mod:`nfkg.studies.robustness`, which uses them for imperfect Eve CSI and NLoS truths.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from .reduced import ShapeView
from .secrecy import covariance_from_rows, observation_rows, skr_factored
from .subspace import PrecoderCovariance, Shape

__all__ = [
    "MismatchEvaluation",
    "true_views",
    "score_mismatched",
]


@dataclass(frozen=True)
class MismatchEvaluation:
    """A design scored with the true channels.

    Attributes
    ----------
    skr : ndarray, ``(..., K)``
        SKR of each user [bits/probing].
    cov : ndarray, ``(..., K, 3, 3)``
        Covariance of :math:`(z_a, z_b, z_e)` (display only).
    p_a : ndarray, ``(..., K)``
        :math:`\\mathrm{tr}\\,W_k` actually radiated [W].
    """

    skr: np.ndarray
    cov: np.ndarray
    p_a: np.ndarray

    @property
    def sum_skr(self) -> np.ndarray:
        """Sum SKR over the users [bits/probing]."""
        return self.skr.sum(axis=-1)


def _shape_view(shape: Shape, xt: np.ndarray) -> ShapeView:
    r"""Rows :math:`x_p^H R^{1/2} U` of one shape for the columns of ``xt`` ``(..., K|1, N, 2K)``."""
    scale = np.sqrt(shape._scale())[..., None, None]
    if shape.complement:
        # P_perp X = Q' T (thin QR): x_p^H P_perp x_q = (T^H T)_pq, rows T^H. A square root of
        # the bilinear forms that keeps the round-off of a nulled channel at eps ||x|| (a
        # factorisation of the Gram matrix itself would leave sqrt(eps) ||x||).
        proj = xt - np.einsum("...nm,...mp->...np", shape.basis,
                              np.einsum("...nm,...np->...mp", shape.basis.conj(), xt))
        t = np.linalg.qr(proj, mode="r")
        rows = np.swapaxes(t, -1, -2).conj()
    else:
        rows = np.einsum("...np,...nm->...pm", xt.conj(), shape.basis)
    return ShapeView(rows * scale, shape.trace, "complement" if shape.complement else "span")


def true_views(cov: PrecoderCovariance, f: np.ndarray, h: np.ndarray) -> tuple[ShapeView, ...]:
    r"""The shapes of a design seen from other channels: one :class:`~nfkg.engine.reduced.ShapeView` per shape.

    For each shape :math:`R_{j,k}` of :math:`W_k = \sum_j P_{j,k} R_{j,k}` the rows
    :math:`V_{j,k}[p] = x_p^H R_{j,k}^{1/2} U` of the true channels
    :math:`x = [f_1..f_K, h_1..h_K]`, so that :math:`V V^H` are the bilinear forms
    :math:`x_p^H R_{j,k} x_q` of :meth:`~nfkg.engine.subspace.PrecoderCovariance.gram`. Span shapes
    :math:`QQ^H/r` give :math:`x_p^H Q/\sqrt r`; complements :math:`(I - QQ^H)/(N - r)` give
    :math:`T^H/\sqrt{N - r}` from the thin QR :math:`(I - QQ^H)X = Q'T`. No N x N matrix.

    Parameters
    ----------
    cov : PrecoderCovariance
        The design, batch ``(..., K)``.
    f, h : ndarray, complex, shape ``(..., K, N)``
        True channels of the users and Eves; the batch broadcasts against the design's.

    Returns
    -------
    tuple of ShapeView, views ``(..., K, 2K, r_j)``
    """
    x = np.concatenate([f, h], axis=-2)                     # (..., 2K, N)
    xt = np.swapaxes(x, -1, -2)[..., None, :, :]            # (..., 1, N, 2K): every user's shape
    return tuple(_shape_view(sh, xt) for sh in cov.shapes)


def _as_covariance(design) -> PrecoderCovariance:
    if isinstance(design, PrecoderCovariance):
        return design
    cov = getattr(design, "covariance", None)
    if not isinstance(cov, PrecoderCovariance):
        raise ValueError("design: must be a PrecodingResult (with an N-space realisation) or a "
                         f"PrecoderCovariance, got {type(design).__name__}")
    return cov


def _check_channels(f, h, n_ant: int, n_users: int) -> tuple[np.ndarray, np.ndarray]:
    f, h = np.asarray(f), np.asarray(h)
    for name, x in (("f", f), ("h", h)):
        if x.ndim < 2 or x.shape[-2:] != (n_users, n_ant):
            raise ValueError(f"{name}: must have shape (..., K, N) = (..., {n_users}, {n_ant}), got {x.shape}")
        if not np.all(np.isfinite(x)):
            raise ValueError(f"{name}: must be finite")
    return f.astype(complex), h.astype(complex)


def score_mismatched(design, f: ArrayLike, h: ArrayLike, scenario, scoring: str = "general"
                     ) -> MismatchEvaluation:
    r"""SKR of precoders designed on one set of channels, with the true channels ``f, h``, C(13), J(18).

    The design's :math:`W_k` (N-space shapes, the ``covariance`` of a precoding result,
    ``nfkg.precode(...).covariance``) are seen from the true channels by
    :func:`true_views` and scored by the engine (:func:`nfkg.engine.secrecy.observation_rows`,
    :func:`nfkg.engine.secrecy.skr_factored`): :math:`W = \sum_i W_i` in the user's and Eve's
    observations (``scoring='general'``, J(5), J(7)) and the BS noise
    :math:`\mathrm{tr}(W_k)\sigma_a^2/(VP_b)`, J(11). With the design's own channels it
    equals :func:`nfkg.schemes.precoding.evaluate` (to round-off).

    Parameters
    ----------
    design : PrecodingResult or PrecoderCovariance
        The precoders, batch ``(..., K)``.
    f, h : array_like, complex, shape ``(..., K, N)``
        True channels of users and Eves (Eve k targets user k); broadcast against the design.
    scenario : Scenario
        Supplies the noise powers, :math:`P_b` and V (its positions are not used).
    scoring : {'general', 'per-user'}

    Returns
    -------
    MismatchEvaluation
        ``skr`` ``(..., K)`` [bits/probing], ``cov``, ``p_a``.

    Examples
    --------
    >>> from nfkg.model.channel import ULA
    >>> from nfkg.schemes.precoding import evaluate, precode
    >>> from nfkg.model.scenario import Scenario
    >>> s = Scenario.from_dbm(ULA(64, 30e9), users=[(12.0, -0.6), (13.0, 0.6)],
    ...                       eves=[(11.98, -0.6), (12.98, 0.6)], pt_dbm=20)
    >>> f, h = s.channels()
    >>> m = score_mismatched(precode(s, "svd"), f, h, s)
    >>> bool(np.allclose(m.skr, evaluate(s, "svd").skr, rtol=1e-10))
    True
    """
    cov = _as_covariance(design)
    n_ant = cov.shapes[0].n_ant
    n_users = cov.powers.shape[-2]
    f, h = _check_channels(f, h, n_ant, n_users)
    views = true_views(cov, f, h)
    powers = np.asarray(cov.powers, dtype=float)
    a, b, e, d = observation_rows(views, powers, scoring)
    p_a = cov.trace
    var_na = scenario.var_na(p_a)
    var_nb, var_ne = scenario.var_nb, scenario.var_ne
    skr = skr_factored(a, b, e, d, var_na, var_nb, var_ne)
    return MismatchEvaluation(skr, covariance_from_rows(a, b, e, var_na, var_nb, var_ne),
                              np.broadcast_to(p_a, skr.shape))
