"""Unit conversions and physical constants.

Conventions: powers are stored in watts and entered in dBm, angles are in
radians, distances in metres, frequencies in hertz. The speed of light is exact
(:data:`scipy.constants.c`); the papers used ``3e8``.

Functions
---------
dbm_2_watt, watt_2_dbm
    Power conversions.
db_2_linear, linear_2_db
    Ratio conversions.
wavelength
    Carrier wavelength from the carrier frequency.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.constants import c as SPEED_OF_LIGHT

__all__ = [
    "SPEED_OF_LIGHT",
    "dbm_2_watt",
    "watt_2_dbm",
    "db_2_linear",
    "linear_2_db",
    "wavelength",
]


def dbm_2_watt(p_dbm: ArrayLike) -> np.ndarray:
    r"""Convert a power from dBm to watts.

    .. math:: P_\mathrm{W} = 10^{(P_\mathrm{dBm} - 30)/10}

    Examples
    --------
    >>> float(dbm_2_watt(30))
    1.0
    >>> print(f"{float(dbm_2_watt(-105)):.6e}")
    3.162278e-14

    See Also
    --------
    watt_2_dbm
    """
    return 10.0 ** ((np.asarray(p_dbm, dtype=float) - 30.0) / 10.0)


def watt_2_dbm(p_watt: ArrayLike) -> np.ndarray:
    r"""Convert a power from watts to dBm (``-inf`` for 0 W).

    Examples
    --------
    >>> float(watt_2_dbm(0.1))
    20.0

    See Also
    --------
    dbm_2_watt
    """
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(np.asarray(p_watt, dtype=float)) + 30.0


def db_2_linear(x_db: ArrayLike) -> np.ndarray:
    """Convert a power ratio from dB to linear scale.

    >>> float(db_2_linear(20))
    100.0
    """
    return 10.0 ** (np.asarray(x_db, dtype=float) / 10.0)


def linear_2_db(x: ArrayLike) -> np.ndarray:
    """Convert a power ratio from linear scale to dB (``-inf`` for 0).

    >>> float(linear_2_db(1000))
    30.0
    """
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(np.asarray(x, dtype=float))


def wavelength(carrier_hz: ArrayLike, speed: float = SPEED_OF_LIGHT) -> np.ndarray:
    r"""Carrier wavelength :math:`\lambda = c / f_c` in metres.

    Parameters
    ----------
    carrier_hz : array_like
        Carrier frequency [Hz].
    speed : float, optional
        Propagation speed [m/s]; exact speed of light by default. Pass ``3e8`` to
        reproduce the papers' rounded numbers.

    >>> round(float(wavelength(30e9)), 6)
    0.009993
    """
    return speed / np.asarray(carrier_hz, dtype=float)
