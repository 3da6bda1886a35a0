r"""Secrecy maps: the SKR of one user with one node moving over a 2-D grid.

A map places Eve k (or, with ``moving='user'``, user k) at every point
:math:`(x, y)` of a grid in front of the array, :math:`r = \mathrm{hypot}(x, y)`,
:math:`\psi = \mathrm{atan2}(x, y)` (x along the array, y broadside), and scores
a scheme there with the exact engine of :func:`nfkg.schemes.precoding.evaluate`.

The grid lies in the plane of the nodes: the horizontal plane :math:`z = z_0` through the
moving node (:attr:`MapSpec.plane_z`, 0 for nodes at elevation 0), so a point
:math:`(x, y)` is the node at :math:`r = \sqrt{x^2 + y^2 + z_0^2}`,
:math:`\psi = \mathrm{atan2}(x, y)`, :math:`el = \mathrm{atan2}(z_0, \mathrm{hypot}(x, y))`;
on a planar array (``ula.rows > 1``) the channel is that of the 3-D geometry. A scenario on
its own channels (:meth:`~nfkg.model.scenario.Scenario.from_channels`) cannot be mapped.

Only one of the 2K channels moves. Its fixed companions
:math:`X_0 = [f_1..f_K, h_1..h_K]\setminus\{x_j\}` are reduced once, :math:`X_0 = Q_0R_0`
(thin QR, ``N x (2K-1)``); each grid point then costs the moving channel itself and its
coordinates :math:`c = Q_0^H x_j`, :math:`t = \|x_j - Q_0c\|` (classical Gram-Schmidt
with one re-orthogonalisation, so :math:`t` keeps its relative accuracy when the node
sits next to another one), two ``(points x N) @ (N x (2K-1))`` products per chunk. The
``2K x 2K`` coordinates :math:`C = [R_0 \text{ with } (c, t) \text{ in column } j]` give
the same inner products :math:`x_p^H x_q = c_p^H c_q` as the QR of the whole batch
(:func:`nfkg.engine.reduced.channel_coordinates`), which the schemes and the engine need and
nothing else: no N x N matrix and no second pass over N.

The grid runs in chunks of points through an executor (:mod:`nfkg.scale.executor`): in
process by default, or on a Dask cluster; every chunk is a pure function of its points,
so the map is the same whatever runs it.

Contents
--------
MapSpec, map_grid, map_chunk, secrecy_map, to_dataset, save_map, plot_map
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from ..model.limits import LIMITS, MIN_CLEARANCE_M
from ..engine.reduced import Geometry
from ..model.scenario import Scenario

__all__ = ["MapSpec", "MapResult", "map_grid", "default_extent", "map_chunk", "secrecy_map", "to_dataset",
           "save_map", "plot_map", "MOVING"]

#: Which node of pair k moves over the grid.
MOVING: tuple[str, ...] = ("eve", "user")

#: Upper bound on the elements of one chunk's ``(points, K, N)`` channel arrays.
CHUNK_ELEMENTS = 1 << 21


@dataclass(frozen=True)
class MapSpec:
    """What to map: the scenario, the schemes, the user and the node that moves.

    Attributes
    ----------
    scenario : Scenario
        One scenario (batch shape ``()``); its node ``user`` of kind ``moving`` is replaced
        at every grid point.
    schemes : tuple of str
    user : int
        The user k, counted from 1 as in the papers.
    moving : {'eve', 'user'}
        ``'eve'``: Eve k moves (where is user k safe); ``'user'``: user k moves with
        every Eve fixed (where can user k get keys).
    shaping, scoring : str or None
        As :func:`nfkg.schemes.precoding.evaluate`.
    options : dict
        Scheme options (e.g. ``jamming``, ``model``).
    """

    scenario: Scenario
    schemes: tuple[str, ...]
    user: int = 1
    moving: str = "eve"
    shaping: str | None = None
    scoring: str = "general"
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        s = self.scenario
        s.require_geometry("map")
        if s.batch_shape != ():
            raise ValueError(f"scenario: a map needs one scenario, got a batch of shape {s.batch_shape}")
        if not 1 <= self.user <= s.n_users:
            raise ValueError(f"user: must be 1 ... {s.n_users} (users are counted from 1), got {self.user}")
        if self.moving not in MOVING:
            raise ValueError(f"moving: must be one of {', '.join(MOVING)}, got {self.moving!r}")
        if not self.schemes:
            raise ValueError("scheme: give at least one scheme")
        from ..schemes.precoding import SCORINGS, get_scheme

        for name in self.schemes:
            get_scheme(name)
        if self.scoring not in SCORINGS:
            raise ValueError(f"scoring: must be one of {', '.join(SCORINGS)}, got {self.scoring!r}")

    @property
    def plane_z(self) -> float:
        """Height [m] of the map's plane: the moving node's :math:`r\\sin(el)` (0 in the x-y plane)."""
        s, k = self.scenario, self.user - 1
        r, el = (s.r_b, s.el_b) if self.moving == "user" else (s.r_e, s.el_e)
        return float(np.broadcast_to(r * np.sin(el), r.shape)[k])

    @property
    def column(self) -> int:
        """Index of the moving channel in :math:`[f_1..f_K, h_1..h_K]`."""
        k = self.user - 1
        return k if self.moving == "user" else self.scenario.n_users + k


# --------------------------------------------------------------------------- grid
def default_extent(scenario: Scenario) -> tuple[float, float, float, float]:
    """``(x_min, x_max, y_min, y_max)`` [m]: 1.25 times the farthest user or Eve, in front of the array."""
    rb, re = scenario.r_b * np.cos(scenario.el_b), scenario.r_e * np.cos(scenario.el_e)   # in the x-y plane
    xs = np.concatenate([rb * np.sin(scenario.psi_b), re * np.sin(scenario.psi_e)])
    ys = np.concatenate([rb * np.cos(scenario.psi_b), re * np.cos(scenario.psi_e)])
    reach = 1.25 * float(max(np.max(np.abs(xs)), np.max(ys)))
    return (-reach, reach, reach / 100.0, reach)


def map_grid(extent: Sequence[float], shape: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Grid axes ``x`` (``nx`` points) and ``y`` (``ny`` points) [m], end points included.

    Parameters
    ----------
    extent : (x_min, x_max, y_min, y_max)
        In metres; the grid must lie in front of the array (``y_min >= 1 mm``, so that
        no point sits on an antenna) and within the largest distance a scenario file accepts
        (``r``: 10 km).
    shape : (nx, ny)
        Points along x and y, 1 ... 4000 each.

    Raises
    ------
    ValueError
        Naming ``extent`` or ``grid``.
    """
    try:
        x0, x1, y0, y1 = (float(v) for v in extent)
    except (TypeError, ValueError):
        raise ValueError(f"extent: must be four numbers x_min,x_max,y_min,y_max in metres, got {extent!r}") from None
    try:
        nx, ny = (int(v) for v in shape)
    except (TypeError, ValueError):
        raise ValueError(f"grid: must be two integers NXxNY, got {shape!r}") from None
    if not all(math.isfinite(v) for v in (x0, x1, y0, y1)):
        raise ValueError(f"extent: must be finite, got {extent!r}")
    if not (1 <= nx <= 4000 and 1 <= ny <= 4000):
        raise ValueError(f"grid: each side must be 1 ... 4000 points, got {nx}x{ny}")
    if x1 < x0 or y1 < y0 or (nx > 1 and x1 == x0) or (ny > 1 and y1 == y0):
        raise ValueError(f"extent: need x_min < x_max and y_min < y_max, got {x0:g},{x1:g},{y0:g},{y1:g}")
    if y0 < MIN_CLEARANCE_M:
        raise ValueError(f"extent: y_min must be at least {MIN_CLEARANCE_M * 1e3:g} mm in front of the array "
                         f"(nodes on the array would sit on an antenna), got {y0:g} m")
    r_max = LIMITS["r"].hi
    if math.hypot(max(abs(x0), abs(x1)), y1) > r_max:
        raise ValueError(f"extent: every point must be within {r_max:g} m of the array centre (the limit of r), "
                         f"the farthest corner is {math.hypot(max(abs(x0), abs(x1)), y1):g} m away")
    return np.linspace(x0, x1, nx), np.linspace(y0, y1, ny)


# --------------------------------------------------------------------------- one chunk
def _fixed_basis(scenario: Scenario, column: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Channels ``f, h`` ``(K, N)`` and the thin QR ``Q0 (N, m0)``, ``R0 (m0, 2K-1)`` of all but ``column``."""
    from ..engine.reduced import geometry

    geo = geometry(scenario)
    f, h = geo.f.reshape(scenario.n_users, -1), geo.h.reshape(scenario.n_users, -1)
    x = np.concatenate([f, h]).T                       # (N, 2K)
    x0 = np.delete(x, column, axis=1)                  # (N, 2K-1)
    q0, r0 = np.linalg.qr(x0, mode="reduced")
    return f, h, q0, r0


def _coordinates(v: np.ndarray, q0: np.ndarray, r0: np.ndarray, column: int) -> np.ndarray:
    """``(P, 2K, 2K)`` coordinates of the channels with column ``column`` replaced by ``v`` ``(P, N)``."""
    n_pts = v.shape[0]
    m0 = q0.shape[1]
    m = r0.shape[1] + 1
    qc = q0.conj()
    c = v @ qc                                          # (P, m0): q_i^H v
    res = v - c @ q0.T
    c2 = res @ qc                                       # one re-orthogonalisation (CGS2)
    c += c2
    res -= c2 @ q0.T
    t = np.linalg.norm(res, axis=-1)
    coords = np.zeros((n_pts, m, m), dtype=complex)
    fixed = [p for p in range(m) if p != column]
    coords[:, :m0, fixed] = r0
    coords[:, :m0, column] = c
    if m0 < m:
        coords[:, m0, column] = t
    return coords


def map_chunk(spec: MapSpec, x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """SKR ``(P, K)`` of every scheme with the moving node at the points ``(x, y)`` ``(P,)``.

    A pure function of its arguments (what a worker runs). The moving channel's
    coordinates come from :func:`_coordinates`; the batch scenario gets a
    :class:`~nfkg.engine.reduced.Geometry` built from them, so every scheme runs unchanged.
    """
    from ..schemes.precoding import evaluate

    s = spec.scenario
    k, n_users = spec.user - 1, s.n_users
    x = np.asarray(x, dtype=float).reshape(-1)
    y = np.asarray(y, dtype=float).reshape(-1)
    n_pts = x.size
    r, psi = np.hypot(x, y), np.arctan2(x, y)
    z0 = spec.plane_z
    el = None
    if z0 != 0.0:  # the plane of the nodes, above or below the x-y plane
        el = np.arctan2(z0, r)
        r = np.sqrt(r * r + z0 * z0)
    column = spec.column
    f0, h0, q0, r0 = _fixed_basis(s, column)
    v = s.ula.channel(r, psi, el)                       # (P, N): the moving node's channel
    coords = _coordinates(v, q0, r0, column)

    def moved(a: np.ndarray, new: np.ndarray) -> np.ndarray:
        out = np.repeat(a[None], n_pts, axis=0)
        out[:, k] = new
        return out

    user_moves = spec.moving == "user"
    r_b, psi_b = (moved(s.r_b, r), moved(s.psi_b, psi)) if user_moves else (s.r_b, s.psi_b)
    r_e, psi_e = (s.r_e, s.psi_e) if user_moves else (moved(s.r_e, r), moved(s.psi_e, psi))
    f = moved(f0, v) if user_moves else np.broadcast_to(f0, (n_pts, *f0.shape))
    h = np.broadcast_to(h0, (n_pts, *h0.shape)) if user_moves else moved(h0, v)
    batch = Scenario(s.ula, np.broadcast_to(r_b, (n_pts, n_users)), np.broadcast_to(psi_b, (n_pts, n_users)),
                     np.broadcast_to(r_e, (n_pts, n_users)), np.broadcast_to(psi_e, (n_pts, n_users)),
                     s.p_max, s.p_b, s.sigma2_a, s.sigma2_b, s.sigma2_e, s.pilot_length, checked=True)
    batch._cache["geometry"] = Geometry(f, h, coords, s.n_ant)
    out = {}
    for name in spec.schemes:
        ev = evaluate(batch, name, spec.shaping, spec.scoring, **spec.options)
        out[name] = np.array(ev.skr, dtype=float)
    return out


def _chunk_points(n_users: int, n_ant: int, chunk: int | None) -> int:
    if chunk is not None:
        return max(int(chunk), 1)
    return int(min(max(CHUNK_ELEMENTS // (n_users * n_ant), 64), 16384))


def _run_chunk(args):
    spec, x, y = args
    return map_chunk(spec, x, y)


@dataclass(frozen=True)
class MapResult:
    """A computed map.

    Attributes
    ----------
    spec : MapSpec
    x, y : ndarray
        Grid axes [m].
    skr : dict of str to ndarray ``(ny, nx, K)``
        SKR of every user [bits/probing] per scheme, with the moving node at ``(x, y)``.
    seconds : float
    """

    spec: MapSpec
    x: np.ndarray
    y: np.ndarray
    skr: dict[str, np.ndarray]
    seconds: float = 0.0

    def user_skr(self, scheme: str) -> np.ndarray:
        """The mapped user's SKR ``(ny, nx)``."""
        return self.skr[scheme][..., self.spec.user - 1]


def secrecy_map(spec: MapSpec, x: np.ndarray, y: np.ndarray, executor=None, chunk: int | None = None,
                progress: Callable[[int], None] | None = None) -> MapResult:
    """Compute a map on the grid ``x`` (along the array) by ``y`` (broadside).

    Parameters
    ----------
    spec : MapSpec
    x, y : ndarray
        Grid axes [m] (:func:`map_grid`).
    executor : nfkg.scale.executor.Executor, optional
        Runs the chunks (default: in process).
    chunk : int, optional
        Points per chunk (default: about 2 M channel elements per chunk, so memory is
        bounded whatever the grid).
    progress : callable, optional
        Called with the number of points done after each chunk.

    Examples
    --------
    >>> from nfkg import ULA, Scenario
    >>> s = Scenario.from_dbm(ULA(64, 30e9), users=[(5.0, 0.2)], eves=[(4.9, 0.2)], pt_dbm=20)
    >>> m = secrecy_map(MapSpec(s, ("svd",)), *map_grid((-2, 2, 3, 6), (3, 2)))
    >>> m.user_skr("svd").shape
    (2, 3)
    """
    import time

    from .executor import InProcess

    t0 = time.perf_counter()
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    xx, yy = np.meshgrid(x, y)
    xf, yf = xx.reshape(-1), yy.reshape(-1)
    step = _chunk_points(spec.scenario.n_users, spec.scenario.n_ant, chunk)
    bounds = [(lo, min(lo + step, xf.size)) for lo in range(0, xf.size, step)]
    tasks = [(spec, xf[lo:hi], yf[lo:hi]) for lo, hi in bounds]
    n_users = spec.scenario.n_users
    out = {name: np.empty((xf.size, n_users)) for name in spec.schemes}
    ex = InProcess() if executor is None else executor
    for i, res in ex.run(_run_chunk, tasks):
        lo, hi = bounds[i]
        for name in spec.schemes:
            out[name][lo:hi] = res[name]
        if progress is not None:
            progress(hi - lo)
    skr = {name: v.reshape(y.size, x.size, n_users) for name, v in out.items()}
    return MapResult(spec, x, y, skr, time.perf_counter() - t0)


# --------------------------------------------------------------------------- output
def _attrs(result: MapResult, config: Mapping[str, Any] | None) -> dict[str, Any]:
    from .. import __version__

    spec = result.spec
    s = spec.scenario
    attrs = {
        "title": f"SKR of user {spec.user} with {'user' if spec.moving == 'user' else 'Eve'} {spec.user} "
                 "at every grid point",
        "moving": spec.moving,
        "user": spec.user,
        "scheme": ",".join(spec.schemes),
        "shaping": spec.shaping or "default",
        "scoring": spec.scoring,
        "options": json.dumps({k: str(v) for k, v in spec.options.items()}, sort_keys=True),
        "antennas": s.n_ant,
        "carrier_hz": float(s.ula.carrier_hz),
        "rayleigh_distance_m": s.ula.rayleigh_distance(),
        "reactive_distance_m": s.ula.reactive_distance(),
        "users_r_psi": json.dumps([[float(a), float(b)] for a, b in zip(s.r_b, s.psi_b)]),
        "eves_r_psi": json.dumps([[float(a), float(b)] for a, b in zip(s.r_e, s.psi_e)]),
        "nfkg_version": __version__,
        "conventions": "x along the array, y broadside, metres; a point (x, y) is the node at "
                       "r = hypot(x, y), psi = atan2(x, y)",
        "plane_z_m": spec.plane_z,
        "array_rows": int(s.ula.rows),
    }
    if config is not None:
        attrs["scenario"] = json.dumps(config, sort_keys=True, default=str)
    return attrs


def to_dataset(result: MapResult, config: Mapping[str, Any] | None = None):
    """The map as an :class:`xarray.Dataset`.

    Variables ``skr`` (the mapped user's SKR) and ``sum_skr`` [bits/probing] over
    ``(y, x)``, with a leading ``scheme`` dimension when several schemes are mapped;
    coordinates ``x``, ``y`` in metres; the scenario (``config``: the scenario file's
    keys, as JSON) and the scheme as attributes.
    """
    from .._extras import load

    xr = load("xarray", "scale", "a map as an xarray Dataset (map.nc)")

    names = list(result.spec.schemes)
    skr = np.stack([result.user_skr(n) for n in names])
    total = np.stack([result.skr[n].sum(axis=-1) for n in names])
    dims: tuple[str, ...] = ("scheme", "y", "x")
    coords: dict[str, Any] = {"x": ("x", result.x, {"units": "m", "long_name": "along the array"}),
                              "y": ("y", result.y, {"units": "m", "long_name": "broadside"})}
    if len(names) == 1:
        skr, total, dims = skr[0], total[0], ("y", "x")
    else:
        coords["scheme"] = ("scheme", np.array(names, dtype=object))
    k = result.spec.user
    ds = xr.Dataset(
        {"skr": (dims, skr, {"units": "bits/probing", "long_name": f"SKR of user {k}"}),
         "sum_skr": (dims, total, {"units": "bits/probing", "long_name": "sum SKR over the users"})},
        coords=coords, attrs=_attrs(result, config))
    return ds


def plot_map(result: MapResult, log: bool = False, floor: float = 1e-3):
    """A matplotlib Figure: one panel per scheme, shared colour scale, the array, the
    users and Eves, and the Rayleigh and reactive near-field boundaries."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import LogNorm, Normalize
    from matplotlib.figure import Figure

    from ..studies.experiments import scheme_label

    spec = result.spec
    s = spec.scenario
    names = list(spec.schemes)
    data = [result.user_skr(n) for n in names]
    vmax = max(float(np.max(d)) for d in data)
    vmax = vmax if vmax > 0 else 1.0
    norm = LogNorm(vmin=max(floor, vmax * 1e-4), vmax=vmax) if log else Normalize(vmin=0.0, vmax=vmax)
    n = len(names)
    aspect = (result.y[-1] - result.y[0]) / max(result.x[-1] - result.x[0], 1e-12)
    panel_h = float(np.clip(4.2 * aspect, 2.2, 7.0))
    fig = Figure(figsize=(4.2 * n + 1.2, panel_h + 1.0), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, n, squeeze=False, sharey=True)[0]
    ext = (result.x[0], result.x[-1], result.y[0], result.y[-1])
    half = (s.ula.cols - 1) * s.ula.spacing / 2.0
    theta = np.linspace(-np.pi / 2, np.pi / 2, 361)
    k = spec.user - 1
    mesh = None
    for ax, name, d in zip(axes, names, data):
        shown = np.maximum(d, norm.vmin) if log else d
        mesh = ax.pcolormesh(result.x, result.y, shown, norm=norm, cmap="viridis", shading="auto",
                             rasterized=True)
        ax.plot([-half, half], [0, 0], color="k", lw=3, solid_capstyle="butt", label="array")
        for dist, style, label in ((s.ula.rayleigh_distance(), "--", "Rayleigh distance"),
                                   (s.ula.reactive_distance(), ":", "reactive near field")):
            ax.plot(dist * np.sin(theta), dist * np.cos(theta), style, color="w", lw=1, label=label)
        rb, re = s.r_b * np.cos(s.el_b), s.r_e * np.cos(s.el_e)   # projected on the x-y plane
        ub = (rb * np.sin(s.psi_b), rb * np.cos(s.psi_b))
        ue = (re * np.sin(s.psi_e), re * np.cos(s.psi_e))
        fixed_users = [i for i in range(s.n_users) if not (spec.moving == "user" and i == k)]
        fixed_eves = [i for i in range(s.n_users) if not (spec.moving == "eve" and i == k)]
        ax.scatter(ub[0][fixed_users], ub[1][fixed_users], marker="o", s=30, facecolor="none", edgecolor="w",
                   label="users")
        ax.scatter(ue[0][fixed_eves], ue[1][fixed_eves], marker="x", s=30, color="r", label="Eves")
        for i in fixed_users:
            ax.annotate(f"U{i + 1}", (ub[0][i], ub[1][i]), color="w", fontsize=7, xytext=(3, 3),
                        textcoords="offset points")
        ax.set_xlim(ext[0], ext[1])
        ax.set_ylim(ext[2] if ext[2] > 0.05 * ext[3] else 0.0, ext[3])
        ax.set_aspect("equal", adjustable="box")
        ax.set_xlabel("x along the array (m)")
        ax.set_title(scheme_label(name), fontsize=9)
    axes[0].set_ylabel("y broadside (m)")
    axes[0].legend(loc="lower left", fontsize=6, framealpha=0.6)
    who = "Eve" if spec.moving == "eve" else "user"
    cb = fig.colorbar(mesh, ax=list(axes), shrink=0.9)
    cb.set_label(f"SKR of user {spec.user} (bits/probing){', log scale' if log else ''}")
    fig.suptitle(f"SKR of user {spec.user} with {who} {spec.user} at (x, y), N = {s.n_ant}", fontsize=10)
    return fig


def save_map(result: MapResult, out_dir: str | os.PathLike, config: Mapping[str, Any] | None = None,
             log: bool = False, formats: Sequence[str] = ("png", "pdf")) -> list[Path]:
    """Write ``map.nc`` (NetCDF via xarray) and ``map.png``/``.pdf``; return the paths.

    The NetCDF file is NETCDF3 (xarray's SciPy engine: no HDF5 library needed), readable
    by xarray, netCDF4 and every NetCDF tool.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ds = to_dataset(result, config)
    nc = out / "map.nc"
    tmp = out / "map.nc.tmp"
    ds.to_netcdf(tmp, engine="scipy", format="NETCDF3_64BIT")
    os.replace(tmp, nc)
    fig = plot_map(result, log=log)
    paths = []
    for fmt in formats:
        p = out / f"map.{fmt}"
        fig.savefig(p, dpi=150)
        paths.append(p)
    return [*paths, nc]
