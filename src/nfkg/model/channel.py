"""Near-field (spherical-wave) channel of a uniform linear or planar array (C II-B/C, J II-B/C).

Geometry: an N-antenna ULA on the x-axis centred at the origin, antenna n at
:math:`(\\delta_n d, 0)` with :math:`\\delta_n = (2n - N + 1)/2`. A node (user or
eavesdropper) at distance ``r`` and angle ``psi`` from the y-axis sits at
:math:`(r \\sin\\psi, r \\cos\\psi)`.

Planar arrays (UPA) in 3-D: ``R`` rows of ``C = N / R`` columns in the x-z plane centred at
the origin, broadside along +y. Element ``(m, n)`` (row ``m``, column ``n``) has index
``m C + n`` and sits at :math:`(\\delta_n d, 0, \\delta_m d)` with
:math:`\\delta_n = (2n - C + 1)/2`, :math:`\\delta_m = (2m - R + 1)/2`. A node at
distance ``r``, azimuth ``psi`` (from the y-axis towards x) and elevation ``el`` (from the
x-y plane towards z) sits at
:math:`(r\\cos el\\sin\\psi,\\; r\\cos el\\cos\\psi,\\; r\\sin el)`, and each element sees
it at its own distance :math:`r^{(m,n)}` in C(2)/J(1). Seen from the front (+y)::

          z
          ^      row R-1:  (R-1)C ... RC-1
          |        ...
     -----+-----> x       (the array centre is the origin)
          |      row 0:    0 1 ... C-1

``R = 1`` with ``el = 0`` is the ULA above, with the same numbers bit for bit.

Contents
--------
ULA
    Frozen description of the array and carrier (wavelength, spacing, path loss).
antenna_offsets, antenna_positions, node_position
    Geometry.
antenna_distances, path_difference
    :math:`r^{(n)}` of C(3)/J(1) and :math:`r^{(n)} - r` without cancellation.
near_field_channel
    Spherical-wave channel with per-antenna path loss, C(2)-(3), J(1)-(3).
far_field_channel
    Planar-wave (far-field) approximation, for comparison.
nlos_channel
    LoS plus scattered near-field paths, J VIII-B (an option, never a default).
rayleigh_distance, reactive_distance
    Near-field boundaries, C(1) and J II-C (the aperture's diagonal for a UPA).
aperture, planar_array
    The aperture (a ULA's length, a UPA's diagonal); a UPA's :class:`ULA` object (its
    channel: :mod:`nfkg.model.planar`).

All functions broadcast: a batch of positions of shape ``(...)`` gives channels of
shape ``(..., N)`` in one call. No N x N matrix is formed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from .planar import _phase_and_gain, planar_near_field_channel
from .units import SPEED_OF_LIGHT

__all__ = [
    "ULA",
    "antenna_offsets",
    "antenna_positions",
    "node_position",
    "antenna_distances",
    "path_difference",
    "near_field_channel",
    "far_field_channel",
    "nlos_channel",
    "rayleigh_distance",
    "reactive_distance",
    "aperture",
    "planar_array",
]


def antenna_offsets(n_ant: int) -> np.ndarray:
    r"""Antenna index offsets :math:`\delta_n = (2n - N + 1)/2`, ``n = 0..N-1``.

    >>> antenna_offsets(4)
    array([-1.5, -0.5,  0.5,  1.5])
    """
    n = np.arange(int(n_ant), dtype=float)
    return (2.0 * n - n_ant + 1.0) / 2.0


def antenna_positions(n_ant: int, spacing: float) -> np.ndarray:
    """Antenna coordinates ``(N, 2)`` [m] of the ULA on the x-axis."""
    pos = np.zeros((int(n_ant), 2))
    pos[:, 0] = antenna_offsets(n_ant) * spacing
    return pos


def node_position(r: ArrayLike, psi: ArrayLike) -> np.ndarray:
    r"""Cartesian position ``(..., 2)`` of a node at distance ``r`` [m], angle ``psi`` [rad].

    .. math:: (x, y) = (r \sin\psi,\; r\cos\psi)
    """
    r = np.asarray(r, dtype=float)
    psi = np.asarray(psi, dtype=float)
    return np.stack(np.broadcast_arrays(r * np.sin(psi), r * np.cos(psi)), axis=-1)


def antenna_distances(r: ArrayLike, psi: ArrayLike, n_ant: int, spacing: float) -> np.ndarray:
    r"""Distances :math:`r^{(n)}` from a node to every antenna, C(3), J(1).

    .. math:: r^{(n)} = \sqrt{r^2 + d^2\delta_n^2 - 2 r \theta d \delta_n},\quad \theta = \sin\psi

    Parameters
    ----------
    r, psi : array_like, broadcastable shapes ``(...)``
        Distance [m] and angle [rad] of the node.
    n_ant : int
        Number of antennas N.
    spacing : float
        Antenna spacing d [m].

    Returns
    -------
    ndarray, shape ``(..., N)``
    """
    r = np.asarray(r, dtype=float)[..., None]
    return r + path_difference(r[..., 0], psi, n_ant, spacing)


def path_difference(r: ArrayLike, psi: ArrayLike, n_ant: int, spacing: float) -> np.ndarray:
    r"""Path difference :math:`r^{(n)} - r` to every antenna, without cancellation.

    .. math::
        r^{(n)} - r = \frac{d^2\delta_n^2 - 2 r\theta d\delta_n}{r^{(n)} + r}

    The direct difference ``sqrt(...) - r`` loses ``log10(r / |r^(n) - r|)`` digits
    (five at 10 km); this form keeps full precision, which the channel's phase
    :math:`2\pi(r^{(n)} - r)/\lambda` needs.

    Returns
    -------
    ndarray, shape ``(..., N)``
    """
    r = np.asarray(r, dtype=float)[..., None]
    theta = np.sin(np.asarray(psi, dtype=float))[..., None]
    dd = antenna_offsets(n_ant) * spacing
    num = dd * (dd - 2.0 * r * theta)
    rn = np.sqrt(np.maximum(r * r + num, 0.0))
    rn += r
    num /= rn
    return num


def near_field_channel(
    r: ArrayLike,
    psi: ArrayLike,
    n_ant: int,
    wavelength: float,
    spacing: float | None = None,
    pathloss_exponent: float = 2.0,
    d0: float = 1.0,
) -> np.ndarray:
    r"""Spherical-wave LoS channel with per-antenna path loss, C(2)-(3), J(1)-(3).

    .. math::
        f[n] = \sqrt{\beta^{(n)}}\, e^{-j \frac{2\pi}{\lambda}(r^{(n)} - r)},\qquad
        \beta^{(n)} = \beta_0 \left(\frac{d_0}{r^{(n)}}\right)^{\epsilon},\;
        \beta_0 = \left(\frac{\lambda}{4\pi}\right)^2

    The vector already includes the :math:`\sqrt{N}` of C(2), so
    :math:`|f[n]|^2 = \beta^{(n)}`.

    Parameters
    ----------
    r, psi : array_like, broadcastable shapes ``(...)``
        Distance [m] and angle from the array broadside [rad].
    n_ant : int
        Number of antennas N.
    wavelength : float
        Carrier wavelength [m].
    spacing : float, optional
        Antenna spacing d [m]; half a wavelength by default.
    pathloss_exponent : float
        :math:`\epsilon` (2 in free space).
    d0 : float
        Reference distance [m] of :math:`\beta_0`.

    Returns
    -------
    ndarray of complex128, shape ``(..., N)``

    Notes
    -----
    Precision. The phase :math:`2\pi(r^{(n)} - r)/\lambda` reaches thousands of radians
    on a large array; computed in float64 it carries an absolute error of a few ulps of
    that size (~1e-13 rad at N = 1024), which the exact engine would faithfully pass on
    at SNRs of 1e20. So the phase is computed in cycles,
    :math:`(r^{(n)} - r)/\lambda = -\theta\delta_n d/\lambda + c_n` with the curvature term
    :math:`c_n = (\delta_n'^2 + \theta\delta_n' (r^{(n)} - r)/\lambda)/((r^{(n)} + r)/\lambda)`,
    :math:`\delta_n' = \delta_n d/\lambda` (no cancellation): the large linear term as one
    ``numpy.longdouble`` product (80-bit extended precision on x86-64 Linux; float64
    where the platform has no wider type) split into two float64 parts, each part
    reduced to a fraction of a cycle before the exponential. The channel is then within
    ~1e-15 relative of a 50-digit evaluation (N = 16 to 1024), against ~4e-13 for the
    plain float64 phase. The batch is processed in chunks, so the temporaries stay a
    bounded fraction of the output.

    Examples
    --------
    >>> f = near_field_channel(12.0, 0.2, 256, 0.01)
    >>> f.shape
    (256,)
    """
    spacing = wavelength / 2.0 if spacing is None else spacing
    r, psi = np.broadcast_arrays(np.asarray(r, dtype=float), np.asarray(psi, dtype=float))
    n_ant = int(n_ant)
    out = np.empty((*r.shape, n_ant), dtype=complex)
    flat_r, flat_psi, flat_out = r.reshape(-1), psi.reshape(-1), out.reshape(-1, n_ant)
    ld = np.longdouble
    delta = antenna_offsets(n_ant)                      # half-integers: exact
    s_w = spacing / wavelength                          # d / lambda
    dw = delta * s_w                                    # delta_n d / lambda
    delta_ld = delta.astype(ld)
    beta_amp = wavelength / (4.0 * np.pi)
    half_eps = pathloss_exponent / 2.0
    step = max(1, _CHUNK_ELEMENTS // max(n_ant, 1))
    for lo in range(0, flat_r.size, step):
        hi = min(lo + step, flat_r.size)
        rho = (flat_r[lo:hi] / wavelength)[:, None]   # r / lambda
        th_ld = np.sin(flat_psi[lo:hi].astype(ld))
        th = th_ld.astype(float)[:, None]
        # cycles = (r^(n) - r)/lambda = -theta delta d/lambda + corr, the large linear term in
        # extended precision (one product per element), the curvature term in float64.
        lin = (th_ld * ld(s_w))[:, None] * delta_ld    # theta delta d / lambda
        lin_hi = lin.astype(float)
        lin_lo = (lin - lin_hi).astype(float)
        num = dw * (dw - 2.0 * rho * th)                 # (r^(n)^2 - r^2)/lambda^2
        rho_n = np.sqrt(rho * rho + num)
        den = rho_n + rho
        cyc64 = num / den
        corr = (dw * dw + th * dw * cyc64) / den         # cycles + theta delta d/lambda
        _phase_and_gain(flat_out[lo:hi], lin_hi, lin_lo, corr, rho_n, wavelength, beta_amp, d0, half_eps)
    return out


#: Elements (nodes x antennas) per chunk of :func:`near_field_channel`.
_CHUNK_ELEMENTS = 1 << 16


def planar_array(rows: int, cols: int, carrier_hz: float = 30e9, **kwargs) -> "ULA":
    """The :class:`ULA` object of an ``rows x cols`` uniform planar array (``n_ant = rows * cols``).

    >>> a = planar_array(32, 32)
    >>> a.n_ant, a.rows, a.cols
    (1024, 32, 32)
    """
    return ULA(int(rows) * int(cols), carrier_hz, rows=int(rows), **kwargs)


def far_field_channel(
    r: ArrayLike,
    psi: ArrayLike,
    n_ant: int,
    wavelength: float,
    spacing: float | None = None,
    pathloss_exponent: float = 2.0,
    d0: float = 1.0,
) -> np.ndarray:
    r"""Planar-wave (far-field) channel: first-order expansion of :math:`r^{(n)}`.

    .. math::
        f[n] = \sqrt{\beta}\, e^{\,j \frac{2\pi}{\lambda} \theta d \delta_n},\qquad
        \beta = \beta_0 (d_0/r)^{\epsilon}

    Same shapes and units as :func:`near_field_channel`; all antennas see the path
    loss of the array centre.
    """
    spacing = wavelength / 2.0 if spacing is None else spacing
    r = np.asarray(r, dtype=float)[..., None]
    theta = np.sin(np.asarray(psi, dtype=float))[..., None]
    beta0 = (wavelength / (4.0 * np.pi)) ** 2
    amp = np.sqrt(beta0) * (d0 / r) ** (pathloss_exponent / 2.0)
    phase = 2.0 * np.pi / wavelength * theta * spacing * antenna_offsets(n_ant)
    return amp * np.exp(1j * phase)


def nlos_channel(
    r: ArrayLike,
    psi: ArrayLike,
    scatter_r: ArrayLike,
    scatter_psi: ArrayLike,
    gains: ArrayLike,
    n_ant: int,
    wavelength: float,
    spacing: float | None = None,
    pathloss_exponent: float = 2.0,
    d0: float = 1.0,
) -> np.ndarray:
    r"""LoS plus :math:`D` scattered near-field paths, J VIII-B.

    .. math::
        \mathbf f = \sqrt{N}\mathbf c(\psi, r)
          + \sqrt{\tfrac{N}{D}} \sum_{j=1}^{D} \alpha_j \mathbf c(\psi_j, r_j)

    Parameters
    ----------
    r, psi : array_like, shape ``(...)``
        LoS distance [m] and angle [rad].
    scatter_r, scatter_psi, gains : array_like, shape ``(..., D)``
        Distance, angle and complex gain of each scattered path.

    Returns
    -------
    ndarray, shape ``(..., N)``
    """
    kw = dict(n_ant=n_ant, wavelength=wavelength, spacing=spacing,
              pathloss_exponent=pathloss_exponent, d0=d0)
    los = near_field_channel(r, psi, **kw)
    gains = np.asarray(gains)
    n_paths = gains.shape[-1]
    if n_paths == 0:
        return los
    paths = near_field_channel(scatter_r, scatter_psi, **kw)  # (..., D, N)
    return los + np.einsum("...d,...dn->...n", gains, paths) / np.sqrt(n_paths)


def aperture(n_ant: ArrayLike, spacing: float, convention: str = "J", rows: int = 1) -> np.ndarray:
    r"""Aperture D [m] of the near-field boundaries: the length of a ULA, the diagonal of a UPA.

    ULA (``rows = 1``): :math:`D = (N-1)d` (J) or :math:`D = Nd` (C). UPA of ``R = rows``
    rows and ``C = N/R`` columns: the diagonal, :math:`D = d\sqrt{(C-1)^2 + (R-1)^2}` (J,
    between the corner elements) or :math:`D = d\sqrt{C^2 + R^2}` (C, the elements' cells).

    >>> float(aperture(4, 1.0, "J", rows=2)), float(aperture(4, 1.0, "C", rows=2))
    (1.4142135623730951, 2.8284271247461903)
    """
    n_ant = np.asarray(n_ant, dtype=float)
    rows = int(rows)
    if convention not in ("J", "C"):
        raise ValueError(f"aperture convention must be 'C' (N d) or 'J' ((N-1) d), got {convention!r}")
    if rows == 1:
        return (n_ant - 1.0) * spacing if convention == "J" else n_ant * spacing
    cols = n_ant / rows
    if convention == "J":
        return np.hypot(cols - 1.0, rows - 1.0) * spacing
    return np.hypot(cols, float(rows)) * spacing


def _aperture(n_ant: ArrayLike, spacing: float, convention: str, rows: int = 1) -> np.ndarray:
    return aperture(n_ant, spacing, convention, rows)


def rayleigh_distance(
    n_ant: ArrayLike, wavelength: float, spacing: float | None = None, convention: str = "J", rows: int = 1
) -> np.ndarray:
    r"""Rayleigh (Fraunhofer) distance :math:`2D^2/\lambda`, C(1), J II-C.

    Parameters
    ----------
    convention : {'J', 'C'}
        Aperture :math:`D = (N-1)d` (J, default) or :math:`D = Nd` (C).
    rows : int
        Rows R of a planar array; D is then its diagonal (:func:`aperture`).

    Examples
    --------
    C's 53.57 m (28 GHz, N = 100, with the papers' c = 3e8):

    >>> round(float(rayleigh_distance(100, 3e8 / 28e9, convention="C")), 2)
    53.57
    """
    spacing = wavelength / 2.0 if spacing is None else spacing
    d_ap = _aperture(n_ant, spacing, convention, rows)
    return 2.0 * d_ap**2 / wavelength


def reactive_distance(
    n_ant: ArrayLike, wavelength: float, spacing: float | None = None, convention: str = "J", rows: int = 1
) -> np.ndarray:
    r"""Reactive/radiative near-field boundary :math:`0.62\sqrt{D^3/\lambda}`, J II-C.

    ``rows``: as :func:`rayleigh_distance` (the diagonal of a planar array).

    >>> round(float(reactive_distance(100, 3e8 / 28e9)), 1)
    2.3
    """
    spacing = wavelength / 2.0 if spacing is None else spacing
    d_ap = _aperture(n_ant, spacing, convention, rows)
    return 0.62 * np.sqrt(d_ap**3 / wavelength)


@dataclass(frozen=True)
class ULA:
    """A uniform linear array, or a uniform planar array, and its carrier (C II-B, J II-B).

    Parameters
    ----------
    n_ant : int
        Number of antennas N (``rows * cols`` for a planar array).
    carrier_hz : float
        Carrier frequency f_c [Hz].
    spacing_wavelengths : float
        d / lambda (0.5 by default).
    pathloss_exponent : float
        epsilon of the path loss (2 by default).
    d0 : float
        Reference distance [m].
    speed : float
        Propagation speed [m/s] (exact c by default).
    rows : int
        Rows R of a uniform planar array in the x-z plane (1, the default: a ULA on the
        x-axis); ``n_ant`` must be a multiple of it, ``cols = n_ant // rows``. Element
        ``(m, n)`` is antenna ``m * cols + n`` (see the module docstring).

    Examples
    --------
    >>> ula = ULA(256, 30e9)
    >>> ula.channel([12.0, 13.0], [-0.6, 0.6]).shape
    (2, 256)
    >>> upa = ULA(1024, 30e9, rows=32)
    >>> upa.cols, upa.channel(12.0, 0.3, el=0.2).shape
    (32, (1024,))
    """

    n_ant: int
    carrier_hz: float = 30e9
    spacing_wavelengths: float = 0.5
    pathloss_exponent: float = 2.0
    d0: float = 1.0
    speed: float = SPEED_OF_LIGHT
    rows: int = 1

    @property
    def cols(self) -> int:
        """Columns C = N / R (N for a ULA)."""
        return int(self.n_ant) // max(int(self.rows), 1)

    @property
    def planar(self) -> bool:
        """``True`` for a planar array (more than one row)."""
        return int(self.rows) > 1

    @property
    def wavelength(self) -> float:
        """Carrier wavelength [m]."""
        return self.speed / self.carrier_hz

    @property
    def spacing(self) -> float:
        """Antenna spacing d [m]."""
        return self.spacing_wavelengths * self.wavelength

    def aperture(self, convention: str = "J") -> float:
        """Aperture D [m]: the length of a ULA, the diagonal of a UPA; see :func:`aperture`."""
        return float(aperture(self.n_ant, self.spacing, convention, self.rows))

    def rayleigh_distance(self, convention: str = "J") -> float:
        """Rayleigh distance [m] of this array (the diagonal of a UPA); see :func:`rayleigh_distance`."""
        return float(rayleigh_distance(self.n_ant, self.wavelength, self.spacing, convention, self.rows))

    def reactive_distance(self, convention: str = "J") -> float:
        """Reactive near-field bound [m] (the diagonal of a UPA); see :func:`reactive_distance`."""
        return float(reactive_distance(self.n_ant, self.wavelength, self.spacing, convention, self.rows))

    def channel(self, r: ArrayLike, psi: ArrayLike, el: ArrayLike | None = None) -> np.ndarray:
        """Near-field channels ``(..., N)`` of nodes at ``(r, psi)`` or ``(r, psi, el)``.

        A ULA with ``el`` absent (or all zero) uses :func:`near_field_channel`; a planar
        array, or a node off the x-y plane, :func:`~nfkg.model.planar.planar_near_field_channel`.
        """
        if int(self.rows) == 1 and (el is None or not np.any(np.asarray(el))):
            return near_field_channel(r, psi, self.n_ant, self.wavelength, self.spacing,
                                      self.pathloss_exponent, self.d0)
        return planar_near_field_channel(r, psi, 0.0 if el is None else el, self.rows, self.cols,
                                         self.wavelength, self.spacing, self.pathloss_exponent, self.d0)

    def far_field(self, r: ArrayLike, psi: ArrayLike) -> np.ndarray:
        """Far-field (planar) channels ``(..., N)``; see :func:`far_field_channel`."""
        return far_field_channel(r, psi, self.n_ant, self.wavelength, self.spacing,
                                 self.pathloss_exponent, self.d0)
