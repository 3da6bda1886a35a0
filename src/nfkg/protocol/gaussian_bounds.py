r"""Correlations and the unquantised (Gaussian) one-way key rates of the model.

For user k the model's covariance :math:`C` of :math:`(z_0, z_1, z_2) = (z_a, z_b, z_e)`
(:func:`nfkg.schemes.precoding.evaluate`) describes each measurement as circular complex Gaussian. One
legitimate side is the **reference** :math:`r` whose measurement is quantised and reconciled
(:data:`REFERENCE`: the BS, ``'bs'``, direct reconciliation; or the user, ``'user'``, reverse
reconciliation as in continuous-variable QKD [GVW03]_), the other is the **side** :math:`x`, and
Eve is index 2. Their correlation is :math:`\rho = |C_{rx}|/\sqrt{C_{rr}C_{xx}}`
(:func:`correlation`, :func:`direction_correlations`).

Rates in bits per probing:
:func:`gaussian_mutual_information` :math:`I = -\log_2(1 - |\rho|^2)` per complex sample;
:func:`gaussian_one_way_bs` :math:`[I(a;b) - I(a;e)]^+` and :func:`gaussian_one_way_user`
:math:`[I(a;b) - I(b;e)]^+`: the one-way secret-key capacities of the Gaussian source model
from the BS resp. the user (Csiszar-Korner [CK78]_, Ahlswede-Csiszar [AC93]_, Maurer [Mau93]_;
for jointly Gaussian scalar sources the weaker of the two receivers is a degraded version of the
stronger one, so :math:`V = U = z_r` is optimal [LH78]_). Both are at most the SKR
:math:`I(z_a; z_b \mid z_e)`. The rates of a quantised reference are in :mod:`nfkg.protocol.bounds`.

References
----------
.. [CK78] I. Csiszar, J. Korner, "Broadcast channels with confidential messages", IEEE Trans. Inf.
   Theory 24(3), 339-348, 1978.
.. [AC93] R. Ahlswede, I. Csiszar, "Common randomness in information theory and cryptography. I.
   Secret sharing", IEEE Trans. Inf. Theory 39(4), 1121-1132, 1993.
.. [Mau93] U. M. Maurer, "Secret key agreement by public discussion from common information",
   IEEE Trans. Inf. Theory 39(3), 733-742, 1993.
.. [LH78] S. K. Leung-Yan-Cheong, M. E. Hellman, "The Gaussian wire-tap channel", IEEE Trans. Inf.
   Theory 24(4), 451-456, 1978.
.. [GVW03] F. Grosshans, G. Van Assche, J. Wenger, R. Brouri, N. J. Cerf, P. Grangier, "Quantum key
   distribution using gaussian-modulated coherent states", Nature 421, 238-241, 2003.

Contents
--------
REFERENCE, correlation, direction_correlations, gaussian_mutual_information, gaussian_one_way_bs,
gaussian_one_way_user
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["REFERENCE", "correlation", "direction_correlations", "gaussian_mutual_information",
           "gaussian_one_way_bs", "gaussian_one_way_user"]

#: Reconciliation direction -> (reference index, other legitimate side's index) in
#: :math:`(z_a, z_b, z_e)`; Eve is index 2.
REFERENCE: dict[str, tuple[int, int]] = {"bs": (0, 1), "user": (1, 0)}

#: Eve's index in :math:`(z_a, z_b, z_e)`.
EVE = 2

#: Smallest :math:`1 - \rho^2` used by :func:`gaussian_mutual_information` (caps it at 996.6 bits).
_MIN_ONE_MINUS_RHO2 = 1e-300


def correlation(c_aa: ArrayLike, c_xx: ArrayLike, c_ax: ArrayLike) -> np.ndarray:
    r""":math:`\rho = |C_{ax}|/\sqrt{C_{aa}C_{xx}}`, clipped to [0, 1]."""
    return np.clip(np.abs(np.asarray(c_ax)) / np.sqrt(np.asarray(c_aa, float) * np.asarray(c_xx, float)), 0.0, 1.0)


def direction_correlations(cov: ArrayLike, direction: str = "bs") -> tuple[np.ndarray, np.ndarray]:
    r"""Correlations of the reference with the other side and with Eve, for a reconciliation direction.

    Parameters
    ----------
    cov : array_like, ``(..., 3, 3)``
        Covariance of :math:`(z_a, z_b, z_e)` (``Evaluation.cov``).
    direction : {'bs', 'user'}
        The reference (:data:`REFERENCE`): ``'bs'`` quantises :math:`z_a` (side :math:`z_b`),
        ``'user'`` quantises :math:`z_b` (side :math:`z_a`, reverse reconciliation).

    Returns
    -------
    rho_side, rho_eve : ndarray ``(...)``
        :math:`|C_{rx}|/\sqrt{C_{rr}C_{xx}}` with :math:`x` the side resp. Eve (:func:`correlation`).

    Examples
    --------
    >>> c = np.array([[2.0, 1.0, 0.5], [1.0, 2.0, 1.5], [0.5, 1.5, 2.0]])
    >>> [float(r) for r in direction_correlations(c, "bs")], [float(r) for r in direction_correlations(c, "user")]
    ([0.5, 0.25], [0.5, 0.75])
    """
    r, x = _roles(direction)
    c = np.asarray(cov)
    if c.shape[-2:] != (3, 3):
        raise ValueError(f"cov: must have shape (..., 3, 3), got {c.shape}")
    c_rr = c[..., r, r].real
    rho_side = correlation(c_rr, c[..., x, x].real, c[..., r, x])
    rho_eve = correlation(c_rr, c[..., EVE, EVE].real, c[..., r, EVE])
    return rho_side, rho_eve


def _roles(direction: str) -> tuple[int, int]:
    try:
        return REFERENCE[direction]
    except (KeyError, TypeError):
        raise ValueError(f"direction: must be one of {', '.join(REFERENCE)}, got {direction!r}") from None


def gaussian_mutual_information(c_xx: ArrayLike, c_yy: ArrayLike, c_xy: ArrayLike) -> np.ndarray:
    r"""Mutual information of two jointly circular complex Gaussians [bits per complex sample].

    :math:`I(x; y) = -\log_2(1 - |\rho|^2)`, :math:`|\rho|^2 = |C_{xy}|^2/(C_{xx}C_{yy})` (Cover and
    Thomas, *Elements of Information Theory*, 2nd ed., 2006, Sec. 8.5 and 9.1, with the complex form
    of Neeser and Massey, IEEE Trans. Inf. Theory 39(4), 1993: twice the real value per
    component pair, i.e. :math:`\log_2` without the 1/2).

    Parameters
    ----------
    c_xx, c_yy : array_like
        Variances (real, or complex with zero imaginary part), broadcast together.
    c_xy : array_like
        :math:`E[x y^*]`.

    Returns
    -------
    ndarray
        Never inf or NaN for finite input: :math:`|\rho|^2` is clipped to :math:`[0, 1]` and
        :math:`1 - |\rho|^2` floored at :math:`10^{-300}`, so an (numerically) exact correlation
        gives :math:`-\log_2 10^{-300} \approx 996.6` bits, a large finite stand-in for infinity;
        a zero variance gives 0.

    Examples
    --------
    >>> round(float(gaussian_mutual_information(1.0, 1.0, 0.5j)), 12)   # -log2(3/4)
    0.415037499279
    >>> float(gaussian_mutual_information(1.0, 4.0, 2.0))
    996.5784284662087
    """
    cxx = np.real(np.asarray(c_xx)).astype(float)
    cyy = np.real(np.asarray(c_yy)).astype(float)
    num = np.abs(np.asarray(c_xy)) ** 2
    den = cxx * cyy
    ok = den > 0
    r2 = np.clip(np.divide(num, np.where(ok, den, 1.0)), 0.0, 1.0)
    r2 = np.where(ok, r2, 0.0)
    return -np.log2(np.maximum(1.0 - r2, _MIN_ONE_MINUS_RHO2))


def _mi_pair(c: np.ndarray, i: int, j: int) -> np.ndarray:
    return gaussian_mutual_information(c[..., i, i], c[..., j, j], c[..., i, j])


def gaussian_one_way_bs(cov: ArrayLike) -> np.ndarray:
    r"""One-way key rate from the BS's unquantised :math:`z_a` [bits per probing]: :math:`[I(a;b) - I(a;e)]^+`.

    The Csiszar-Korner one-way secret-key capacity of the Gaussian source model with
    :math:`z_a` as the reference ([CK78]_, [AC93]_; Gaussian optimality of :math:`V = U = z_a` by the
    degradedness of scalar Gaussian channels, [LH78]_). It is at most the SKR
    :math:`I(z_a; z_b \mid z_e)`.

    Parameters
    ----------
    cov : array_like, ``(..., 3, 3)``
        Covariance of :math:`(z_a, z_b, z_e)`.

    Returns
    -------
    ndarray ``(...)``

    Examples
    --------
    >>> c = np.array([[1.0, 0.9, 0.5], [0.9, 1.0, 0.45], [0.5, 0.45, 1.0]])
    >>> round(float(gaussian_one_way_bs(c)), 6), round(float(gaussian_one_way_user(c)), 6)
    (1.980891, 2.069485)
    """
    c = np.asarray(cov)
    return np.maximum(_mi_pair(c, 0, 1) - _mi_pair(c, 0, 2), 0.0)


def gaussian_one_way_user(cov: ArrayLike) -> np.ndarray:
    r"""One-way key rate from the user's unquantised :math:`z_b` [bits per probing]: :math:`[I(a;b) - I(b;e)]^+`.

    Reverse reconciliation: the user's measurement is the reference, as in continuous-variable QKD
    [GVW03]_; otherwise as :func:`gaussian_one_way_bs`.
    """
    c = np.asarray(cov)
    return np.maximum(_mi_pair(c, 0, 1) - _mi_pair(c, 1, 2), 0.0)
