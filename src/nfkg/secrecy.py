r"""Secrecy engine: measurement covariances and secret key rate (SPEC 3-4).

Every scheme is scored here. For user k the BS, user and Eve observe

.. math::
    z_{a_k} = g^H w_k + n_{a_k},\quad z_{b_k} = f_k^H \textstyle\sum_i w_i + n_{b_k},\quad
    z_{e_k} = h_k^H \textstyle\sum_i w_i + n_{e_k},\qquad g = \textstyle\sum_i f_i,

with :math:`w_i \sim \mathcal{CN}(0, W_i)` and noise variances
:math:`\mathrm{tr}(W_k)\sigma_a^2/(VP_b)`, :math:`\sigma_b^2/V`, :math:`\sigma_e^2/V`
(J(5), J(7), J(11)). The secret key rate is :math:`I(z_a; z_b \mid z_e)`, C(13), J(18).

Contents
--------
measurement_covariance
    The ``3 x 3`` covariance of :math:`(z_a, z_b, z_e)` per user, any precoders, any K.
skr_logdet
    :math:`I(z_a;z_b|z_e)` from that covariance (determinant form, C(13), J(18)).
alpha
    :math:`\alpha = \sigma_B^2 - |\sigma_{AE}^2|^2/(\sigma_E^2 + \hat\sigma_e^2)`, C(24), J(23).
skr_closed_form
    The closed form C(23), J(22) (with SPEC 9's correction :math:`|\sigma_{AE}^2|^2`).
skr_of_alpha
    :math:`\log_2 f(\alpha)`, C(24), J(23).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "measurement_covariance",
    "skr_logdet",
    "alpha",
    "skr_of_alpha",
    "skr_closed_form",
]

_LN2 = np.log(2.0)


def measurement_covariance(
    f: np.ndarray,
    h: np.ndarray,
    gram: np.ndarray,
    var_na: ArrayLike,
    var_nb: ArrayLike,
    var_ne: ArrayLike,
) -> np.ndarray:
    r"""Covariance of :math:`(z_{a_k}, z_{b_k}, z_{e_k})` for every user, SPEC 3.

    .. math::
        \begin{aligned}
        E|z_a|^2 &= g^H W_k g + \mathrm{var}(n_{a_k}) & E[z_a z_b^*] &= g^H W_k f_k
            & E[z_a z_e^*] &= g^H W_k h_k \\
        E|z_b|^2 &= f_k^H W f_k + \mathrm{var}(n_b) & E[z_b z_e^*] &= f_k^H W h_k
            & E|z_e|^2 &= h_k^H W h_k + \mathrm{var}(n_e)
        \end{aligned}

    with :math:`W = \sum_i W_i`. It reduces to C(14) and J(19) when
    :math:`W_i f_k = W_i h_k = 0` for :math:`i \ne k`.

    Parameters
    ----------
    f, h : ndarray, shape ``(..., K, N)``
        Channels of the users and of their eavesdroppers (Eve k targets user k).
    gram : ndarray, shape ``(..., K, 2K+1, 2K+1)``
        For each precoder i, the bilinear forms :math:`x_p^H W_i x_q` over the
        vectors ``x = [g, f_1..f_K, h_1..h_K]``; see
        :meth:`nfkg.precoding.PrecoderCovariance.gram`.
    var_na : array_like, broadcastable to ``(..., K)``
        BS noise variance after precoding, :math:`P_{a,k}\sigma_a^2/(VP_b)`, J(11).
    var_nb, var_ne : array_like, broadcastable to ``(..., K)``
        User and Eve estimation-noise variances :math:`\sigma^2/V`.

    Returns
    -------
    ndarray of complex128, shape ``(..., K, 3, 3)``
        Hermitian covariance of :math:`(z_a, z_b, z_e)`.
    """
    n_users = f.shape[-2]
    k = np.arange(n_users)
    ib, ie = 1 + k, 1 + n_users + k
    total = gram.sum(axis=-3)  # x^H W x with W = sum_i W_i, (..., M, M)
    own = gram[..., k, :, :]  # (..., K, M, M): x^H W_k x
    cov = np.empty((*gram.shape[:-3], n_users, 3, 3), dtype=complex)
    cov[..., 0, 0] = own[..., k, 0, 0].real + var_na
    cov[..., 0, 1] = own[..., k, 0, ib]
    cov[..., 0, 2] = own[..., k, 0, ie]
    cov[..., 1, 1] = total[..., ib, ib].real + var_nb
    cov[..., 1, 2] = total[..., ib, ie]
    cov[..., 2, 2] = total[..., ie, ie].real + var_ne
    cov[..., 1, 0] = cov[..., 0, 1].conj()
    cov[..., 2, 0] = cov[..., 0, 2].conj()
    cov[..., 2, 1] = cov[..., 1, 2].conj()
    return cov


def skr_logdet(cov: np.ndarray) -> np.ndarray:
    r"""Secret key rate :math:`I(z_a; z_b \mid z_e)` from the 3 x 3 covariance, C(13), J(18).

    .. math::
        I = \log_2 \frac{|K_{ae}|\,|K_{be}|}{\sigma_{EE}^2\,|K_{abe}|}

    Evaluated on the correlation matrix (the ratio is invariant to scaling each
    variable) through the Schur complement on :math:`z_e`:
    :math:`|K_{ae}| = \sigma_{EE}^2 C_{aa}`, :math:`|K_{be}| = \sigma_{EE}^2 C_{bb}`,
    :math:`|K_{abe}| = \sigma_{EE}^2 \det C`, so
    :math:`I = \log_2 (C_{aa}C_{bb}/\det C)`. Round-off below 0 is clipped.

    Parameters
    ----------
    cov : ndarray, shape ``(..., 3, 3)``
        Hermitian positive-definite covariance of :math:`(z_a, z_b, z_e)`.

    Returns
    -------
    ndarray, shape ``(...)``, bits per channel probing.

    Examples
    --------
    Eve sees nothing: the SKR is the mutual information of two noisy copies.

    >>> c = np.array([[2.0, 1, 0], [1, 2, 0], [0, 0, 1]])
    >>> round(float(skr_logdet(c)), 6), round(float(np.log2(4 / 3)), 6)
    (0.415037, 0.415037)
    """
    cov = np.asarray(cov)
    d = np.sqrt(np.maximum(np.real(np.diagonal(cov, axis1=-2, axis2=-1)), np.finfo(float).tiny))
    rho = cov / (d[..., :, None] * d[..., None, :])
    # Schur complement of z_e in the correlation matrix (rho_ee = 1).
    caa = 1.0 - np.abs(rho[..., 0, 2]) ** 2
    cbb = 1.0 - np.abs(rho[..., 1, 2]) ** 2
    cab = rho[..., 0, 1] - rho[..., 0, 2] * rho[..., 1, 2].conj()
    num = caa * cbb
    det = num - np.abs(cab) ** 2
    tiny = np.finfo(float).tiny
    skr = (np.log(np.maximum(num, tiny)) - np.log(np.maximum(det, tiny))) / _LN2
    return np.maximum(skr, 0.0)


def alpha(sigma_b2: ArrayLike, sigma_e2: ArrayLike, sigma_ae2: ArrayLike, var_ne: ArrayLike) -> np.ndarray:
    r"""The effective key-generation variance :math:`\alpha`, C(24), J III-D (with SPEC 9).

    .. math:: \alpha = \sigma_B^2 - \frac{|\sigma_{AE}^2|^2}{\sigma_E^2 + \hat\sigma_e^2}

    :math:`\alpha \ge 0` by Cauchy-Schwarz; round-off below 0 is clipped to 0.

    Parameters
    ----------
    sigma_b2, sigma_e2 : array_like
        :math:`f^H W f` and :math:`h^H W h` [W].
    sigma_ae2 : array_like, complex
        :math:`f^H W h`.
    var_ne : array_like
        Eve's estimation-noise variance.
    """
    a = np.asarray(sigma_b2, float) - np.abs(sigma_ae2) ** 2 / (np.asarray(sigma_e2, float) + var_ne)
    return np.maximum(a, 0.0)


def skr_of_alpha(a: ArrayLike, var_na: ArrayLike, var_nb: ArrayLike) -> np.ndarray:
    r"""SKR as a function of :math:`\alpha`, C(23)-(24), J(22)-(23).

    .. math::
        \mathrm{SKR} = \log_2\left(1 + \frac{\alpha^2}
            {(\hat\sigma_a^2 + \hat\sigma_b^2)\alpha + \hat\sigma_a^2\hat\sigma_b^2}\right)

    >>> round(float(skr_of_alpha(1.0, 0.0, 1.0)), 6)
    1.0
    """
    a = np.maximum(np.asarray(a, dtype=float), 0.0)
    na = np.asarray(var_na, dtype=float)
    nb = np.asarray(var_nb, dtype=float)
    pos = a > 0
    safe = np.where(pos, a, 1.0)
    # alpha^2 / ((na + nb) alpha + na nb), written to avoid under/overflow of alpha^2.
    with np.errstate(divide="ignore"):
        snr = np.where(pos, safe / ((na + nb) + na * nb / safe), 0.0)
    return np.log1p(snr) / _LN2


def skr_closed_form(
    sigma_b2: ArrayLike,
    sigma_e2: ArrayLike,
    sigma_ae2: ArrayLike,
    var_na: ArrayLike,
    var_nb: ArrayLike,
    var_ne: ArrayLike,
) -> np.ndarray:
    r"""Closed-form SKR, C(23), J(22), valid when the cross terms vanish.

    .. math::
        \mathrm{SKR} = \log_2\left(1 + \frac{\alpha^2}
            {(\hat\sigma_a^2 + \hat\sigma_b^2)\alpha + \hat\sigma_a^2\hat\sigma_b^2}\right),\quad
        \alpha = \sigma_B^2 - \frac{|\sigma_{AE}^2|^2}{\sigma_E^2 + \hat\sigma_e^2}

    It equals :func:`skr_logdet` of the covariance
    ``[[sB+na, sB, sAE], [sB, sB+nb, sAE], [sAE*, sAE*, sE+ne]]`` (C(17)).

    Examples
    --------
    >>> sb, se, sae, n = 1.0, 1.0, 0.5, 0.1
    >>> c = np.array([[sb + n, sb, sae], [sb, sb + n, sae], [sae, sae, se + n]])
    >>> bool(np.isclose(skr_closed_form(sb, se, sae, n, n, n), skr_logdet(c)))
    True
    """
    return skr_of_alpha(alpha(sigma_b2, sigma_e2, sigma_ae2, var_ne), var_na, var_nb)
