r"""The papers' SKR figures as data: presets, batched runs, claim checks.

Every figure of the papers that plots the SKR (C Figs. 3-5, J Figs. 4-8) is a preset:
a flat table of parameters (geometry, powers, array, schemes) plus the x-axis. A
run builds **one batched** :class:`~nfkg.model.scenario.Scenario` whose batch axis is the
x-axis and scores every scheme on it with :func:`~nfkg.schemes.precoding.evaluate`, so
all x-points are computed by array operations. Only J Fig. 7 (N changes the array
shapes) and J Fig. 8 (K changes them) loop, over N and over K.

Contents
--------
PRESETS
    ``{fig_id: FigurePreset}``: the parameters of each figure (read-only).
SCHEME_LABELS
    Registry scheme name -> curve label (``'svd-pa'`` -> ``'SVD w/ PA'``).
C_SCHEMES, J_SCHEMES
    The scheme columns of the conference (C) and journal (J) figures.
FigurePreset, FigureData
    Preset and result (with :meth:`FigureData.to_csv`).
figure_ids, get_preset, resolve_params, run_figure
    Public entry points. The claim checks live in :mod:`nfkg.studies.claims`.

Parameters of a preset
----------------------
Common keys: ``carrier_ghz`` (30), ``spacing_wavelengths`` (0.5), ``pathloss_exponent``
(2), ``noise_dbm`` (-105, BS, users and Eves), ``pilot_length`` (V = 1), ``n_ant`` (N),
``pt_dbm`` (:math:`P_t = P_{\max} = P_b`), ``shaping`` (``'matched'`` for C, ``'isotropic'``
for J), ``schemes`` (registry names, one curve each). Nodes: ``r_b``, ``psi_b``,
``r_e``, ``psi_e`` (one value per user, m and rad). Offsets: ``dpsi`` (J Fig. 4,
:math:`\psi_{e,k} = \psi_{b,k} + \Delta\psi`) and ``dr`` (J Fig. 6,
:math:`r_{e,k} = r_{b,k} + \Delta r`). J Fig. 8 adds ``n_users`` (the values of K; the
first K entries of the node tuples are used).

Sweep grids (the papers give only the ranges; the point counts are ours): C3 P_t
0..40 dBm step 1; C4 r_e 5..25 m step 0.1 (contains r_b = 14 m); C5 psi_e on a grid
symmetric about 0 from -pi/2 to pi/2, 3001 points (step ~1.05 mrad, about 7 points per
sidelobe at broadside), containing 0 = psi_b; J4 dpsi -0.07..0.07 rad step 1 mrad;
J5 and J8 P_t 0..30 dBm step 1; J6 dr -2..2 m step 1 cm; J7 N = 32, 48, 64, ..., 768,
1024 (powers of two and their midpoints). Overrides replace the grids exactly
(nothing is added to them).

Adding a scheme column later (e.g. the DLPA network): register it in
:mod:`nfkg.schemes.precoding`, give it a label in :data:`SCHEME_LABELS` and append its name to
:data:`J_SCHEMES` (or pass ``{'schemes': (...)}`` as an override).

Examples
--------
>>> data = run_figure("c3", {"pt_dbm": [10, 30]})
>>> data.x_name, list(data.curves)
('pt_dbm', ['MRC', 'SVD w/o PA', 'SVD w/ PA'])
>>> bool(data.curves["SVD w/ PA"][1] > data.curves["MRC"][1])
True
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

import numpy as np

from ..model.channel import ULA
from ..model.limits import FIGURE_LIMITS, LIMITS, MAX_USERS, LimitError, check_array, check_clearance, show
from ..schemes.precoding import evaluate, get_scheme
from ..model.scenario import Scenario

__all__ = [
    "SCHEME_LABELS",
    "C_SCHEMES",
    "J_SCHEMES",
    "FigurePreset",
    "FigureData",
    "PRESETS",
    "figure_ids",
    "get_preset",
    "resolve_params",
    "run_figure",
]

# --------------------------------------------------------------------------- schemes
#: Curve label of each registry scheme name (the papers' names).
SCHEME_LABELS: dict[str, str] = {
    "ras": "RAS w/o P",
    "mrc": "MRC",
    "svd": "SVD w/o PA",
    "svd-pa": "SVD w/ PA",
    "svd-dlpa": "SVD w/ DLPA",
    "svd-opt": "SVD opt (exact)",
    "svd-mf": "SVD MF (matched, targeted, exact)",
    "svd-maxmin": "SVD max-min",
}

#: Scheme columns of the conference figures (single user, matched shaping).
C_SCHEMES: tuple[str, ...] = ("mrc", "svd", "svd-pa")
#: Scheme columns of the journal figures (isotropic shaping), SVD w/ DLPA with the shipped models.
J_SCHEMES: tuple[str, ...] = ("ras", "mrc", "svd", "svd-pa", "svd-dlpa")

_SKR = "SKR (bits/probing)"
_SUM_SKR = "Sum SKR (bits/probing)"
_PT_LABEL = r"Transmit power $P_t$ (dBm)"


def scheme_label(name: str) -> str:
    """Curve label of a registry scheme name (the name itself if it has no label)."""
    return SCHEME_LABELS.get(name, name)


# --------------------------------------------------------------------------- grids
def _symmetric_grid(half_width: float, n_half: int) -> np.ndarray:
    """``2 n_half + 1`` points, exactly symmetric about 0 and containing 0."""
    half = np.linspace(0.0, half_width, n_half + 1)
    return np.concatenate([-half[:0:-1], half])


def _step_grid(lo: float, hi: float, step: float) -> np.ndarray:
    """``lo, lo + step, ..., hi`` computed as integers times the step (exact decimals)."""
    n = int(round((hi - lo) / step))
    return np.round(lo + step * np.arange(n + 1), 12)


_J7_N = np.array([32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024])


# --------------------------------------------------------------------------- presets
@dataclass(frozen=True)
class FigurePreset:
    """The definition of one figure: labels, x-axis and default parameters.

    Attributes
    ----------
    id : str
        Figure id (``'c3'``, ``'j5'``, ...).
    paper_ref : str
        The paper's figure (``'C Fig. 3'``).
    title : str
        The paper's caption, shortened.
    x_key : str
        The parameter swept on the x-axis (a key of ``params``).
    x_name : str
        CSV column name of the x-axis, with its unit (``'pt_dbm'``).
    x_label : str
        Axis label with units (matplotlib mathtext).
    y_label : str
        ``'SKR (bits/probing)'`` (C) or ``'Sum SKR (bits/probing)'`` (J).
    params : Mapping
        Default parameters (read-only); see the module docstring for the keys.
    """

    id: str
    paper_ref: str
    title: str
    x_key: str
    x_name: str
    x_label: str
    y_label: str
    params: Mapping[str, Any]
    y_scale: str = "linear"
    scored: bool = True   # False: the curves do not depend on the SKR scoring (Monte Carlo KDR)


def _common(paper: str) -> dict[str, Any]:
    return {
        "carrier_ghz": 30.0,
        "spacing_wavelengths": 0.5,
        "pathloss_exponent": 2.0,
        "noise_dbm": -105.0,
        "pilot_length": 1,
        "n_ant": 256,
        "shaping": "matched" if paper == "C" else "isotropic",
        "schemes": C_SCHEMES if paper == "C" else J_SCHEMES,
    }


def _preset(fig_id, paper_ref, title, x_key, x_name, x_label, y_label, y_scale="linear", scored=True,
            **params) -> FigurePreset:
    full = _common(paper_ref[0])
    full.update(params)
    for k, v in full.items():
        if isinstance(v, np.ndarray):
            v.setflags(write=False)
    return FigurePreset(fig_id, paper_ref, title, x_key, x_name, x_label, y_label, MappingProxyType(full),
                        y_scale, scored)


_J5_NODES = dict(r_b=(12.0, 13.0), psi_b=(-0.6, 0.6), r_e=(11.98, 12.98), psi_e=(-0.6, 0.6))

PRESETS: Mapping[str, FigurePreset] = MappingProxyType({
    p.id: p for p in (
        _preset("c3", "C Fig. 3", "SKR versus the transmit power", "pt_dbm", "pt_dbm", _PT_LABEL, _SKR,
                pt_dbm=_step_grid(0, 40, 1), r_b=12.2, psi_b=0.2, r_e=12.0, psi_e=0.2),
        _preset("c4", "C Fig. 4", "SKR versus the distance between Eve and the BS", "r_e", "r_e_m",
                r"Eve distance $r_e$ (m)", _SKR,
                pt_dbm=30.0, r_b=14.0, psi_b=0.2, r_e=_step_grid(5, 25, 0.1), psi_e=0.2),
        _preset("c5", "C Fig. 5", "SKR versus the spatial angle of Eve", "psi_e", "psi_e_rad",
                r"Eve angle $\psi_e$ (rad)", _SKR,
                pt_dbm=30.0, r_b=15.0, psi_b=0.0, r_e=15.0, psi_e=_symmetric_grid(np.pi / 2, 1500)),
        _preset("j4", "J Fig. 4", "Sum SKR versus the spatial angle of Eve", "dpsi", "dpsi_rad",
                r"Eve angle offset $\Delta\psi$ (rad)", _SUM_SKR,
                pt_dbm=20.0, r_b=(12.0, 13.0), psi_b=(-1.5, 1.5), r_e=(12.0, 13.0),
                dpsi=_step_grid(-0.07, 0.07, 0.001)),
        _preset("j5", "J Fig. 5", "Sum SKR versus the transmit power", "pt_dbm", "pt_dbm", _PT_LABEL, _SUM_SKR,
                pt_dbm=_step_grid(0, 30, 1), **_J5_NODES),
        _preset("j6", "J Fig. 6", "Sum SKR versus the distance of Eve", "dr", "dr_m",
                r"Eve distance offset $\Delta r$ (m)", _SUM_SKR,
                pt_dbm=20.0, r_b=(12.0, 13.0), psi_b=(-0.6, 0.6), psi_e=(-0.6, 0.6),
                dr=_step_grid(-2, 2, 0.01)),
        _preset("j7", "J Fig. 7", "Sum SKR versus the number of antennas", "n_ant", "n_ant",
                r"Number of antennas $N$", _SUM_SKR,
                **{**_J5_NODES, "pt_dbm": 20.0, "n_ant": _J7_N.copy()}),
        _preset("j8", "J Fig. 8", "Sum SKR versus the transmit power for 4 and 6 UEs", "pt_dbm", "pt_dbm",
                _PT_LABEL, _SUM_SKR,
                pt_dbm=_step_grid(0, 30, 1), n_users=(4, 6),
                r_b=(12.0, 13.0, 12.0, 13.0, 12.0, 13.0), psi_b=(-0.7, -0.6, -0.5, 0.5, 0.6, 0.7),
                r_e=(11.98, 12.98, 11.98, 12.98, 11.98, 12.98), psi_e=(-0.7, -0.6, -0.5, 0.5, 0.6, 0.7)),
        _preset("j9", "J Fig. 9", "Sum KDR versus the transmit power (Monte Carlo probing)", "pt_dbm", "pt_dbm",
                _PT_LABEL, "Sum KDR (BS-user, one-bit)", y_scale="log", scored=False,
                pt_dbm=_step_grid(0, 30, 2), rounds=10_000, seed=0, **_J5_NODES),
    )
})

_NODE_KEYS = ("r_b", "psi_b", "r_e", "psi_e")


def figure_ids() -> list[str]:
    """Ids of the reproducible figures, in paper order.

    >>> figure_ids()
    ['c3', 'c4', 'c5', 'j4', 'j5', 'j6', 'j7', 'j8', 'j9']
    """
    return list(PRESETS)


def get_preset(fig_id: str) -> FigurePreset:
    """The preset of ``fig_id``; ``ValueError`` naming every known id (figures and tables) otherwise."""
    try:
        return PRESETS[fig_id]
    except KeyError:
        from .tables import table_ids  # the tables (t1, dlpa, keyrate, ...) are ids of `figure` and `reproduce` too

        if fig_id in table_ids():
            raise ValueError(f"fig_id: {fig_id!r} is a table, not a figure preset "
                             "(nfkg.studies.tables.run_table; `nfkg figure` takes both)") from None
        known = list(dict.fromkeys([*PRESETS, *table_ids()]))
        raise ValueError(f"fig_id: unknown figure {fig_id!r}; choose one of {', '.join(known)}") from None


# --------------------------------------------------------------------------- overrides
def _coerce(fig_id: str, key: str, default: Any, value: Any, is_x: bool) -> Any:
    """Check an override against :data:`nfkg.model.limits.FIGURE_LIMITS` and convert it to the type
    of the preset entry it replaces; ``ValueError`` naming ``fig_id.key`` otherwise."""
    where = f"{fig_id}.{key}"
    if key == "schemes":
        if not isinstance(value, (str, list, tuple)):
            raise ValueError(f"{where}: must be a scheme name or a list of names, got {show(value)}")
        names = (value,) if isinstance(value, str) else tuple(value)
        if not names:
            raise ValueError(f"{where}: at least one scheme is required")
        for name in names:
            if not isinstance(name, str):
                raise ValueError(f"{where}: scheme names must be strings, got {show(name)}")
            try:
                get_scheme(name)
            except ValueError as e:
                raise ValueError(f"{where}: {str(e).removeprefix('scheme: ')}") from None
        return names
    if key == "shaping":
        if not isinstance(value, str) or value not in ("matched", "isotropic"):
            raise ValueError(f"{where}: must be 'matched' or 'isotropic', got {show(value)}")
        return str(value)
    lim = FIGURE_LIMITS.get(key)
    if lim is None:  # a preset key without a row: refuse rather than guess
        raise ValueError(f"{where}: cannot be overridden")
    arr = check_array(lim, value, where)  # types, finiteness and range, naming fig_id.key[i]
    what = "integer" if lim.integer else "number"
    if arr.size == 0:
        raise ValueError(f"{where}: must be at least one {what}, got an empty list")
    if is_x:
        if arr.ndim > 1:
            raise ValueError(f"{where}: the x-axis must be a scalar or a 1-D sequence")
        return np.atleast_1d(arr)
    if arr.ndim > 1:
        raise ValueError(f"{where}: must be a {what} or a list of {what}s, got {show(value)}")
    if lim.integer:
        if isinstance(default, tuple):
            return tuple(int(v) for v in arr.ravel())
        if arr.size != 1:
            raise ValueError(f"{where}: must be a single integer, got {show(value)}")
        return int(arr.ravel()[0])
    if isinstance(default, tuple) or (key in _NODE_KEYS and arr.ndim == 1):
        return tuple(float(v) for v in arr.ravel())
    if arr.ndim != 0:
        raise ValueError(f"{where}: must be a single number, got {show(value)}")
    return float(arr)


def _check_geometry(fig_id: str, params: Mapping[str, Any], x_key: str) -> None:
    """The nodes the figure will place, checked as :meth:`Scenario.validate` would, but
    naming the figure's keys (``j6.dr: r_e = r_b + dr must be ...``)."""
    node_keys = [k for k in _NODE_KEYS if k in params and k != x_key]
    sizes = {k: np.atleast_1d(params[k]).size for k in node_keys}
    counts = params.get("n_users")
    if counts is not None:
        for k in np.atleast_1d(counts):
            short = [key for key, n in sizes.items() if n < k]
            if short:
                raise ValueError(f"{fig_id}.n_users: K = {int(k)} needs at least {int(k)} entries in "
                                 f"{', '.join(node_keys)} ({short[0]} has {sizes[short[0]]})")
    elif len(set(sizes.values())) > 1:
        common = max(set(sizes.values()), key=list(sizes.values()).count)
        ref = next(k for k in node_keys if sizes[k] == common)
        odd = next(k for k in node_keys if sizes[k] != common)
        raise ValueError(f"{fig_id}.{odd}: need one value per user like {ref} "
                         f"(got {sizes[odd]} value(s), {ref} has {sizes[ref]})")
    for key, n in sizes.items():
        if n > MAX_USERS:
            raise ValueError(f"{fig_id}.{key}: at most {MAX_USERS} users are supported (got {n} values)")
    x = np.atleast_1d(np.asarray(params[x_key]))
    derived = {"dr": ("r_e = r_b + dr", 0, "r"), "dpsi": ("psi_e = psi_b + dpsi", 1, "psi")}
    ant_values = x if x_key == "n_ant" else np.atleast_1d(params["n_ant"])
    spacing = ULA(1, float(params["carrier_ghz"]) * 1e9, float(params["spacing_wavelengths"])).spacing
    note_x = x_key in derived or x_key in _NODE_KEYS
    for k in (np.atleast_1d(counts) if counts is not None else [None]):
        users, eves = _node_grid(params, x_key, x, None if k is None else int(k))
        if x_key in derived:
            text, col, row = derived[x_key]
            bad = LIMITS[row].reasons(eves[..., col])
            if np.any(bad):
                i, user = (int(v) for v in np.argwhere(bad)[0])
                raise ValueError(f"{fig_id}.{x_key}: {text} must be {LIMITS[row].range_text()} (got "
                                 f"{float(eves[i, user, col])!r} for user {user + 1} at {x_key} = {float(x[i])!r})")
        eve_key = x_key if x_key in ("r_e", "psi_e", "dr", "dpsi") else "r_e"
        for n in np.unique(ant_values):
            for who, key, nodes in (("user", "r_b", users), ("Eve", eve_key, eves)):
                def at(idx: tuple[int, ...], who=who, key=key, nodes=nodes) -> str:
                    r, psi = nodes[idx[0], idx[1]]
                    return (f"{fig_id}.{key}: {who} {idx[1] + 1} at r = {r:g} m, psi = {psi:g} rad"
                            f"{f' ({x_key} = {float(x[idx[0]])!r})' if note_x else ''}")
                try:
                    check_clearance(nodes[..., 0], nodes[..., 1], int(n), spacing, at,
                                    context=f" with n_ant = {int(n)}")
                except LimitError as e:
                    raise ValueError(f"{e.name} {e.reason}") from None


def resolve_params(fig_id: str, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The preset parameters of ``fig_id`` with ``overrides`` replacing entries.

    Parameters
    ----------
    fig_id : str
    overrides : mapping, optional
        ``{key: value}``; every key must be a key of the preset.

    Raises
    ------
    ValueError
        For an unknown figure, an unknown key, a value of the wrong type or outside the
        bounds of :data:`nfkg.model.limits.FIGURE_LIMITS` (the same as the scenario file's:
        ``n_ant`` is checked as ``antennas``, ``r_b``/``r_e`` as ``r``, ...), or nodes
        that would sit on an antenna; the message names ``fig_id.key``.

    >>> resolve_params("c3", {"pt_dbm": 25})["pt_dbm"]
    array([25.])
    """
    preset = get_preset(fig_id)
    params = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in preset.params.items()}
    for key, value in dict(overrides or {}).items():
        if key not in params:
            raise ValueError(f"overrides: unknown key {key!r} for figure {fig_id}; "
                             f"known keys: {', '.join(sorted(params))}")
        params[key] = _coerce(fig_id, key, params[key], value, key == preset.x_key)
    _check_geometry(fig_id, params, preset.x_key)
    return params


# --------------------------------------------------------------------------- results
@dataclass(frozen=True)
class FigureData:
    """The curves of one figure, ready to plot or save.

    Attributes
    ----------
    id, title, paper_ref : str
    x : ndarray, shape ``(n,)``
        The x-axis values (in the unit of ``x_name``).
    x_name : str
        CSV column name of the x-axis, with its unit.
    x_label, y_label : str
        Axis labels with units.
    curves : dict of str to ndarray
        ``{label: y}``, each ``y`` of shape ``(n,)`` [bits/probing; j9: KDR].
    params : dict
        The resolved parameters the curves were computed with.
    y_scale : {'linear', 'log'}
    extra : dict of str to ndarray
        Columns written to the CSV but not drawn (j9: the BS-Eve KDR).
    """

    id: str
    title: str
    paper_ref: str
    x: np.ndarray
    x_name: str
    x_label: str
    y_label: str
    curves: dict[str, np.ndarray]
    params: dict[str, Any] = field(default_factory=dict)
    y_scale: str = "linear"
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    def to_csv(self, path: str | os.PathLike) -> None:
        """Write the x-axis then one column per curve, with a header row.

        Values are written as the shortest decimal that reads back to the same float.
        Labels that contain commas are quoted (RFC 4180, :mod:`csv`).
        """
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow([self.x_name, *self.curves, *self.extra])
            cols = [np.asarray(self.x, dtype=float),
                    *(np.asarray(c, dtype=float) for c in (*self.curves.values(), *self.extra.values()))]
            for row in zip(*cols):
                w.writerow([repr(float(v)) for v in row])


def _nodes(params: Mapping[str, Any], x_key: str, n_users: int | None) -> dict[str, np.ndarray]:
    """Per-user node arrays ``(K,)`` from the preset's scalars/tuples (first ``n_users`` entries)."""
    out = {}
    for key in _NODE_KEYS:
        if key in params and key != x_key:
            v = np.atleast_1d(np.asarray(params[key], dtype=float))
            out[key] = v if n_users is None else v[:n_users]
    k = {v.size for v in out.values()}
    if n_users is not None and any(v.size < n_users for v in out.values()):
        raise ValueError(f"n_users: K = {n_users} needs at least {n_users} entries in "
                         f"{', '.join(_NODE_KEYS)}")
    if len(k) > 1:
        sizes = ", ".join(f"{key}={v.size}" for key, v in out.items())
        raise ValueError(f"r_b: r_b, psi_b, r_e, psi_e need one value per user, got {sizes}")
    return out


def _node_grid(params: Mapping[str, Any], x_key: str, x: np.ndarray,
               n_users: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Users' and Eves' ``(r, psi)`` over the x-axis, each ``(len(x) or 1, K, 2)``."""
    nodes = _nodes(params, x_key, n_users)
    xc = np.asarray(x, dtype=float)[:, None]
    if x_key in ("r_e", "psi_e"):
        nodes[x_key] = xc
    elif x_key == "dpsi":
        nodes["psi_e"] = nodes["psi_b"] + xc
    elif x_key == "dr":
        nodes["r_e"] = nodes["r_b"] + xc
    elif x_key not in ("n_ant", "pt_dbm"):
        raise ValueError(f"x_key: unknown sweep {x_key!r}")
    shape = (x.size if x_key not in ("n_ant", "pt_dbm") else 1, nodes["r_b"].size)
    b = {k: np.broadcast_to(v, shape) for k, v in nodes.items()}
    return np.stack([b["r_b"], b["psi_b"]], axis=-1), np.stack([b["r_e"], b["psi_e"]], axis=-1)


def _scenario(params: Mapping[str, Any], x_key: str, x: np.ndarray, n_ant: int,
              n_users: int | None = None) -> Scenario:
    """One batched scenario whose batch axis is the x-axis (shape ``(len(x),)``)."""
    users, eves = _node_grid(params, x_key, x, n_users)
    pt = np.asarray(x if x_key == "pt_dbm" else params["pt_dbm"], dtype=float)
    n_batch = x.size if x_key != "n_ant" else 1
    if users.shape[0] != n_batch:
        users, eves = (np.broadcast_to(a, (n_batch, *a.shape[1:])) for a in (users, eves))
    ula = ULA(int(n_ant), float(params["carrier_ghz"]) * 1e9, float(params["spacing_wavelengths"]),
              float(params["pathloss_exponent"]))
    return Scenario.from_dbm(ula, users=users, eves=eves, pt_dbm=np.broadcast_to(pt, (n_batch,)),
                             noise_dbm=params["noise_dbm"], pilot_length=int(params["pilot_length"]))


def _sum_skr(scenario: Scenario, schemes, shaping, scoring: str = "general") -> dict[str, np.ndarray]:
    return {scheme_label(s): np.asarray(evaluate(scenario, s, shaping, scoring=scoring).sum_skr, dtype=float)
            for s in schemes}


def _point_seed(seed: int, scheme: str, x: float) -> int:
    """Seed of one Monte Carlo point: from the figure's seed, the scheme's name and the x value,
    so that a point's samples do not depend on the grid or on the other schemes."""
    import zlib

    ss = np.random.SeedSequence([int(seed), zlib.crc32(scheme.encode()), int(round(float(x) * 1000)) + 10**9])
    return int(ss.generate_state(1, np.uint64)[0])


def _kdr_curves(params: Mapping[str, Any], x_key: str, x: np.ndarray, progress=None):
    """J Fig. 9: per scheme the sum over users of the one-bit BS-user KDR (and BS-Eve's)."""
    from ..protocol.probing import probe
    from ..protocol.quantization import kdr, one_bit

    schemes, shaping = params["schemes"], params["shaping"]
    rounds, seed = int(params["rounds"]), int(params["seed"])
    curves = {scheme_label(s): np.zeros(x.size) for s in schemes}
    eve = {scheme_label(s): np.zeros(x.size) for s in schemes}
    for i, xv in enumerate(x):
        scen = _scenario(params, x_key, np.asarray([xv]), params["n_ant"])
        one = Scenario(scen.ula, scen.r_b[0], scen.psi_b[0], scen.r_e[0], scen.psi_e[0], scen.p_max[0],
                       scen.p_b[0], scen.sigma2_a, scen.sigma2_b, scen.sigma2_e, scen.pilot_length, checked=True)
        for s in schemes:
            p = probe(one, s, rounds=rounds, seed=_point_seed(seed, s, xv), shaping=shaping)
            ka, kb, ke = one_bit(p.z_a), one_bit(p.z_b), one_bit(p.z_e)
            curves[scheme_label(s)][i] = sum(kdr(ka[:, k], kb[:, k]) for k in range(one.n_users))
            eve[scheme_label(s)][i] = sum(kdr(ka[:, k], ke[:, k]) for k in range(one.n_users))
            if progress is not None:
                progress(1)
    return curves, {f"{label} (BS-Eve)": y for label, y in eve.items()}


def monte_carlo_steps(fig_id: str, overrides: Mapping[str, Any] | None = None) -> int:
    """Number of Monte Carlo probing runs of a figure (0 for the analytic ones), for progress bars."""
    preset = get_preset(fig_id)
    if preset.scored:
        return 0
    params = resolve_params(fig_id, overrides)
    return int(np.asarray(params[preset.x_key]).size * len(params["schemes"]))


def run_figure(fig_id: str, overrides: Mapping[str, Any] | None = None, scoring: str = "general",
               progress=None) -> FigureData:
    """Compute the curves of one figure.

    All x-points are evaluated at once on one batched :class:`~nfkg.model.scenario.Scenario`;
    J Fig. 7 loops over N (the array size changes) and J Fig. 8 over K.

    Parameters
    ----------
    fig_id : str
        One of :func:`figure_ids`.
    overrides : mapping, optional
        Entries replacing the preset's (e.g. ``{'n_ant': 512, 'pt_dbm': 25}``); the
        x-axis entry is replaced exactly (a scalar gives a one-point curve).
    scoring : {'general', 'per-user'}
        How every scheme is scored: the general engine (default; counts the
        leakage of the other users' precoders through the shared pilot) or J(19)'s
        per-user formula (drops it), see :func:`nfkg.schemes.precoding.evaluate`. The Monte
        Carlo figure (j9) does not depend on it.
    progress : callable, optional
        Called with 1 after each Monte Carlo probing run (j9), e.g. a progress bar's update.

    Returns
    -------
    FigureData

    Raises
    ------
    ValueError
        Unknown figure, unknown override key (named) or invalid value.
    """
    preset = get_preset(fig_id)
    params = resolve_params(fig_id, overrides)
    x_key = preset.x_key
    x = np.asarray(params[x_key])
    schemes, shaping = params["schemes"], params["shaping"]

    extra = {}
    if not preset.scored:
        curves, extra = _kdr_curves(params, x_key, x, progress)
    elif fig_id == "j8":
        curves = {}
        for k in params["n_users"]:
            s = _scenario(params, x_key, x, params["n_ant"], n_users=k)
            curves.update({f"{label}, K={k}": y for label, y in _sum_skr(s, schemes, shaping, scoring).items()})
    elif x_key == "n_ant":
        per_n = [_sum_skr(_scenario(params, x_key, x, n), schemes, shaping, scoring) for n in x]
        curves = {label: np.concatenate([c[label] for c in per_n]) for label in per_n[0]}
    else:
        curves = _sum_skr(_scenario(params, x_key, x, params["n_ant"]), schemes, shaping, scoring)

    for y in (*curves.values(), *extra.values()):
        y.setflags(write=False)
    params = {**params, "scoring": scoring if preset.scored else "n/a (Monte Carlo)"}
    return FigureData(fig_id, preset.title, preset.paper_ref, x.astype(float) if x_key != "n_ant" else x,
                      preset.x_name, preset.x_label, preset.y_label, curves, params, preset.y_scale, extra)
