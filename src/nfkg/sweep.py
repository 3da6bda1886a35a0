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

Resumption. Results are written chunk by chunk (``OUT/chunks/chunk-NNNNNN.parquet``,
each written to a temporary name and renamed, so a chunk file is complete or absent);
``OUT/sweep.json`` records the sweep's hash. Rerunning the same sweep computes only the
missing chunks; a different sweep in the same folder is refused. When every chunk is
there, ``OUT/results.parquet`` (and ``results.csv`` with ``csv=True``) is written.

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .scenario_file import ScenarioConfig, _one_line, parse_config

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

    @property
    def keys(self) -> list[str]:
        return list(self.config.sweep)

    @property
    def digest(self) -> str:
        """Hash of everything that determines the results."""
        c = self.config
        return _digest({"format": FORMAT, "base": self.base, "sweep": c.sweep, "schemes": c.schemes,
                        "seeds": c.seeds, "rounds": c.rounds, "chunk": c.chunk, "shaping": c.shaping,
                        "jamming": c.jamming})

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
    from .precoding import get_scheme
    from .reduced import JAMMINGS, SHAPINGS, check_svd_options

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
    keys = list(cfg.sweep)
    grids = np.meshgrid(*[np.arange(len(cfg.sweep[k])) for k in keys], indexing="ij") if keys else []
    combos = np.stack([g.reshape(-1) for g in grids], axis=-1) if keys else np.zeros((1, 0), dtype=int)
    points = []
    for seed in cfg.seeds:
        for combo in combos:
            values = {}
            for k, i in zip(keys, combo):
                parts, value = _linked(k), cfg.sweep[k][int(i)]
                values.update(zip(parts, value) if len(parts) > 1 else [(k, value)])
            point_cfg = copy.deepcopy(base)
            for k, v in values.items():
                _set(point_cfg, k, v)
            try:
                resolved = parse_config(point_cfg)
                scen = resolved.to_scenario()
                for name in cfg.schemes:  # the SVD schemes' N >= 2K-1 and options, before any work
                    if name.startswith("svd"):
                        check_svd_options(scen.n_ant, scen.n_users, cfg.shaping or "isotropic",
                                          cfg.jamming or "isotropic")
            except ValueError as e:
                shown = ", ".join(f"{k}={_canon(v)}" for k, v in values.items())
                raise SweepError(f"{where}point {len(points)} ({shown or 'base'}): {e}") from None
            points.append(Point(len(points), values, int(seed), resolved.model_dump(mode="json")))
    return Sweep(cfg, base, tuple(points), None if source is None else os.fspath(source))


def _read_toml(path: str | os.PathLike, prefix: str, name: str) -> dict[str, Any]:
    """A TOML file's content; :class:`SweepError` ``"<prefix>cannot read <name> (...)"`` otherwise."""
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except OSError as e:
        raise SweepError(f"{prefix}cannot read {name} ({e.strerror or e})") from None
    except tomllib.TOMLDecodeError as e:
        raise SweepError(f"{prefix}{name} is not valid TOML ({_one_line(str(e))})") from None


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
    from .precoding import get_scheme

    takes = "seed" in inspect.signature(get_scheme(scheme).func).parameters
    return {"seed": point.point_seed()} if takes else {}


def _stack(scenarios: list) -> Any:
    from .scenario import Scenario

    s0 = scenarios[0]
    return Scenario(s0.ula, *(np.stack([getattr(s, a) for s in scenarios])
                              for a in ("r_b", "psi_b", "r_e", "psi_e", "p_max", "p_b", "sigma2_a", "sigma2_b",
                                        "sigma2_e")), s0.pilot_length, checked=True)


def _cell(v: Any) -> Any:
    return v if isinstance(v, (int, float, str, bool)) else _canon(v)


def run_chunk(task: tuple) -> list[dict[str, Any]]:
    """Rows of one chunk: every point of it scored by every scheme (a pure function).

    ``task`` is ``(points, schemes, shaping, jamming, rounds)``. Points with the same
    array, K and pilot length run as one batch per scheme (schemes with a ``seed``
    option run point by point with the point's seed).
    """
    from .precoding import evaluate

    points, schemes, shaping, jamming, rounds = task
    scen = [ScenarioConfig.model_validate(p.config).to_scenario() for p in points]
    groups: dict[Any, list[int]] = {}
    for i, s in enumerate(scen):
        groups.setdefault((s.ula, s.n_users, s.pilot_length), []).append(i)
    rows: dict[tuple[int, str], dict[str, Any]] = {}
    for members in groups.values():
        for scheme in schemes:
            opts = {} if jamming is None or not scheme.startswith("svd") else {"jamming": jamming}
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
    from .probing import probe
    from .quantization import kdr, one_bit

    from .precoding import precode

    result = precode(scenario, scheme, shaping, **opts, **_seed_option(scheme, point))
    p = probe(scenario, result, rounds=rounds, seed=point.point_seed())
    ka, kb, ke = one_bit(p.z_a), one_bit(p.z_b), one_bit(p.z_e)
    k = scenario.n_users
    return {"kdr": [float(kdr(ka[:, i], kb[:, i])) for i in range(k)],
            "kdr_eve": [float(kdr(ka[:, i], ke[:, i])) for i in range(k)]}


# --------------------------------------------------------------------------- the run
def _chunk_path(out: Path, c: int) -> Path:
    return out / "chunks" / f"chunk-{c:06d}.parquet"


def _write_rows(rows: list[dict[str, Any]], path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".parquet.tmp")
    pq.write_table(pa.Table.from_pylist(rows), tmp)
    os.replace(tmp, path)


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

    Parameters
    ----------
    sweep : Sweep
    out_dir : path
    executor : nfkg.executor.Executor, optional
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
        ``points``, ``chunks``, ``computed`` (chunks computed now), ``reused``, ``complete``,
        ``seconds`` and ``results`` (the table's path or None).
    """
    from .executor import InProcess

    t0 = time.perf_counter()
    out = Path(out_dir)
    _manifest(sweep, out)
    chunks = sweep.chunks()
    missing = [c for c in range(len(chunks)) if not _chunk_path(out, c).exists()]
    reused = len(chunks) - len(missing)
    if progress is not None and reused:
        progress(sum(len(chunks[c]) for c in range(len(chunks)) if c not in set(missing)))
    todo = missing if max_chunks is None else missing[:max_chunks]
    c = sweep.config
    tasks = [(chunks[i], tuple(c.schemes), c.shaping, c.jamming, c.rounds) for i in todo]
    ex = InProcess() if executor is None else executor
    for j, rows in ex.run(run_chunk, tasks):
        _write_rows(rows, _chunk_path(out, todo[j]))
        if progress is not None:
            progress(len(chunks[todo[j]]))
    complete = len(todo) == len(missing)
    result = None
    if complete:
        result = _merge(out, len(chunks), csv)
    return {"points": len(sweep.points), "chunks": len(chunks), "computed": len(todo), "reused": reused,
            "complete": complete, "seconds": time.perf_counter() - t0, "results": result}


def _merge(out: Path, n_chunks: int, csv: bool) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.concat_tables([pq.read_table(_chunk_path(out, c)) for c in range(n_chunks)],
                             promote_options="permissive")
    path = out / "results.parquet"
    tmp = out / "results.parquet.tmp"
    pq.write_table(table, tmp)
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
    return path


def read_results(out_dir: str | os.PathLike):
    """The results table of a finished sweep as a :class:`pandas.DataFrame`."""
    import pandas as pd

    return pd.read_parquet(Path(out_dir) / "results.parquet")
