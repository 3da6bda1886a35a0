r"""Checks of every scenario quantity against its accepted range, each failure one line naming the key.

The same checking code applies to the three ways of describing a scenario:

* the TOML scenario file (:mod:`nfkg.model.scenario_file`, keys such as ``carrier_ghz``),
* the figure overrides ``nfkg figure ID --param KEY=VALUE``
  (:func:`nfkg.studies.experiments.resolve_params`, keys such as ``n_ant``), and
* the Python API (:meth:`nfkg.model.scenario.Scenario.validate`,
  :meth:`nfkg.model.scenario.Scenario.from_dbm`, arguments such as ``ula.carrier_hz``).

The ranges themselves (keys, units, defaults and bounds) are the table of
:mod:`nfkg.model.ranges`; its names are importable from here too. Each failure raises one
:class:`LimitError` (a :class:`ValueError`) whose message is a single line naming the key
the user wrote, e.g. ``carrier_ghz: must be between 0.1 and 1,000 GHz (got 1e-300)``.
Integers must be integers (``256``, not ``256.0`` nor ``true``), numbers must be numbers
(``"20"`` is rejected) and finite, and every node must lie at least 1 mm
(:data:`~nfkg.model.ranges.MIN_CLEARANCE_M`) from every antenna of the array.

Contents
--------
LimitError
    The one-line error.
check, check_array, numbers, check_watts, check_ula, check_count, check_rows, check_clearance
    The checks.
nearest_antenna, nearest_element
    Distance from nodes to the nearest antenna of a ULA or element of a UPA (no ``N``-long arrays).
MAX_USERS, MIN_CLEARANCE_M, Limit, LIMITS, FIGURE_LIMITS, show
    The table and its helpers, re-exported from :mod:`nfkg.model.ranges`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from . import ranges as _ranges
from .ranges import Limit, _fmt, show

__all__ = [
    "MAX_USERS",
    "MIN_CLEARANCE_M",
    "Limit",
    "LIMITS",
    "FIGURE_LIMITS",
    "LimitError",
    "show",
    "check",
    "check_array",
    "numbers",
    "check_watts",
    "check_ula",
    "check_count",
    "nearest_antenna",
    "check_clearance",
    "check_rows",
    "nearest_element",
]


# The table's constants, importable from here too (the same objects as in nfkg.model.ranges).
#: Most users (and Eves) in one scenario: :data:`nfkg.model.ranges.MAX_USERS`.
MAX_USERS = _ranges.MAX_USERS
#: Least distance [m] between a node and any antenna: :data:`nfkg.model.ranges.MIN_CLEARANCE_M`.
MIN_CLEARANCE_M = _ranges.MIN_CLEARANCE_M
#: The table, keyed by the scenario-file key: :data:`nfkg.model.ranges.LIMITS`.
LIMITS = _ranges.LIMITS
#: Figure parameters -> the row they are checked against: :data:`nfkg.model.ranges.FIGURE_LIMITS`.
FIGURE_LIMITS = _ranges.FIGURE_LIMITS


class LimitError(ValueError):
    """A value outside the table; ``str()`` is ``'name: reason'`` (or ``reason`` without a name).

    >>> str(LimitError("must be > 0 and <= 10,000 m (got -1.0)", "users[0].r"))
    'users[0].r: must be > 0 and <= 10,000 m (got -1.0)'
    """

    def __init__(self, reason: str, name: str | None = None) -> None:
        self.reason = reason
        self.name = name
        super().__init__(f"{name}: {reason}" if name else reason)


# --------------------------------------------------------------------------- helpers
def _kind_reason(value: Any, integer: bool) -> str | None:
    """Why ``value`` is not a number (integer) at all; ``None`` if its type is right."""
    what = "an integer" if integer else "a number"
    if isinstance(value, (bool, np.bool_)):
        return f"must be {what}, not a boolean (got {show(value)})"
    if isinstance(value, (str, bytes)):
        return f"must be {what}, not a string (got {show(value)})"
    if isinstance(value, (int, np.integer)):
        return None
    if isinstance(value, (float, np.floating)):
        if integer:
            return f"must be an integer (got {show(value)})"
        return None
    return f"must be {what} (got {show(value)})"


def _index_name(name: str, idx: tuple[int, ...]) -> str:
    return f"{name}[{', '.join(str(int(i)) for i in idx)}]" if idx else name


def _limit(key: str | Limit) -> Limit:
    return key if isinstance(key, Limit) else LIMITS[key]


# --------------------------------------------------------------------------- checks
def check(key: str | Limit, value: Any, name: str | None = None) -> int | float:
    """Check one scalar against its row; return it as ``int`` or ``float``.

    Parameters
    ----------
    key : str or Limit
        A key of :data:`LIMITS` (``'antennas'``) or a row.
    value : object
        The user's value, of any type.
    name : str, optional
        The name to put in the message (the user's key); without it the message is the
        reason alone (pydantic adds the key path itself).

    Raises
    ------
    LimitError
        Wrong type, not finite, or out of range.

    Examples
    --------
    >>> check("antennas", 256)
    256
    >>> check("antennas", True, "antennas")
    Traceback (most recent call last):
    ...
    nfkg.model.limits.LimitError: antennas: must be an integer, not a boolean (got true)
    >>> check("carrier_ghz", 1e-300, "carrier_ghz")
    Traceback (most recent call last):
    ...
    nfkg.model.limits.LimitError: carrier_ghz: must be between 0.1 and 1,000 GHz (got 1e-300)
    """
    lim = _limit(key)
    why = _kind_reason(value, lim.integer) or lim.reason(value)
    if why:
        raise LimitError(why, name)
    return int(value) if lim.integer else float(value)


def _walk(value: Any, idx: tuple[int, ...], name: str):
    """Leaves of a nested list/tuple with their indices (not ndarrays)."""
    if len(idx) > 32:
        raise LimitError("must be a number or a list of numbers (nested too deeply)", name)
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from _walk(v, (*idx, i), name)
    else:
        yield idx, value


def numbers(value: Any, name: str, *, integer: bool = False,
            name_at: Callable[[tuple[int, ...]], str] | None = None,
            limit: Limit | None = None) -> np.ndarray:
    """Numbers (scalar, nested list or array) as an array; types checked, ranges only with ``limit``.

    Booleans, strings and other objects are rejected (numpy would turn ``"20"`` and
    ``True`` into numbers); so are integers too large for a float.

    Raises
    ------
    LimitError
        Naming ``name_at(index)`` (default ``name[i, j]``) of the first bad entry.
    """
    at = name_at or (lambda idx: _index_name(name, idx))
    what = "integer" if integer else "number"
    if isinstance(value, np.ndarray):
        kind = value.dtype.kind
        if kind == "O":
            return numbers(value.tolist(), name, integer=integer, name_at=name_at, limit=limit)
        bad = None
        if kind == "b":
            bad = f"must be {what}s, not booleans"
        elif kind in "USV":
            bad = f"must be {what}s, not strings"
        elif kind == "c":
            bad = f"must be real {what}s, not complex"
        elif kind == "f" and integer:
            flat = value.ravel()
            bad = f"must be integers (got {show(flat[0]) if flat.size else 'floats'})"
        elif kind not in "iuf":
            bad = f"must be {what}s (got an array of {value.dtype})"
        if bad:
            raise LimitError(bad, name)
        arr = value
    else:
        for idx, leaf in _walk(value, (), name):
            why = _kind_reason(leaf, integer)
            if why is None and limit is not None:
                why = limit.reason(leaf)
            elif why is None and isinstance(leaf, int) and abs(leaf) >= 2**63:
                why = f"must be a {what} of a usable size (got {show(leaf)})"
            if why:
                raise LimitError(why, at(idx))
        try:
            arr = np.array(value, dtype=np.int64 if integer else float)
        except (ValueError, TypeError, OverflowError):
            raise LimitError(f"must be a {what} or a rectangular list of {what}s (got {show(value)})",
                             name) from None
    if limit is not None:
        mask = limit.reasons(arr)
        if np.any(mask):
            idx = tuple(int(i) for i in np.argwhere(mask)[0]) if arr.ndim else ()
            raise LimitError(limit.reason(arr[idx].item()) or "invalid value", at(idx))
    return arr


def check_array(key: str | Limit, value: Any, name: str, *,
                name_at: Callable[[tuple[int, ...]], str] | None = None) -> np.ndarray:
    """Check a scalar, a (nested) list or an array entry by entry against its row.

    Returns an ``int64`` array for integer rows, ``float`` otherwise.

    Examples
    --------
    >>> check_array("pt_dbm", [0, 10, 20], "c3.pt_dbm")
    array([ 0., 10., 20.])
    >>> check_array("pt_dbm", [0, 10, 200], "c3.pt_dbm")
    Traceback (most recent call last):
    ...
    nfkg.model.limits.LimitError: c3.pt_dbm[2]: must be between -50 and 60 dBm (got 200)
    """
    lim = _limit(key)
    return numbers(value, name, integer=lim.integer, name_at=name_at, limit=lim)


def check_watts(key: str, value: Any, name: str) -> np.ndarray:
    """Check powers given in watts against a dBm row (``pt_dbm``, ``noise_dbm``)."""
    lim = _limit(key)
    arr = numbers(value, name)
    with np.errstate(divide="ignore", invalid="ignore"):
        dbm = 10.0 * np.log10(arr) + 30.0
        mask = ~(np.isfinite(arr) & (arr > 0) & (dbm >= lim.lo - 1e-9) & (dbm <= lim.hi + 1e-9))
    if np.any(mask):
        idx = tuple(int(i) for i in np.argwhere(mask)[0]) if arr.ndim else ()
        v = float(arr[idx])
        lo_w, hi_w = 10 ** ((lim.lo - 30) / 10), 10 ** ((lim.hi - 30) / 10)
        if not math.isfinite(v):
            why = f"must be a finite number (got {show(v)})"
        else:
            why = f"must be between {lo_w:g} and {hi_w:g} W ({_fmt(lim.lo)} to {_fmt(lim.hi)} dBm) (got {show(v)})"
        raise LimitError(why, _index_name(name, idx))
    return arr


def check_count(n: int, name: str | None, noun: str = "user") -> int:
    """Number of users (and of Eves): 1 ... :data:`MAX_USERS`.

    >>> check_count(65, "users")
    Traceback (most recent call last):
    ...
    nfkg.model.limits.LimitError: users: must hold at most 64 users (got 65)
    """
    lim = LIMITS["users"]
    if n < lim.lo:
        raise LimitError(f"must hold at least one {noun} (got none)", name)
    if n > lim.hi:
        raise LimitError(f"must hold at most {_fmt(lim.hi)} {noun}s (got {n})", name)
    return n


_CARRIER_HZ = LIMITS["carrier_ghz"].scaled(1e9, "Hz")


def check_rows(rows: Any, n_ant: int, name: str = "array_rows") -> int:
    """Rows R of a planar array: an integer 1 ... N that divides N = ``n_ant``.

    >>> check_rows(3, 256)
    Traceback (most recent call last):
    ...
    nfkg.model.limits.LimitError: array_rows: must divide the number of antennas (N = 256 is not a multiple of R = 3)
    """
    rows = check("array_rows", rows, name)
    if int(n_ant) % rows:
        raise LimitError(f"must divide the number of antennas (N = {int(n_ant)} is not a multiple of R = {rows})",
                         name)
    return rows


def check_ula(ula: Any, name: str = "ula") -> None:
    """Check the array of the Python API: ``ula.n_ant``, ``ula.carrier_hz``, spacing, exponent, rows."""
    check("antennas", ula.n_ant, f"{name}.n_ant")
    check(_CARRIER_HZ, ula.carrier_hz, f"{name}.carrier_hz")
    check("spacing_wavelengths", ula.spacing_wavelengths, f"{name}.spacing_wavelengths")
    check("pathloss_exponent", ula.pathloss_exponent, f"{name}.pathloss_exponent")
    check_rows(getattr(ula, "rows", 1), ula.n_ant, f"{name}.rows")


def nearest_antenna(r: Any, psi: Any, n_ant: int, spacing: float) -> tuple[np.ndarray, np.ndarray]:
    """Distance [m] from each node to the nearest antenna, and that antenna's index ``0..N-1``.

    Antenna ``n`` sits at ``((2n - N + 1) d / 2, 0)`` and a node at ``(r sin psi, r cos psi)``;
    the nearest antenna is found by rounding, so nothing of length ``N`` is formed.

    >>> d, n = nearest_antenna(0.005, np.pi / 2, 3, 0.005)
    >>> float(d) < 1e-15, int(n)
    (True, 2)
    """
    r = np.asarray(r, dtype=float)
    psi = np.asarray(psi, dtype=float)
    x, y = r * np.sin(psi), r * np.cos(psi)
    half = (int(n_ant) - 1) / 2.0
    n = np.clip(np.rint(x / spacing + half), 0, int(n_ant) - 1)
    return np.hypot(x - (n - half) * spacing, y), n.astype(np.int64)


def nearest_element(r: Any, psi: Any, el: Any, rows: int, cols: int, spacing: float
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Distance [m] from each node to the nearest element of a planar array, and its index ``m C + n``.

    Element ``(m, n)`` sits at ``((2n - C + 1) d / 2, 0, (2m - R + 1) d / 2)`` and a node at
    ``(r cos(el) sin(psi), r cos(el) cos(psi), r sin(el))``; rounding finds the nearest one.

    >>> d, i = nearest_element(0.005, 0.0, np.pi / 2, 3, 3, 0.005)
    >>> float(d) < 1e-15, int(i)
    (True, 7)
    """
    r, psi, el = (np.asarray(v, dtype=float) for v in (r, psi, el))
    x, y, z = r * np.cos(el) * np.sin(psi), r * np.cos(el) * np.cos(psi), r * np.sin(el)
    half_c, half_r = (int(cols) - 1) / 2.0, (int(rows) - 1) / 2.0
    n = np.clip(np.rint(x / spacing + half_c), 0, int(cols) - 1)
    m = np.clip(np.rint(z / spacing + half_r), 0, int(rows) - 1)
    dist = np.sqrt((x - (n - half_c) * spacing) ** 2 + y * y + (z - (m - half_r) * spacing) ** 2)
    return dist, (m * int(cols) + n).astype(np.int64)


def check_clearance(r: Any, psi: Any, n_ant: int, spacing: float,
                    name_at: Callable[[tuple[int, ...]], str], context: str = "", *,
                    el: Any = None, rows: int = 1) -> None:
    """Every node at least :data:`MIN_CLEARANCE_M` from every antenna, else ``'sits on an antenna'``.

    ``el`` and ``rows``: the nodes' elevations and the rows of a planar array.
    """
    if int(rows) == 1 and (el is None or not np.any(np.asarray(el))):
        dist, n = nearest_antenna(r, psi, n_ant, spacing)
    else:
        r, psi, el = np.broadcast_arrays(r, psi, 0.0 if el is None else el)
        dist, n = nearest_element(r, psi, el, int(rows), int(n_ant) // int(rows), spacing)
    bad = ~(dist >= MIN_CLEARANCE_M)
    if np.any(bad):
        idx = tuple(int(i) for i in np.argwhere(bad)[0]) if bad.ndim else ()
        raise LimitError(f"sits on an antenna of the array ({float(dist[idx]) * 1e3:.3g} mm from antenna "
                         f"{int(n[idx]) + 1} of {int(n_ant)}{context}; every node must be at least "
                         f"{MIN_CLEARANCE_M * 1e3:g} mm from every antenna)", name_at(idx))
