r"""Near-field channel of a uniform planar array (UPA) in 3-D, C(2)-(3) and J(1)-(3).

The array: ``R`` rows of ``C`` columns in the x-z plane centred at the origin, broadside
along +y, the same spacing d along rows and columns. Element ``(m, n)`` (row ``m``, column
``n``) is antenna ``m C + n`` at :math:`(\delta_n d, 0, \delta_m d)` with
:math:`\delta_n = (2n - C + 1)/2`, :math:`\delta_m = (2m - R + 1)/2`. A node at distance
``r``, azimuth ``psi`` (from the y-axis towards x) and elevation ``el`` (from the x-y plane
towards z) sits at :math:`(r\cos el\sin\psi,\; r\cos el\cos\psi,\; r\sin el)`. Seen
from the front (+y)::

          z
          ^      row R-1:  (R-1)C ... RC-1
          |        ...
     -----+-----> x       (the array centre is the origin)
          |      row 0:    0 1 ... C-1

Each element sees the node at its own distance :math:`r^{(m,n)}`; ``R = 1`` is a ULA on the
x-axis (:func:`nfkg.model.channel.near_field_channel` serves it when ``el = 0``). The array
object is :class:`nfkg.model.channel.ULA` with ``rows = R``.

Contents
--------
upa_offsets
    Column and row offsets of every element.
element_distances
    :math:`r^{(m,n)}` of every element.
planar_near_field_channel
    The spherical-wave channel, batched and chunked, with the phase in extended precision.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["upa_offsets", "element_distances", "planar_near_field_channel"]

#: Elements (nodes x antennas) per chunk of :func:`planar_near_field_channel`.
_CHUNK_ELEMENTS = 1 << 16


def _offsets(count: int) -> np.ndarray:
    k = np.arange(int(count), dtype=float)
    return (2.0 * k - count + 1.0) / 2.0


def upa_offsets(rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    r"""Column and row offsets :math:`(\delta_n, \delta_m)` of every element, index ``m C + n``.

    :math:`\delta_n = (2n - C + 1)/2`, :math:`\delta_m = (2m - R + 1)/2`: element ``(m, n)``
    sits at :math:`(\delta_n d, 0, \delta_m d)`.

    >>> upa_offsets(2, 3)
    (array([-1.,  0.,  1., -1.,  0.,  1.]), array([-0.5, -0.5, -0.5,  0.5,  0.5,  0.5]))
    """
    rows, cols = int(rows), int(cols)
    return np.tile(_offsets(cols), rows), np.repeat(_offsets(rows), cols)


def _direction(psi: np.ndarray, el: np.ndarray, ld: type = float) -> tuple[np.ndarray, np.ndarray]:
    """Direction cosines of a node along x and z: :math:`(\\cos el \\sin\\psi, \\sin el)`."""
    psi, el = psi.astype(ld), el.astype(ld)
    return np.cos(el) * np.sin(psi), np.sin(el)


def element_distances(r: ArrayLike, psi: ArrayLike, el: ArrayLike, rows: int, cols: int,
                      spacing: float) -> np.ndarray:
    r"""Distances :math:`r^{(m,n)}` from a node to every element of a planar array, C(3)/J(1) in 3-D.

    .. math::
        r^{(m,n)} = \sqrt{r^2 - 2 r d(\theta_x\delta_n + \theta_z\delta_m)
                         + d^2(\delta_n^2 + \delta_m^2)},\quad
        \theta_x = \cos el\sin\psi,\; \theta_z = \sin el

    Returns
    -------
    ndarray, shape ``(..., R C)``, element ``m C + n`` last.
    """
    r, psi, el = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (r, psi, el)))
    tx, tz = _direction(psi, el)
    dn, dm = upa_offsets(rows, cols)
    lin = tx[..., None] * dn + tz[..., None] * dm
    q = (dn * dn + dm * dm) * spacing * spacing
    return np.sqrt(np.maximum(r[..., None] ** 2 + q - 2.0 * r[..., None] * spacing * lin, 0.0))


def planar_near_field_channel(
    r: ArrayLike,
    psi: ArrayLike,
    el: ArrayLike,
    rows: int,
    cols: int,
    wavelength: float,
    spacing: float | None = None,
    pathloss_exponent: float = 2.0,
    d0: float = 1.0,
) -> np.ndarray:
    r"""Spherical-wave LoS channel of a uniform planar array, C(2)-(3), J(1)-(3) in 3-D.

    .. math::
        f[mC + n] = \sqrt{\beta^{(m,n)}}\, e^{-j \frac{2\pi}{\lambda}(r^{(m,n)} - r)},\qquad
        \beta^{(m,n)} = \beta_0 \left(\frac{d_0}{r^{(m,n)}}\right)^{\epsilon}

    with :math:`r^{(m,n)}` of :func:`element_distances` (each element's own distance; the
    geometry in the module docstring). ``rows = 1`` is a ULA seen from elevation ``el``.

    Parameters
    ----------
    r, psi, el : array_like, broadcastable shapes ``(...)``
        Distance [m], azimuth and elevation [rad] of the node.
    rows, cols : int
        R rows and C columns (N = R C elements).
    wavelength, spacing, pathloss_exponent, d0
        As :func:`nfkg.model.channel.near_field_channel` (the same spacing d along rows and columns).

    Returns
    -------
    ndarray of complex128, shape ``(..., R C)``

    Notes
    -----
    Precision as :func:`nfkg.model.channel.near_field_channel`: the phase in cycles,
    :math:`(r^{(m,n)} - r)/\lambda = -L + c`, with the linear term
    :math:`L = (\theta_x\delta_n + \theta_z\delta_m) d/\lambda` in extended precision split into
    two float64 parts and the curvature term
    :math:`c = (q + L\,(r^{(m,n)} - r)/\lambda)/((r^{(m,n)} + r)/\lambda)`,
    :math:`q = (\delta_n^2 + \delta_m^2) d^2/\lambda^2`, without cancellation.

    Examples
    --------
    >>> f = planar_near_field_channel(12.0, 0.2, 0.1, 16, 16, 0.01)
    >>> f.shape
    (256,)
    """
    spacing = wavelength / 2.0 if spacing is None else spacing
    r, psi, el = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (r, psi, el)))
    rows, cols = int(rows), int(cols)
    n_ant = rows * cols
    out = np.empty((*r.shape, n_ant), dtype=complex)
    flat_r, flat_psi, flat_el = r.reshape(-1), psi.reshape(-1), el.reshape(-1)
    flat_out = out.reshape(-1, n_ant)
    ld = np.longdouble
    dn, dm = upa_offsets(rows, cols)                    # half-integers: exact
    s_w = spacing / wavelength
    dn_w, dm_w = dn * s_w, dm * s_w
    q = dn_w * dn_w + dm_w * dm_w                       # (delta_n^2 + delta_m^2) d^2 / lambda^2
    dn_ld, dm_ld = dn.astype(ld), dm.astype(ld)
    beta_amp = wavelength / (4.0 * np.pi)
    half_eps = pathloss_exponent / 2.0
    step = max(1, _CHUNK_ELEMENTS // max(n_ant, 1))
    for lo in range(0, flat_r.size, step):
        hi = min(lo + step, flat_r.size)
        rho = (flat_r[lo:hi] / wavelength)[:, None]
        tx_ld, tz_ld = _direction(flat_psi[lo:hi], flat_el[lo:hi], ld)
        tx, tz = tx_ld.astype(float)[:, None], tz_ld.astype(float)[:, None]
        lin = (tx_ld * ld(s_w))[:, None] * dn_ld + (tz_ld * ld(s_w))[:, None] * dm_ld   # L, extended
        lin_hi = lin.astype(float)
        lin_lo = (lin - lin_hi).astype(float)
        lin64 = tx * dn_w + tz * dm_w
        num = q - 2.0 * rho * lin64                      # (r^(mn)^2 - r^2) / lambda^2
        rho_n = np.sqrt(np.maximum(rho * rho + num, 0.0))
        den = rho_n + rho
        cyc64 = num / den
        corr = (q + lin64 * cyc64) / den                 # cycles + L
        _phase_and_gain(flat_out[lo:hi], lin_hi, lin_lo, corr, rho_n, wavelength, beta_amp, d0, half_eps)
    return out


def _phase_and_gain(blk: np.ndarray, lin_hi: np.ndarray, lin_lo: np.ndarray, corr: np.ndarray, rho_n: np.ndarray,
                    wavelength: float, beta_amp: float, d0: float, half_eps: float) -> None:
    """Write one chunk of a spherical-wave channel into ``blk``: the phase from the cycles
    ``corr - (lin_hi + lin_lo)`` (each reduced modulo 1 first, so the large linear term keeps
    its extended precision) and the per-element gain ``sqrt(beta) (d0 / r^(n))^(eps/2)``
    (shared by the linear and the planar array)."""
    frac = (lin_hi - np.round(lin_hi)) + lin_lo
    frac = (corr - np.round(corr)) - frac
    np.exp(frac * (-2j * np.pi), out=blk)
    rn = rho_n * wavelength
    amp = beta_amp / rn if half_eps == 1.0 else beta_amp * (d0 / rn) ** half_eps
    if half_eps == 1.0 and d0 != 1.0:
        amp *= d0
    blk *= amp
