r"""Secrecy engine: measurement covariances and secret key rate (C(13)-(24), J(18)-(23)).

Every scheme is scored here. For user k the BS, user and Eve observe

.. math::
    z_{a_k} = g^H w_k + n_{a_k},\quad z_{b_k} = f_k^H \textstyle\sum_i w_i + n_{b_k},\quad
    z_{e_k} = h_k^H \textstyle\sum_i w_i + n_{e_k},\qquad g = \textstyle\sum_i f_i,

with :math:`w_i \sim \mathcal{CN}(0, W_i)` and noise variances
:math:`\mathrm{tr}(W_k)\sigma_a^2/(VP_b)`, :math:`\sigma_b^2/V`, :math:`\sigma_e^2/V`
(J(5), J(7), J(11)). The secret key rate is :math:`I(z_a; z_b \mid z_e)`, C(13), J(18).

Exactness
---------
The observations are linear in independent Gaussians: :math:`z = M\xi + n`, with
the signal rows :math:`a, b, e` of :math:`M` (from :func:`observation_rows`) and the
noise variances kept apart. :func:`skr_factored` never adds noise to signal before a
cancellation: it whitens each row by its noise, conditions on Eve with the
square-root update :math:`T = (I + \tilde e\tilde e^H)^{-1/2}` applied to vectors, and
writes :math:`I(z_a; z_b\mid z_e)` with only sums of non-negative terms,

.. math::
    \mathrm{SKR} = \log_2\Big(1 + \frac{|\hat a^H\hat b|^2}
        {1 + \|\hat a\|^2 + \|\hat b\|^2 + \|\hat a\|^2\|\hat\delta_{\perp\hat a}\|^2}\Big),

where :math:`\hat x = T\tilde x` and :math:`\delta = (b - a)/\sigma_b` is formed from
the leakage terms directly (it is exactly 0 for the SVD schemes). The covariance
forms below (:func:`measurement_covariance`, :func:`skr_logdet`) are kept for
covariances a user already has; they cancel at very high SNR and raise instead of
returning a wrong number.

Contents
--------
observation_rows
    Rows :math:`a, b, e, \delta` of every user's observations from the precoders' views.
skr_factored
    :math:`I(z_a;z_b|z_e)` from those rows and the noise variances (the engine).
alpha_factored
    :math:`\alpha` of C(24)/J(23) as the squared norm of a projected vector.
covariance_from_rows
    The ``3 x 3`` covariance from the rows (for display and checks).
measurement_covariance
    The ``3 x 3`` covariance of :math:`(z_a, z_b, z_e)` per user, any precoders, any K.
skr_logdet
    :math:`I(z_a;z_b|z_e)` from that covariance (determinant form, C(13), J(18)).
alpha
    :math:`\alpha = \sigma_B^2 - |\sigma_{AE}^2|^2/(\sigma_E^2 + \hat\sigma_e^2)`, C(24), J(23).
skr_closed_form
    The closed form C(23), J(22) (their :math:`\sigma_{AE}^4` corrected to :math:`|\sigma_{AE}^2|^2`).
skr_of_alpha
    :math:`\log_2 f(\alpha)`, C(24), J(23).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "observation_rows",
    "skr_factored",
    "alpha_factored",
    "covariance_from_rows",
    "PrecisionError",
    "measurement_covariance",
    "skr_logdet",
    "alpha",
    "skr_of_alpha",
    "skr_closed_form",
]

_LN2 = np.log(2.0)


class PrecisionError(ArithmeticError):
    """A covariance-form computation lost all precision (use the factored engine)."""


# --------------------------------------------------------------------------- factored engine
def observation_rows(views, powers, scoring: str = "general"):
    r"""Signal rows of every user's observations :math:`(z_a, z_b, z_e)`, C III, J III.

    With :math:`w_i = \sum_j \sqrt{P_{j,i}} R_{j,i}^{1/2}\xi_{j,i}` (independent
    :math:`\xi`), user k's observations are :math:`z = M\xi + n` with rows

    .. math::
        a = g^H[\dots, \sqrt{P_{j,k}}R_{j,k}^{1/2}, \dots] \text{ (block k only)},\quad
        b = f_k^H[\sqrt{P_{j,i}}R_{j,i}^{1/2}]_{i,j},\quad e = h_k^H[\cdot]_{i,j},

    and :math:`\delta = b - a`, computed from the leakage terms themselves:
    :math:`f_k^H R_{j,i}^{1/2}` in blocks :math:`i \ne k` and
    :math:`-\sum_{p\ne k} f_p^H R_{j,k}^{1/2}` in block k.

    Parameters
    ----------
    views : sequence of ShapeView
        :class:`~nfkg.engine.reduced.ShapeView` of each shape j, views ``(..., K, 2K, r_j)``.
    powers : ndarray, shape ``(..., K, J)``
        Power on each shape [W].
    scoring : {'general', 'per-user'}
        ``'per-user'`` keeps only user k's own precoder in :math:`z_b, z_e` (J(19)).

    Returns
    -------
    a, b, e, d : ndarray, complex, shape ``(..., K, K * R)``, ``R = sum_j r_j``
    """
    powers = np.asarray(powers, dtype=float)
    amp = np.sqrt(np.maximum(powers, 0.0))
    parts = [v.view * amp[..., j, None, None] for j, v in enumerate(views)]
    v = np.concatenate(parts, axis=-1) if len(parts) > 1 else parts[0]   # (..., K_i, 2K, R)
    n_users = v.shape[-3]
    k = np.arange(n_users)
    f_rows = v[..., :n_users, :]                                        # (..., i, p, R)
    b = np.swapaxes(f_rows, -3, -2).copy()                              # (..., k, i, R)
    e = np.swapaxes(v[..., n_users:, :], -3, -2).copy()                 # (..., k, i, R)
    others = 1.0 - np.eye(n_users)
    d_own = np.einsum("kp,...kpr->...kr", others, f_rows)               # sum_{p != k} f_p^H R_k^{1/2}
    a = np.zeros_like(b)
    a[..., k, k, :] = f_rows.sum(axis=-2)                               # g^H R_k^{1/2}
    d = b.copy()
    d[..., k, k, :] = -d_own
    if scoring == "per-user":
        keep = np.eye(n_users, dtype=bool)[..., None]
        b = np.where(keep, b, 0.0)
        e = np.where(keep, e, 0.0)
        d = np.where(keep, d, 0.0)
    elif scoring != "general":
        raise ValueError(f"scoring: must be 'general' or 'per-user', got {scoring!r}")
    shape = (*b.shape[:-2], b.shape[-2] * b.shape[-1])
    return a.reshape(shape), b.reshape(shape), e.reshape(shape), d.reshape(shape)


def _dot(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """:math:`x^H y` over the last axis."""
    return np.einsum("...l,...l->...", x.conj(), y)


def _sq(x: np.ndarray) -> np.ndarray:
    return np.einsum("...l,...l->...", x.real, x.real) + np.einsum("...l,...l->...", x.imag, x.imag)


def _perp(x: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``x - (u^H x) u`` for unit (or zero) ``u``, twice (CGS2); returns it and ``u^H x``."""
    c = _dot(u, x)
    xp = x - c[..., None] * u
    c2 = _dot(u, xp)
    xp -= c2[..., None] * u
    return xp, c + c2


def skr_factored(a, b, e, d, var_na, var_nb, var_ne) -> np.ndarray:
    r"""Secret key rate :math:`I(z_a; z_b \mid z_e)` from the signal rows, C(13), J(18), exact.

    :math:`z_a = a\xi + n_a`, :math:`z_b = b\xi + n_b`, :math:`z_e = e\xi + n_e` with
    :math:`\xi \sim \mathcal{CN}(0, I)`. Whitening :math:`\tilde x = x/\sigma_x` and
    conditioning on :math:`z_e` give the conditional covariance
    :math:`I_2 + \hat A\hat A^H` with :math:`\hat x = \tilde x_{\perp e} +
    \tilde x_{\parallel e}/\sqrt{1 + \|\tilde e\|^2}`, hence

    .. math::
        \mathrm{SKR} = \log_2\Big(1 + \frac{|\hat a^H\hat b|^2}
            {1 + \|\hat a\|^2 + \|\hat b\|^2 + \|\hat a\|^2\,\|\hat\delta_{\perp\hat a}\|^2}\Big),

    with :math:`\hat\delta = T\,(b - a)/\sigma_b` (the Gram determinant
    :math:`\|\hat a\|^2\|\hat b\|^2 - |\hat a^H\hat b|^2` without a subtraction).
    Every term is a non-negative sum: no cancellation between signal and noise at any
    SNR. A user with :math:`P_{a,k} = 0` (no randomness sent) has SKR 0.

    Parameters
    ----------
    a, b, e, d : ndarray, complex, shape ``(..., L)``
        Rows of :math:`M` and :math:`\delta = b - a` (from :func:`observation_rows`).
    var_na, var_nb, var_ne : array_like, broadcastable to ``(...)``
        Noise variances of the BS (after precoding, J(11)), the user and Eve.

    Returns
    -------
    ndarray, shape ``(...)``, bits per channel probing.

    Examples
    --------
    Eve sees nothing: two noisy copies of one unit-power signal, :math:`\log_2(4/3)`.

    >>> one, zero = np.ones((1,)) + 0j, np.zeros((1,)) + 0j
    >>> round(float(skr_factored(one, one, zero, zero, 1.0, 1.0, 1.0)), 6)
    0.415037
    """
    var_na = np.asarray(var_na, dtype=float)
    pos = var_na > 0
    sa = np.sqrt(np.where(pos, var_na, 1.0))[..., None]
    sb = np.sqrt(np.asarray(var_nb, dtype=float))[..., None]
    se = np.sqrt(np.asarray(var_ne, dtype=float))[..., None]
    at, bt, et, dt = a / sa, b / sb, e / se, d / sb
    s2 = _sq(et)
    nrm = np.sqrt(s2)
    u = et / np.where(nrm > 0, nrm, 1.0)[..., None]
    shrink = (1.0 / np.sqrt(1.0 + s2))[..., None]

    def cond(x):
        xp, c = _perp(x, u)
        return xp + (c[..., None] * shrink) * u

    ah, bh, dh = cond(at), cond(bt), cond(dt)
    a2, b2 = _sq(ah), _sq(bh)
    ab2 = np.abs(_dot(ah, bh)) ** 2
    ua = ah / np.sqrt(np.where(a2 > 0, a2, 1.0))[..., None]
    d_perp, _ = _perp(dh, ua)
    det = 1.0 + a2 + b2 + a2 * _sq(d_perp)
    skr = np.log1p(ab2 / det) / _LN2
    return np.where(pos, skr, 0.0)


def alpha_factored(b: np.ndarray, e: np.ndarray, var_ne) -> np.ndarray:
    r""":math:`\alpha = \sigma_B^2 - |\sigma_{AE}^2|^2/(\sigma_E^2 + \hat\sigma_e^2)`, C(24), J III-D, exactly.

    With :math:`\sigma_B^2 = \|b\|^2`, :math:`\sigma_E^2 = \|e\|^2`,
    :math:`\sigma_{AE}^2 = b^H e`: :math:`\alpha = \|(I + ee^H/\hat\sigma_e^2)^{-1/2} b\|^2
    = \|b_{\perp e}\|^2 + \|b_{\parallel e}\|^2 \hat\sigma_e^2/(\|e\|^2 + \hat\sigma_e^2)`,
    the squared norm of a projected vector (never a difference).

    Parameters
    ----------
    b, e : ndarray, complex, shape ``(..., L)``
        Signal rows of :math:`z_b` and :math:`z_e`.
    var_ne : array_like
        Eve's estimation-noise variance.
    """
    var_ne = np.asarray(var_ne, dtype=float)
    e2 = _sq(e)
    nrm = np.sqrt(e2)
    u = e / np.where(nrm > 0, nrm, 1.0)[..., None]
    bp, c = _perp(b, u)
    return _sq(bp) + np.abs(c) ** 2 * (var_ne / (e2 + var_ne))


def covariance_from_rows(a, b, e, var_na, var_nb, var_ne) -> np.ndarray:
    """The ``3 x 3`` covariance :math:`MM^H + D` of :math:`(z_a, z_b, z_e)`, for display and checks.

    Returns
    -------
    ndarray, complex, shape ``(..., 3, 3)``
    """
    rows = np.stack([a, b, e], axis=-2)
    cov = np.einsum("...il,...jl->...ij", rows, rows.conj())
    for i, v in enumerate((var_na, var_nb, var_ne)):
        cov[..., i, i] += np.asarray(v, dtype=float)
    return cov


def measurement_covariance(
    f: np.ndarray,
    h: np.ndarray,
    gram: np.ndarray,
    var_na: ArrayLike,
    var_nb: ArrayLike,
    var_ne: ArrayLike,
) -> np.ndarray:
    r"""Covariance of :math:`(z_{a_k}, z_{b_k}, z_{e_k})` for every user, C III, J III.

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
        :meth:`nfkg.engine.subspace.PrecoderCovariance.gram`.
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
    :math:`I = \log_2 (C_{aa}C_{bb}/\det C)`.

    A covariance formed as signal + noise in float64 loses the noise when the SNR
    exceeds about :math:`10^{16}`; then ``det C`` cancels to 0 or below and this
    function raises :class:`PrecisionError` instead of returning a number. The
    engine (:func:`skr_factored`) has no such limit.

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
    diag = np.real(np.diagonal(cov, axis1=-2, axis2=-1))
    if np.any(~(diag > 0)):
        raise PrecisionError("skr_logdet: the covariance has a non-positive variance")
    d = np.sqrt(diag)
    rho = cov / (d[..., :, None] * d[..., None, :])
    # Schur complement of z_e in the correlation matrix (rho_ee = 1).
    caa = 1.0 - np.abs(rho[..., 0, 2]) ** 2
    cbb = 1.0 - np.abs(rho[..., 1, 2]) ** 2
    cab = rho[..., 0, 1] - rho[..., 0, 2] * rho[..., 1, 2].conj()
    num = caa * cbb
    det = num - np.abs(cab) ** 2
    # caa, cbb, det are differences of numbers of order 1: below ~100 eps they are round-off.
    floor = 128 * np.finfo(float).eps
    if np.any(~(det > floor)) or np.any(~(caa > floor)) or np.any(~(cbb > floor)):
        raise PrecisionError("skr_logdet: the covariance is singular to working precision (the noise was "
                             "lost against the signal); use the factored engine (nfkg.engine.secrecy.skr_factored)")
    skr = (np.log(num) - np.log(det)) / _LN2
    return np.maximum(skr, 0.0)


def alpha(sigma_b2: ArrayLike, sigma_e2: ArrayLike, sigma_ae2: ArrayLike, var_ne: ArrayLike) -> np.ndarray:
    r"""The effective key-generation variance :math:`\alpha`, C(24), J III-D (which omits the square).

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
