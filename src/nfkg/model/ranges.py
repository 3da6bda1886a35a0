r"""Accepted ranges of every scenario quantity: the one table that all inputs are checked against.

The same bounds apply to the three ways of describing a scenario: the TOML scenario file
(:mod:`nfkg.model.scenario_file`), the figure overrides ``nfkg figure ID --param
KEY=VALUE`` (:data:`FIGURE_LIMITS`) and the Python API. The checks that apply them, and
the one-line :class:`~nfkg.model.limits.LimitError` they raise, are those of
:mod:`nfkg.model.limits` (every name of this module is importable from there too).

=======================  ========  ===========  ====================================
key                      unit      default      accepted values
=======================  ========  ===========  ====================================
carrier_ghz              GHz       30           0.1 ... 1,000
antennas                 --        256          integer 1 ... 65,536
spacing_wavelengths      --        0.5          0.01 ... 100 (d / lambda)
pathloss_exponent        --        2            0 ... 6
pt_dbm                   dBm       20           -50 ... 60
ue_dbm                   dBm       pt_dbm       -50 ... 60
noise_dbm                dBm       -105         -200 ... 60
noise_a/b/e_dbm          dBm       noise_dbm    -200 ... 60
pilot_length             --        1            integer 1 ... 1,000,000
users                    --        (required)   1 ... 64 ``{r, psi}`` tables
eves                     --        (required)   exactly one per user
r                        m         (required)   > 0 and <= 10,000
psi                      rad       (required)   -pi/2 ... pi/2
array_rows               --        1            integer 1 ... 65,536, dividing antennas
el                       rad       0            -pi/2 ... pi/2 (a node's elevation)
=======================  ========  ===========  ====================================

Every node must also lie at least 1 mm (:data:`MIN_CLEARANCE_M`) from every antenna of
the array.

Contents
--------
MAX_USERS, MIN_CLEARANCE_M
    Most users (and Eves) in one scenario; least distance of a node from any antenna.
Limit, LIMITS
    One row of the table; the table keyed by scenario-file key.
FIGURE_LIMITS
    Figure parameter (``--param``) -> its row (``n_ant`` -> ``antennas``, ...).
show
    A short, safe rendering of any input for a message.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

import numpy as np

__all__ = [
    "MAX_USERS",
    "MIN_CLEARANCE_M",
    "Limit",
    "LIMITS",
    "FIGURE_LIMITS",
    "show",
]

#: Most users (and Eves) in one scenario.
MAX_USERS = 64
#: Least distance [m] between a node and any antenna of the array.
MIN_CLEARANCE_M = 1e-3
#: Slack on |psi| <= pi/2, so that psi = +-pi/2 computed in floating point passes.
PSI_TOL = 1e-12
_BIG_INT = 10**15  # integers at least this large are shown by their number of digits


def _fmt(x: float) -> str:
    """``65536`` -> ``'65,536'``, ``0.1`` -> ``'0.1'``, ``1e-08`` -> ``'1e-08'``."""
    if float(x).is_integer() and abs(x) < 1e7:
        return f"{int(x):,}"
    return f"{x:g}"


@dataclass(frozen=True)
class Limit:
    """One row of the table: the accepted values of one key.

    Attributes
    ----------
    key : str
        The scenario-file key (``'carrier_ghz'``) or the quantity (``'r'``).
    lo, hi : float
        Bounds, inclusive unless ``lo_open``.
    unit : str
        Unit of ``lo``/``hi`` in messages (``'GHz'``, ``'dBm'``, ``'m'``, ``'rad'`` or ``''``).
    integer : bool
        Whether the value must be an integer.
    lo_open : bool
        ``lo < value`` instead of ``lo <= value``.
    default : object
        Default of the scenario file (``None``: see ``doc``).
    doc : str
        Meaning, for the tables of the docs.
    lo_text, hi_text : str, optional
        How to write the bounds (``'-pi/2'``).
    tol : float
        Absolute slack on both bounds (rounding of pi/2).
    note : str
        Appended to the range in messages (e.g. the range in another unit).
    """

    key: str
    lo: float
    hi: float
    unit: str = ""
    integer: bool = False
    lo_open: bool = False
    default: Any = None
    doc: str = ""
    lo_text: str | None = None
    hi_text: str | None = None
    tol: float = 0.0
    note: str = ""

    def range_text(self) -> str:
        """``'an integer between 1 and 65,536'``, ``'> 0 and <= 10,000 m'``, ..."""
        lo = self.lo_text or _fmt(self.lo)
        hi = self.hi_text or _fmt(self.hi)
        unit = f" {self.unit}" if self.unit else ""
        if self.lo_open:
            text = f"> {lo} and <= {hi}{unit}"
        else:
            text = f"between {lo} and {hi}{unit}"
        if self.integer:
            text = "an integer " + text
        return text + (f" ({self.note})" if self.note else "")

    def reason(self, value: Any) -> str | None:
        """Why a number of the right type is out of range; ``None`` if it is accepted."""
        if isinstance(value, (float, np.floating)) and not math.isfinite(value):
            return f"must be a finite number (got {show(value)})"
        # exact comparisons: a Python int of any size never goes through float
        ok_lo = value > self.lo - self.tol if self.lo_open else value >= self.lo - self.tol
        if ok_lo and value <= self.hi + self.tol:
            return None
        return f"must be {self.range_text()} (got {show(value)})"

    def reasons(self, values: np.ndarray) -> np.ndarray:
        """Boolean mask of the rejected entries of a float or integer array."""
        v = np.asarray(values)
        with np.errstate(invalid="ignore"):
            ok_lo = (v > self.lo - self.tol) if self.lo_open else (v >= self.lo - self.tol)
            ok = ok_lo & (v <= self.hi + self.tol)
        if v.dtype.kind == "f":
            ok &= np.isfinite(v)
        return ~ok

    def scaled(self, factor: float, unit: str, rtol: float = 1e-12) -> "Limit":
        """The same row in another unit (``GHz`` -> ``Hz``: factor 1e9)."""
        note = f"{self.lo_text or _fmt(self.lo)} to {self.hi_text or _fmt(self.hi)} {self.unit}".strip()
        return replace(self, lo=self.lo * factor, hi=self.hi * factor, unit=unit, lo_text=None, hi_text=None,
                       tol=rtol * max(abs(self.lo), abs(self.hi)) * factor, note=note)


def _row(key: str, lo: float, hi: float, unit: str = "", default: Any = None, doc: str = "", **kw: Any) -> Limit:
    return Limit(key, lo, hi, unit, default=default, doc=doc, **kw)


#: The table, keyed by the scenario-file key (``r`` and ``psi`` are the keys of each node).
LIMITS: Mapping[str, Limit] = MappingProxyType({row.key: row for row in (
    _row("carrier_ghz", 0.1, 1000.0, "GHz", 30.0, "carrier frequency f_c"),
    _row("antennas", 1, 65_536, "", 256, "number of BS antennas N", integer=True),
    _row("spacing_wavelengths", 0.01, 100.0, "", 0.5, "antenna spacing d / lambda"),
    _row("pathloss_exponent", 0.0, 6.0, "", 2.0, "path-loss exponent epsilon"),
    _row("pt_dbm", -50.0, 60.0, "dBm", 20.0, "BS power budget P_max; also P_b unless ue_dbm is given"),
    _row("ue_dbm", -50.0, 60.0, "dBm", None, "users' transmit power P_b (default: pt_dbm)"),
    _row("noise_dbm", -200.0, 60.0, "dBm", -105.0, "noise power at the BS (per antenna), users and Eves"),
    _row("noise_a_dbm", -200.0, 60.0, "dBm", None, "BS noise sigma_a^2 (default: noise_dbm)"),
    _row("noise_b_dbm", -200.0, 60.0, "dBm", None, "users' noise sigma_b^2 (default: noise_dbm)"),
    _row("noise_e_dbm", -200.0, 60.0, "dBm", None, "Eves' noise sigma_e^2 (default: noise_dbm)"),
    _row("pilot_length", 1, 1_000_000, "", 1, "pilot length V", integer=True),
    _row("users", 1, MAX_USERS, "", None, "users' positions, {r, psi} tables", integer=True),
    _row("r", 0.0, 10_000.0, "m", None, "distance of a node from the array centre", lo_open=True),
    _row("psi", -math.pi / 2, math.pi / 2, "rad", None, "angle of a node from the broadside",
         lo_text="-pi/2", hi_text="pi/2", tol=PSI_TOL),
    _row("array_rows", 1, 65_536, "", 1, "rows R of a uniform planar array (1: a ULA); antennas = R x C",
         integer=True),
    _row("el", -math.pi / 2, math.pi / 2, "rad", 0.0, "elevation of a node above the x-y plane",
         lo_text="-pi/2", hi_text="pi/2", tol=PSI_TOL),
)})

#: Figure parameters (``nfkg figure ID --param KEY=VALUE``) -> the row they are checked against.
FIGURE_LIMITS: Mapping[str, Limit] = MappingProxyType({
    "n_ant": LIMITS["antennas"],
    "carrier_ghz": LIMITS["carrier_ghz"],
    "spacing_wavelengths": LIMITS["spacing_wavelengths"],
    "pathloss_exponent": LIMITS["pathloss_exponent"],
    "pt_dbm": LIMITS["pt_dbm"],
    "noise_dbm": LIMITS["noise_dbm"],
    "pilot_length": LIMITS["pilot_length"],
    "r_b": LIMITS["r"],
    "r_e": LIMITS["r"],
    "psi_b": LIMITS["psi"],
    "psi_e": LIMITS["psi"],
    "n_users": LIMITS["users"],
    # offsets of Eve from her user; the resulting r_e, psi_e are checked against r and psi
    "dr": _row("dr", -10_000.0, 10_000.0, "m", doc="Eve's distance offset r_e - r_b"),
    "dpsi": _row("dpsi", -math.pi, math.pi, "rad", doc="Eve's angle offset psi_e - psi_b", lo_text="-pi", hi_text="pi"),
    # Monte Carlo figures (j9, t1)
    "rounds": _row("rounds", 1, 1_000_000, "", 10_000, "probing rounds T per point", integer=True),
    "seed": _row("seed", 0, 2**63 - 1, "", 0, "seed of the Monte Carlo draws", integer=True),
})


def show(value: Any) -> str:
    """A short, safe rendering of any input for a message (never a 400-digit number).

    >>> show(10**400), show(2.5), show("256"), show(True)
    ('a 401-digit integer', '2.5', "'256'", 'true')
    """
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        v = abs(int(value))
        if v < _BIG_INT:
            return str(int(value))
        n = int(v.bit_length() * math.log10(2)) + 1
        while n > 1 and 10 ** (n - 1) > v:
            n -= 1
        while 10**n <= v:
            n += 1
        return f"a {n}-digit integer"
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    if isinstance(value, (str, bytes)):
        text = repr(value)
        return text if len(text) <= 40 else text[:36] + "...'"
    if isinstance(value, (list, tuple, np.ndarray)):
        try:
            text = repr(value.tolist() if isinstance(value, np.ndarray) else value)
        except (RecursionError, ValueError):
            text = ""
        if text and len(text) <= 60:
            return text
        return f"a {type(value).__name__} of {len(value)} entries"
    if isinstance(value, Mapping):
        return "a table"
    return f"a {type(value).__name__}"
