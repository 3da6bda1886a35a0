r"""Sweep files: the keys, their validation and the points (one job: from TOML to points).

A sweep file (its format is in :mod:`nfkg.scale.sweep`) is validated with pydantic
(:class:`SweepConfig`) and expanded into its points: the cartesian product of the swept
lists and the seeds, each point's scenario resolved and validated.

Validation. Every point is validated before any work, in bulk: each distinct value of
each scenario key once, what links keys (one Eve per user, nodes 1 mm from the array,
N >= 2K-1 for the SVD schemes) on arrays over all points, and the points those checks
flag in full, so a bad value names its first point and key (about 1 s for 10^5 points).

Contents
--------
SweepConfig, SweepError, Point, Sweep, parse_sweep, load_sweep, FORMAT
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..model.scenario_file import ScenarioConfig, _one_line, parse_config

__all__ = ["SweepConfig", "Sweep", "SweepError", "Point", "load_sweep", "parse_sweep", "FORMAT"]

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
    from ..engine.reduced import JAMMINGS, SHAPINGS

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
        here = path.parent
    else:
        base = dict(cfg.base)
        here = None if source is None else Path(source).parent
    if here is not None:  # a channel file is relative to the file that names it
        if isinstance(base.get("channels"), str) and not Path(base["channels"]).is_absolute():
            base["channels"] = str(here / base["channels"])
        if "channels" in cfg.sweep and source is not None:
            cfg.sweep["channels"] = [str(Path(source).parent / v) if isinstance(v, str) and not Path(v).is_absolute()
                                     else v for v in cfg.sweep["channels"]]
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
    fields = ScenarioConfig.model_fields
    # keys left out of a dump at their default (array_rows, channels) keep that default here
    return {k: dump.get(k, fields[k].default) for k in fields if not fields[k].is_required()}


def _dumped(field: str, value: Any) -> bool:
    """Whether ``model_dump`` writes this key with this value (not a key left out at its default)."""
    return not (field in ("array_rows", "channels") and value == _field_defaults().get(field, ...))


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
    # planar arrays, elevations and channel files: validated in full (clearance in 3-D, N from the file)
    bad |= column("array_rows", int, np.int64, 1) != 1
    bad |= column("channels", lambda v: True, bool, False)
    for f in ("users", "eves"):
        bad |= column(f, lambda v: any("el" in node for node in v), bool, False)
    bad[0] = True  # point 0 in full: unknown or missing keys, and a check of the bulk path
    checked = {int(i): _resolve_point(cfg, base, _values(cfg, keys, combos[i]), int(i), where)  # raises if bad
               for i in np.flatnonzero(bad)}
    # the points: each combination's keys, shared by its seeds
    cols = [(f, resolved[f][0], resolved[f][1].tolist()) for f in fields]
    configs = [checked[c] if c in checked else {f: out[inv[c]] for f, out, inv in cols if _dumped(f, out[inv[c]])}
               for c in range(n)]
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

