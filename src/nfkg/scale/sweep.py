r"""Sweeps: any scenario keys, schemes and seeds, in chunks, resumable, on any executor.

A sweep is a TOML file: a base scenario (SPEC 10), lists of values for any of its keys,
and the schemes and seeds to run. Its points are the cartesian product of the lists and
the seeds (in file order, the last key fastest, seeds slowest); every point is scored by
every scheme with the exact engine, and, with ``rounds > 0``, probed by Monte Carlo for
the one-bit KDR J(46). The result is one tidy table, one row per point and scheme.

.. code-block:: toml

    base = "scenario.toml"            # a scenario file (relative to this file), or a [base] table
    schemes = ["svd", "svd-pa"]
    seeds = [0, 1]                    # default [0]
    rounds = 0                        # Monte Carlo probings per point (0: SKR only)
    chunk = 64                        # points per chunk (the unit of work and of resumption)
    # shaping = "matched"             # optional, for the SVD schemes
    # jamming = "targeted"            # optional, for the SVD schemes

    [sweep]
    pt_dbm = [0, 10, 20, 30]
    antennas = [128, 256]
    "eves[0].r" = [11.9, 11.98]       # one coordinate of one node
    # "users, eves" = [[[{r = 12, psi = 0}], [{r = 11.98, psi = 0}]],     # linked keys: swept together,
    #                  [[{r = 12, psi = 0}, {r = 13, psi = 0.6}],       # one list of values per step
    #                   [{r = 11.98, psi = 0}, {r = 12.98, psi = 0.6}]]]  # (here K = 1, then K = 2)

Seeds. Each point's generator is ``SeedSequence(seed, spawn_key=(h,))`` with ``h`` a hash
of the point's resolved scenario: it depends on nothing but the point, so results do
not depend on the order of the lists, on the chunk size, on the executor or on the
number of workers. A scheme with a ``seed`` option (``svd-opt``) gets the point's seed.
The closed-form schemes (:data:`BATCHED`: ras, mrc, svd) run as one batch per chunk,
the iterative ones point by point, so that every value is the same, bit for bit, whatever
the chunk size (a batched AO or network would differ in the last digits, up to the
solver's tolerance).

Validation. Every point is validated before any work, in bulk: each distinct value of
each scenario key once, what links keys (one Eve per user, nodes 1 mm from the array,
N >= 2K-1 for the SVD schemes) on arrays over all points, and the points those checks
flag in full, so a bad value names its first point and key (about 1 s for 10^5 points).

Resumption. Results are written chunk by chunk (``OUT/chunks/chunk-NNNNNN.parquet``,
each written to a temporary name and renamed, so a chunk file is complete or absent),
each carrying in its Parquet metadata the sweep's hash, its chunk number and its points;
``OUT/sweep.json`` records the sweep's hash. Rerunning the same sweep computes only the
missing chunks, and again any chunk file that is not this chunk of this sweep (copied from
another sweep or chunk, or written by an older nfkg); a different sweep in the same folder
is refused. When every chunk is there, their rows are checked (each exactly its points x
schemes, the table exactly one row per point and scheme) and ``OUT/results.parquet`` (and
``results.csv`` with ``csv=True``) is written.

svd-dlpa uses the KGSVD-Net shipped for each point's K, or the model of
:meth:`Sweep.with_model` (``nfkg sweep --model DIR``), which is part of the sweep's hash.

Contents
--------
SweepConfig, Sweep, load_sweep, parse_sweep, run_sweep, run_chunk, read_results
"""

from __future__ import annotations

import copy
import hashlib
import inspect
import json
import os
import re
import time
import tomllib
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..model.scenario_file import ScenarioConfig, _one_line, parse_config

__all__ = ["SweepConfig", "Sweep", "SweepError", "load_sweep", "parse_sweep", "run_sweep", "run_chunk",
           "read_results", "FORMAT"]

#: Version of the chunk files' layout (in ``sweep.json``).
FORMAT = 1

_PATH = re.compile(r"^(?P<head>[a-z_]+)(?:\[(?P<idx>\d+)\]\.(?P<leaf>r|psi))?$")


class SweepError(ValueError):
    """A bad sweep file or output folder: one line naming the key."""


class SweepConfig(BaseModel):
    """The sweep file's keys (validated with pydantic; unknown keys are refused)."""

    model_config = ConfigDict(extra="forbid")

    base: str | dict[str, Any]
    sweep: dict[str, list[Any]] = Field(default_factory=dict)
    schemes: list[str] = Field(min_length=1)
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)
    rounds: int = Field(default=0, ge=0, le=10_000_000)
    chunk: int = Field(default=64, ge=1, le=100_000)
    shaping: str | None = None
    jamming: str | None = None

    @field_validator("sweep")
    @classmethod
    def _lists(cls, v: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for key, values in v.items():
            parts = _linked(key)
            for part in parts:
                m = _PATH.match(part)
                if m is None or (m["idx"] is None and m["head"] not in ScenarioConfig.model_fields) or \
                        (m["idx"] is not None and m["head"] not in ("users", "eves")):
                    raise ValueError(f"sweep.{key}: {part!r} is not a scenario key (a key of the scenario "
                                     "file, or users[i].r, users[i].psi, eves[i].r, eves[i].psi)")
            if not values:
                raise ValueError(f"sweep.{key}: needs at least one value")
            if len(parts) > 1:
                for i, value in enumerate(values):
                    if not isinstance(value, list) or len(value) != len(parts):
                        raise ValueError(f"sweep.{key}[{i}]: linked keys take a list of {len(parts)} values "
                                         f"(one per key), got {_canon(value)}")
        return v

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, v: list[int]) -> list[int]:
        if any(s < 0 or s >= 2**63 for s in v):
            raise ValueError("seeds: must be integers 0 ... 2**63-1")
        return v


def _linked(key: str) -> list[str]:
    """``"users, eves"`` -> ``["users", "eves"]``: keys swept together (one list of values each step)."""
    return [p.strip() for p in key.split(",")]


def _canon(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def _digest(obj: Any) -> str:
    return hashlib.sha256(_canon(obj).encode()).hexdigest()


@dataclass(frozen=True)
class Point:
    """One point of a sweep: its index, swept values, seed and resolved scenario keys."""

    index: int
    values: dict[str, Any]
    seed: int
    config: dict[str, Any]

    @property
    def key(self) -> str:
        """Hash of the resolved scenario (without the seed)."""
        return _digest(self.config)[:16]

    def seed_sequence(self) -> np.random.SeedSequence:
        """The point's generator: ``SeedSequence(seed, spawn_key=(hash of the scenario,))``."""
        return np.random.SeedSequence(self.seed, spawn_key=(int(self.key, 16),))

    def point_seed(self) -> int:
        """A 63-bit integer seed drawn from :meth:`seed_sequence` (for ``seed=`` options)."""
        a, b = self.seed_sequence().generate_state(2, dtype=np.uint32)
        return (int(a) << 31) ^ int(b)


def _set(cfg: dict[str, Any], key: str, value: Any) -> None:
    m = _PATH.match(key)
    assert m is not None
    if m["idx"] is None:
        cfg[m["head"]] = copy.deepcopy(value)
        return
    nodes = cfg.get(m["head"])
    i = int(m["idx"])
    if not isinstance(nodes, list) or i >= len(nodes) or not isinstance(nodes[i], dict):
        raise SweepError(f"sweep.{key}: the base scenario has no {m['head']}[{i}] "
                         f"({len(nodes) if isinstance(nodes, list) else 0} given)")
    nodes[i] = {**nodes[i], m["leaf"]: value}


@dataclass(frozen=True)
class Sweep:
    """A parsed sweep: its settings and points (all validated)."""

    config: SweepConfig
    base: dict[str, Any]
    points: tuple[Point, ...]
    source: str | None = None
    #: A KGSVD-Net model (:class:`nfkg.schemes.dlpa.KGSVDModel`) for svd-dlpa (``--model``), or None: the shipped ones.
    model: Any = field(default=None, compare=False)

    @property
    def keys(self) -> list[str]:
        return list(self.config.sweep)

    @property
    def digest(self) -> str:
        """Hash of everything that determines the results (the model's files too, when one is given)."""
        c = self.config
        what = {"format": FORMAT, "base": self.base, "sweep": c.sweep, "schemes": c.schemes,
                "seeds": c.seeds, "rounds": c.rounds, "chunk": c.chunk, "shaping": c.shaping,
                "jamming": c.jamming}
        if self.model is not None:
            what["model"] = _digest(self.model.meta)  # its weights' SHA-256, feature scaling, sizes
        return _digest(what)

    def with_model(self, model: Any) -> "Sweep":
        """This sweep with svd-dlpa's KGSVD-Net ``model`` (a directory, or a loaded model).

        Raises
        ------
        SweepError
            The sweep does not run svd-dlpa, or a point's number of users is not the model's.
        """
        from ..schemes.dlpa import load_model

        if "svd-dlpa" not in self.config.schemes:
            raise SweepError("model: applies to svd-dlpa, which the sweep does not run "
                             f"(schemes: {', '.join(self.config.schemes)})")
        m = model if hasattr(model, "n_users") else load_model(model)
        for p in self.points:
            k = len(p.config["users"])
            if k != m.n_users:
                shown = ", ".join(f"{key}={_canon(v)}" for key, v in p.values.items())
                raise SweepError(f"point {p.index} ({shown or 'base'}): users: the model is trained for "
                                 f"K = {m.n_users} users, the point has K = {k}")
        return replace(self, model=m)

    def chunks(self) -> list[tuple[Point, ...]]:
        n = self.config.chunk
        return [self.points[i:i + n] for i in range(0, len(self.points), n)]


def parse_sweep(data: Mapping[str, Any], source: str | os.PathLike | None = None) -> Sweep:
    """Validate a sweep mapping (the TOML file's content) and expand its points.

    Raises
    ------
    SweepError
        One line naming the key (or the point and key) that is wrong.
    """
    where = f"{os.fspath(source)}: " if source is not None else ""
    try:
        cfg = SweepConfig.model_validate(dict(data))
    except ValidationError as e:
        err = e.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        msg = _one_line(err["msg"]).removeprefix("Value error, ")
        if msg.startswith(f"{loc}") or not loc:
            raise SweepError(f"{where}{msg}") from None
        raise SweepError(f"{where}{loc}: {msg}") from None
    from ..schemes.precoding import get_scheme
    from ..engine.reduced import JAMMINGS, SHAPINGS, check_svd_options

    for name in cfg.schemes:
        try:
            get_scheme(name)
        except ValueError as e:
            raise SweepError(f"{where}schemes: {str(e).removeprefix('scheme: ')}") from None
    if cfg.shaping is not None and cfg.shaping not in SHAPINGS:
        raise SweepError(f"{where}shaping: must be one of {', '.join(SHAPINGS)}, got {cfg.shaping!r}")
    if cfg.jamming is not None and cfg.jamming not in JAMMINGS:
        raise SweepError(f"{where}jamming: must be one of {', '.join(JAMMINGS)}, got {cfg.jamming!r}")
    for key, values in cfg.sweep.items():  # one column type per key: ints become floats beside floats
        if len(_linked(key)) > 1:
            continue
        if any(isinstance(v, float) for v in values) and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            cfg.sweep[key] = [float(v) for v in values]
    if isinstance(cfg.base, str):
        path = Path(cfg.base)
        if source is not None and not path.is_absolute():
            path = Path(source).parent / path
        base = _read_toml(path, f"{where}base: ", str(path))
    else:
        base = dict(cfg.base)
    return Sweep(cfg, base, _expand(cfg, base, where), None if source is None else os.fspath(source))


# --------------------------------------------------------------------------- points, validated in bulk
def _combos(cfg: SweepConfig) -> np.ndarray:
    """Value index of every key per combination ``(n, keys)``: first key slowest, last fastest."""
    sizes = [len(v) for v in cfg.sweep.values()]
    if not sizes:
        return np.zeros((1, 0), dtype=np.int64)
    return np.indices(sizes, dtype=np.int64).reshape(len(sizes), -1).T


def _values(cfg: SweepConfig, keys: list[str], combo) -> dict[str, Any]:
    """The swept values of one combination, by scenario key (linked keys split into their parts)."""
    values: dict[str, Any] = {}
    for k, i in zip(keys, combo):
        parts, value = _linked(k), cfg.sweep[k][int(i)]
        values.update(zip(parts, value) if len(parts) > 1 else [(k, value)])
    return values


def _resolve_point(cfg: SweepConfig, base: dict[str, Any], values: dict[str, Any], index: int,
                   where: str) -> dict[str, Any]:
    """One point validated in full (scenario file, numeric scenario, SVD options): its resolved keys.

    The reference of the bulk validation of :func:`_expand`, which calls it for the points its
    vectorised checks flag, so that every message is this function's.
    """
    from ..engine.reduced import check_svd_options

    point_cfg = copy.deepcopy(base)
    for k, v in values.items():
        _set(point_cfg, k, v)
    try:
        resolved = parse_config(point_cfg)
        scen = resolved.to_scenario()
        for name in cfg.schemes:  # the SVD schemes' N >= 2K-1 and options, before any work
            if name.startswith("svd"):
                check_svd_options(scen.n_ant, scen.n_users, cfg.shaping or "isotropic", cfg.jamming or "isotropic")
    except ValueError as e:
        shown = ", ".join(f"{k}={_canon(v)}" for k, v in values.items())
        raise SweepError(f"{where}point {index} ({shown or 'base'}): {e}") from None
    return resolved.model_dump(mode="json")


def _expand_pointwise(cfg: SweepConfig, base: dict[str, Any], where: str = "") -> tuple[Point, ...]:
    """Every point validated one by one (about 0.5 ms each): the reference :func:`_expand` must equal."""
    keys = list(cfg.sweep)
    points: list[Point] = []
    for seed in cfg.seeds:
        for combo in _combos(cfg):
            values = _values(cfg, keys, combo)
            points.append(Point(len(points), values, int(seed),
                                _resolve_point(cfg, base, values, len(points), where)))
    return tuple(points)


_MISSING = object()


@lru_cache(maxsize=None)
def _field_adapter(name: str):
    """A pydantic validator of one scenario-file key alone (its type and :mod:`nfkg.model.limits` row)."""
    from typing import Annotated

    from pydantic import TypeAdapter

    info = ScenarioConfig.model_fields[name]
    return TypeAdapter(Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation)


@lru_cache(maxsize=1)
def _field_defaults() -> dict[str, Any]:
    """The resolved (``model_dump``) value of every key with a default."""
    node = [{"r": 1.0, "psi": 0.0}]
    dump = ScenarioConfig(users=node, eves=node).model_dump(mode="json")
    return {k: v for k, v in dump.items() if not ScenarioConfig.model_fields[k].is_required()}


def _field_raw(cfg: SweepConfig, base: dict[str, Any], field: str, keys: list[str], deps: list[int],
               idx) -> Any:
    """The raw value of one scenario key for one combination of the swept keys that set it."""
    raw = copy.deepcopy(base[field]) if field in base else _MISSING
    for j, i in zip(deps, idx):  # in file order, as the points apply them
        k = keys[j]
        parts, value = _linked(k), cfg.sweep[k][int(i)]
        for part, v in (zip(parts, value) if len(parts) > 1 else [(k, value)]):
            m = _PATH.match(part)
            assert m is not None
            if m["head"] != field:
                continue
            if m["idx"] is None:
                raw = copy.deepcopy(v)
            else:
                holder = {field: raw} if raw is not _MISSING else {}
                _set(holder, part, v)
                raw = holder[field]
    return raw


def _expand(cfg: SweepConfig, base: dict[str, Any], where: str = "") -> tuple[Point, ...]:
    """The sweep's points, validated in bulk: each distinct value of each key once, the rest vectorised.

    A point's scenario keys come each from the base or from the swept keys that set it, so
    every key is validated once per distinct value (a key set by several swept keys, e.g.
    ``eves[0].r`` and ``eves[1].r``, once per distinct combination of them). What links keys is
    checked on arrays over all combinations: one Eve per user, every node at least 1 mm from
    every antenna, N >= 2K-1 for the SVD schemes. The points these checks flag (and point 0)
    are validated in full by :func:`_resolve_point`, whose message names the first bad point;
    the result equals :func:`_expand_pointwise` (tested), in about 1 s for 10^5 points instead of 50.
    """
    from ..model.channel import ULA
    from ..model.limits import MIN_CLEARANCE_M

    keys = list(cfg.sweep)
    combos = _combos(cfg)
    n = combos.shape[0]
    sizes = [len(cfg.sweep[k]) for k in keys]
    fields = list(ScenarioConfig.model_fields)
    deps: dict[str, list[int]] = {f: [] for f in fields}
    for j, k in enumerate(keys):
        for part in _linked(k):
            m = _PATH.match(part)
            assert m is not None and m["head"] in deps  # checked by SweepConfig
            if j not in deps[m["head"]]:
                deps[m["head"]].append(j)
    defaults = _field_defaults()
    bad = np.zeros(n, bool)
    if set(base) - set(fields):
        bad[:] = True  # an unknown key in the base: point 0's full validation names it
    resolved: dict[str, tuple[list[Any], np.ndarray]] = {}
    for f in fields:
        if deps[f]:
            dims = [sizes[j] for j in deps[f]]
            code = np.ravel_multi_index(tuple(combos[:, deps[f]].T), dims)
            uniq, inv = np.unique(code, return_inverse=True)
            raws = [_field_raw(cfg, base, f, keys, deps[f], np.unravel_index(int(u), dims)) for u in uniq]
        else:
            raws, inv = [base.get(f, _MISSING)], np.zeros(n, np.int64)
        out: list[Any] = []
        ok = np.ones(len(raws), bool)
        for i, raw in enumerate(raws):
            if raw is _MISSING:
                ok[i] = f in defaults
                out.append(defaults.get(f))
                continue
            try:
                adapter = _field_adapter(f)
                out.append(adapter.dump_python(adapter.validate_python(raw), mode="json"))
            except (ValidationError, ValueError, TypeError):
                ok[i] = False
                out.append(None)
        bad |= ~ok[inv]
        resolved[f] = (out, inv.reshape(-1))

    def column(f: str, fn=lambda v: v, dtype=float, fill=np.nan) -> np.ndarray:
        out, inv = resolved[f]
        return np.array([fill if v is None else fn(v) for v in out], dtype=dtype)[inv]

    # one Eve per user; N >= 2K-1 for the SVD schemes
    k_users = column("users", len, np.int64, -1)
    k_eves = column("eves", len, np.int64, -1)
    bad |= k_users != k_eves
    n_ant = column("antennas", int, np.int64, 0)
    if any(name.startswith("svd") for name in cfg.schemes):
        bad |= n_ant < 2 * k_users - 1
    # every node at least 1 mm from every antenna (a margin: flagged points are checked in full)
    def joint(names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        """Distinct combinations of these keys' values: (their value indices (m, len(names)), inverse (n,))."""
        dims = [len(resolved[f][0]) for f in names]
        code = np.ravel_multi_index(tuple(resolved[f][1] for f in names), dims)
        uniq, inv = np.unique(code, return_inverse=True)
        return np.stack(np.unravel_index(uniq, dims), axis=1), inv.reshape(-1)

    ula_keys = ("carrier_ghz", "spacing_wavelengths", "pathloss_exponent")
    combos_ula, ula_inv = joint(ula_keys)
    spacing_of = np.full(len(combos_ula), np.nan)
    for i, idx in enumerate(combos_ula):
        c, sw, pe = (resolved[f][0][j] for f, j in zip(ula_keys, idx))
        if None not in (c, sw, pe):
            spacing_of[i] = ULA(n_ant=1, carrier_hz=c * 1e9, spacing_wavelengths=sw, pathloss_exponent=pe).spacing
    resolved["_spacing"] = (list(spacing_of), ula_inv)
    for f in ("users", "eves"):
        out = resolved[f][0]
        kmax = max((len(v) for v in out if v is not None), default=0)
        table = np.full((len(out), 2, max(kmax, 1)), np.nan)
        for i, v in enumerate(out):
            if v is not None:
                table[i, 0, :len(v)] = [node["r"] for node in v]
                table[i, 1, :len(v)] = [node["psi"] for node in v]
        groups, ginv = joint((f, "antennas", "_spacing"))
        r, psi = table[groups[:, 0], 0], table[groups[:, 0], 1]
        nn = np.array([np.nan if v is None else v for v in resolved["antennas"][0]], float)[groups[:, 1], None]
        d = spacing_of[groups[:, 2], None]
        x, y = r * np.sin(psi), r * np.cos(psi)
        half = (nn - 1) / 2.0
        with np.errstate(invalid="ignore"):
            near = np.clip(np.rint(x / d + half), 0, np.maximum(nn - 1, 0))
            dist = np.hypot(x - (near - half) * d, y)
            close = np.any(dist < MIN_CLEARANCE_M * (1 + 1e-6), axis=1)
        bad |= close[ginv]
    bad[0] = True  # point 0 in full: unknown or missing keys, and a check of the bulk path
    checked = {int(i): _resolve_point(cfg, base, _values(cfg, keys, combos[i]), int(i), where)  # raises if bad
               for i in np.flatnonzero(bad)}
    # the points: each combination's keys, shared by its seeds
    cols = [(f, resolved[f][0], resolved[f][1].tolist()) for f in fields]
    configs = [checked[c] if c in checked else {f: out[inv[c]] for f, out, inv in cols} for c in range(n)]
    items = [[tuple(zip(_linked(k), v)) if len(_linked(k)) > 1 else ((k, v),) for v in cfg.sweep[k]] for k in keys]
    values = []
    for combo in combos.tolist():
        point: dict[str, Any] = {}
        for j, i in enumerate(combo):
            point.update(items[j][i])
        values.append(point)
    return tuple(Point(s * n + c, values[c], int(seed), configs[c])
                 for s, seed in enumerate(cfg.seeds) for c in range(n))


def _read_toml(path: str | os.PathLike, prefix: str, name: str) -> dict[str, Any]:
    """A TOML file's content; :class:`SweepError` ``"<prefix>cannot read <name> (...)"`` otherwise."""
    from ..model.scenario_file import FileTooLarge, read_limited

    try:
        return tomllib.loads(read_limited(path, what="a sweep or scenario file").decode("utf-8"))
    except FileTooLarge as e:
        raise SweepError(f"{prefix}{name} is {e}") from None
    except OSError as e:
        raise SweepError(f"{prefix}cannot read {name} ({e.strerror or e})") from None
    except UnicodeDecodeError:
        raise SweepError(f"{prefix}{name} is not valid TOML (the file is not UTF-8 text)") from None
    except RecursionError:
        raise SweepError(f"{prefix}{name} is not valid TOML (arrays or tables nested too deeply)") from None
    except tomllib.TOMLDecodeError as e:
        raise SweepError(f"{prefix}{name} is not valid TOML ({_one_line(str(e))})") from None
    except ValueError as e:  # e.g. an integer of more than 4300 digits
        raise SweepError(f"{prefix}{name} is not valid TOML ({str(e).split(';')[0]})") from None


def load_sweep(path: str | os.PathLike) -> Sweep:
    """Read and validate a sweep TOML file (:func:`parse_sweep`)."""
    return parse_sweep(_read_toml(path, f"{os.fspath(path)}: ", "the sweep file"), path)


# --------------------------------------------------------------------------- one chunk
#: Closed-form schemes, run as one batch per chunk: their values do not depend on the batch,
#: bit for bit. The iterative ones (AO, SLSQP, the network) run point by point, so that a
#: point's value never depends on which other points share its chunk.
BATCHED: frozenset[str] = frozenset({"ras", "mrc", "svd"})


def _seed_option(scheme: str, point: Point) -> dict[str, int]:
    """``{'seed': point seed}`` for a scheme with a ``seed`` option (e.g. svd-opt's random starts)."""
    from ..schemes.precoding import get_scheme

    takes = "seed" in inspect.signature(get_scheme(scheme).func).parameters
    return {"seed": point.point_seed()} if takes else {}


def _stack(scenarios: list) -> Any:
    from ..model.scenario import Scenario

    s0 = scenarios[0]
    return Scenario(s0.ula, *(np.stack([getattr(s, a) for s in scenarios])
                              for a in ("r_b", "psi_b", "r_e", "psi_e", "p_max", "p_b", "sigma2_a", "sigma2_b",
                                        "sigma2_e")), s0.pilot_length, checked=True)


def _cell(v: Any) -> Any:
    return v if isinstance(v, (int, float, str, bool)) else _canon(v)


def run_chunk(task: tuple) -> list[dict[str, Any]]:
    """Rows of one chunk: every point of it scored by every scheme (a pure function).

    ``task`` is ``(points, schemes, shaping, jamming, rounds[, options])``, ``options`` a
    mapping scheme -> extra options (e.g. ``{"svd-dlpa": {"model": model}}``). Points with the
    same array, K and pilot length run as one batch per scheme (schemes with a ``seed``
    option run point by point with the point's seed).
    """
    from ..schemes.precoding import evaluate

    points, schemes, shaping, jamming, rounds, *more = task
    extra: Mapping[str, Mapping[str, Any]] = more[0] if more else {}
    scen = [ScenarioConfig.model_validate(p.config).to_scenario() for p in points]
    groups: dict[Any, list[int]] = {}
    for i, s in enumerate(scen):
        groups.setdefault((s.ula, s.n_users, s.pilot_length), []).append(i)
    rows: dict[tuple[int, str], dict[str, Any]] = {}
    for members in groups.values():
        for scheme in schemes:
            opts = {} if jamming is None or not scheme.startswith("svd") else {"jamming": jamming}
            opts.update(extra.get(scheme, {}))
            if scheme not in BATCHED:
                evs = [evaluate(scen[i], scheme, shaping, **opts, **_seed_option(scheme, points[i]))
                       for i in members]
                per = [(ev.result, ev.skr, ()) for ev in evs]
                shapes = [ev.skr.shape for ev in evs]
            else:
                ev = evaluate(_stack([scen[i] for i in members]), scheme, shaping, **opts)
                per = [(ev.result, ev.skr[j], (j,)) for j in range(len(members))]
                shapes = [ev.skr.shape] * len(members)
            for i, (res, skr, idx), shape in zip(members, per, shapes):
                p_a, p_s, p_n = (np.broadcast_to(v, shape)[idx] for v in (res.p_a, res.p_s, res.p_n))
                skr = np.asarray(skr, dtype=float)
                row = {"point": points[i].index, **{k: _cell(v) for k, v in points[i].values.items()},
                       "seed": points[i].seed, "scheme": scheme, "shaping": res.shaping or "",
                       "jamming": res.jamming or "", "K": int(skr.size),
                       "sum_skr": float(skr.sum()), "min_skr": float(skr.min()),
                       "skr": [float(v) for v in skr], "p_a": [float(v) for v in np.ravel(p_a)],
                       "p_s": [float(v) for v in np.ravel(p_s)], "p_n": [float(v) for v in np.ravel(p_n)]}
                if rounds:
                    row.update(_kdr(scen[i], scheme, shaping, opts, rounds, points[i]))
                rows[(points[i].index, scheme)] = row
    return [rows[(p.index, s)] for p in points for s in schemes]


def _kdr(scenario, scheme: str, shaping, opts, rounds: int, point: Point) -> dict[str, Any]:
    from ..protocol.probing import probe
    from ..protocol.quantization import kdr, one_bit

    from ..schemes.precoding import precode

    result = precode(scenario, scheme, shaping, **opts, **_seed_option(scheme, point))
    p = probe(scenario, result, rounds=rounds, seed=point.point_seed())
    ka, kb, ke = one_bit(p.z_a), one_bit(p.z_b), one_bit(p.z_e)
    k = scenario.n_users
    return {"kdr": [float(kdr(ka[:, i], kb[:, i])) for i in range(k)],
            "kdr_eve": [float(kdr(ka[:, i], ke[:, i])) for i in range(k)]}


# --------------------------------------------------------------------------- the run
def _chunk_path(out: Path, c: int) -> Path:
    return out / "chunks" / f"chunk-{c:06d}.parquet"


_META_KEY = b"nfkg.scale.sweep"


def _chunk_identity(sweep: Sweep, c: int, points: tuple[Point, ...]) -> dict[str, Any]:
    """What a chunk file carries (Parquet metadata) to say which sweep and points its rows are."""
    return {"digest": sweep.digest, "chunk": c, "first": points[0].index, "points": len(points),
            "schemes": list(sweep.config.schemes)}


def _write_rows(rows: list[dict[str, Any]], path: Path, identity: dict[str, Any] | None = None) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".parquet.tmp")
    table = pa.Table.from_pylist(rows)
    if identity is not None:
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), _META_KEY: json.dumps(identity)})
    pq.write_table(table, tmp)
    os.replace(tmp, path)


def _chunk_belongs(path: Path, identity: dict[str, Any]) -> bool:
    """Whether the chunk file at ``path`` says it holds ``identity``'s rows (its metadata only is read).

    A file of another sweep, of another chunk of this sweep (copied or renamed), of an
    older nfkg (no identity) or unreadable does not belong: it is computed again.
    """
    import pyarrow.parquet as pq

    try:
        meta = pq.read_metadata(path)
        kv = meta.metadata or {}
        return (json.loads(kv[_META_KEY]) == identity
                and meta.num_rows == identity["points"] * len(identity["schemes"]))
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _rows_belong(table, points: tuple[Point, ...], schemes: list[str]) -> bool:
    """Whether a chunk table's rows are exactly (point, scheme) for its points x schemes, in order."""
    names = table.column_names
    if "point" not in names or "scheme" not in names or table.num_rows != len(points) * len(schemes):
        return False
    want_p = np.repeat([p.index for p in points], len(schemes))
    want_s = list(schemes) * len(points)
    return bool(np.array_equal(table["point"].to_numpy(zero_copy_only=False), want_p)
                and table["scheme"].to_pylist() == want_s)


def _manifest(sweep: Sweep, out: Path) -> None:
    man = out / "sweep.json"
    info = {"format": FORMAT, "digest": sweep.digest, "points": len(sweep.points),
            "chunks": len(sweep.chunks()), "schemes": sweep.config.schemes, "source": sweep.source}
    if man.exists():
        try:
            old = json.loads(man.read_text())
        except (OSError, ValueError):
            old = {}
        if old.get("digest") != sweep.digest:
            raise SweepError(f"out: {out} holds the results of a different sweep; use another --out "
                             "(or delete the folder)")
        return
    out.mkdir(parents=True, exist_ok=True)
    tmp = man.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(info, indent=1))
    os.replace(tmp, man)


def run_sweep(sweep: Sweep, out_dir: str | os.PathLike, executor=None, csv: bool = False,
              progress: Callable[[int], None] | None = None, max_chunks: int | None = None) -> dict[str, Any]:
    """Run the missing chunks of a sweep and, once all are there, write the results table.

    Each chunk file carries the sweep's hash, its chunk number and its points (Parquet
    metadata). On a rerun a chunk file is reused only when it says it is this chunk of this
    sweep; any other (copied from another sweep or another chunk, from an older nfkg,
    unreadable) is computed again. Before the table is written every chunk's rows are
    checked to be exactly its points x schemes (a chunk that is not is computed again), and
    the table to hold exactly one row per point and scheme.

    Parameters
    ----------
    sweep : Sweep
        With its KGSVD-Net model for svd-dlpa, if any (:meth:`Sweep.with_model`).
    out_dir : path
    executor : nfkg.scale.executor.Executor, optional
        Where the chunks run (default: in process).
    csv : bool
        Also write ``results.csv`` (list columns as JSON).
    progress : callable, optional
        Called with the number of points of each chunk as it is written (including, at
        the start, those already on disk).
    max_chunks : int, optional
        Stop after computing this many chunks (the results table is then not written).

    Returns
    -------
    dict
        ``points``, ``chunks``, ``computed`` (chunks computed now), ``reused``, ``replaced``
        (chunk files found that did not belong, computed again), ``complete``, ``seconds``
        and ``results`` (the table's path or None).
    """
    from .executor import InProcess

    t0 = time.perf_counter()
    out = Path(out_dir)
    _manifest(sweep, out)
    chunks = sweep.chunks()
    identity = [_chunk_identity(sweep, c, pts) for c, pts in enumerate(chunks)]
    present = [c for c in range(len(chunks)) if _chunk_path(out, c).exists()]
    foreign = {c for c in present if not _chunk_belongs(_chunk_path(out, c), identity[c])}
    done = set(present) - foreign
    missing = [c for c in range(len(chunks)) if c not in done]
    if progress is not None and done:
        progress(sum(len(chunks[c]) for c in done))
    todo = missing if max_chunks is None else missing[:max_chunks]
    ex = InProcess() if executor is None else executor
    computed = _compute(sweep, out, chunks, identity, todo, ex, progress)
    complete = len(todo) == len(missing)
    result = None
    if complete:
        result, again = _merge(sweep, out, chunks, identity, csv, ex)
        computed += again
    return {"points": len(sweep.points), "chunks": len(chunks), "computed": computed, "reused": len(done),
            "replaced": len(foreign & set(todo)), "complete": complete, "seconds": time.perf_counter() - t0,
            "results": result}


def _compute(sweep: Sweep, out: Path, chunks, identity, todo: list[int], ex, progress=None) -> int:
    c = sweep.config
    extra = {} if sweep.model is None else {"svd-dlpa": {"model": sweep.model}}
    tasks = [(chunks[i], tuple(c.schemes), c.shaping, c.jamming, c.rounds, extra) for i in todo]
    for j, rows in ex.run(run_chunk, tasks):
        _write_rows(rows, _chunk_path(out, todo[j]), identity[todo[j]])
        if progress is not None:
            progress(len(chunks[todo[j]]))
    return len(todo)


def _merge(sweep: Sweep, out: Path, chunks, identity, csv: bool, ex) -> tuple[Path, int]:
    """Check every chunk's rows (recompute those that are wrong, once), then write the table."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schemes = list(sweep.config.schemes)

    def read(c: int):
        try:
            return pq.read_table(_chunk_path(out, c))
        except (OSError, ValueError):
            return None

    tables = [read(c) for c in range(len(chunks))]
    wrong = [c for c, t in enumerate(tables) if t is None or not _rows_belong(t, chunks[c], schemes)]
    again = _compute(sweep, out, chunks, identity, wrong, ex) if wrong else 0
    for c in wrong:
        tables[c] = read(c)
        if tables[c] is None or not _rows_belong(tables[c], chunks[c], schemes):
            raise SweepError(f"out: {_chunk_path(out, c)} does not hold the rows of chunk {c} even after "
                             "computing it again; is another process writing to this folder?")
    table = pa.concat_tables(tables, promote_options="permissive")
    # exactly one row per point and scheme, before anything is written
    n_p, n_s = len(sweep.points), len(schemes)
    code = table["point"].to_numpy(zero_copy_only=False).astype(np.int64) * n_s + np.array(
        [schemes.index(v) if v in schemes else n_s for v in table["scheme"].to_pylist()], np.int64)
    if table.num_rows != n_p * n_s or not np.array_equal(np.sort(code), np.arange(n_p * n_s)):
        raise SweepError(f"out: the chunks of {out} do not hold exactly one row per point and scheme "
                         f"({table.num_rows} rows for {n_p} points x {n_s} schemes); delete the folder and rerun")
    path = out / "results.parquet"
    tmp = out / "results.parquet.tmp"
    pq.write_table(table.replace_schema_metadata(None), tmp)
    os.replace(tmp, path)
    if csv:
        import pyarrow.csv as pcsv

        cols = {}
        for name in table.column_names:
            col = table[name]
            if pa.types.is_list(col.type):
                col = pa.array([None if v is None else json.dumps(v) for v in col.to_pylist()], pa.string())
            cols[name] = col
        ctmp = out / "results.csv.tmp"
        pcsv.write_csv(pa.table(cols), ctmp)
        os.replace(ctmp, out / "results.csv")
    return path, again


def read_results(out_dir: str | os.PathLike):
    """The results table of a finished sweep as a :class:`pandas.DataFrame`."""
    import pandas as pd

    return pd.read_parquet(Path(out_dir) / "results.parquet")
