"""``nfkg map`` and ``nfkg sweep``: secrecy maps and sweeps (local or Dask)."""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np

from ..model.scenario_file import ScenarioError
from ._common import (InternalError, _SHAPINGS, _SchemeType, _lazy, _load, _needs, _progress_bar, _scoring_option, _split_list)

__all__ = ["map_command", "sweep"]



# --------------------------------------------------------------------------- maps and sweeps
def _executor_options(func):
    func = click.option("--connect-timeout", "connect_timeout", default=10.0, show_default=True,
                        type=click.FloatRange(0.0, 3600.0, min_open=True), metavar="SECONDS",
                        help="With --scheduler: seconds to wait for the Dask scheduler to answer; an address "
                             "where nothing, or something other than Dask, answers fails after it.")(func)
    func = click.option("--scheduler", default=None, metavar="tcp://HOST:PORT",
                        help="Run the chunks on an existing Dask cluster (its scheduler's address).")(func)
    func = click.option("--workers", "-w", default=None, type=click.IntRange(1, 1024),
                        help="Run the chunks on a local Dask cluster of this many worker processes "
                             "[default: in this process, nothing to start].")(func)
    return func


def _executor(workers: int | None, scheduler: str | None, connect_timeout: float = 10.0):
    """The chunks' executor (nfkg.scale.executor); ValueError (exit 2) for a bad choice or address."""
    if workers is not None and scheduler is not None:
        raise click.BadParameter("give --workers or --scheduler, not both", param_hint="'--workers'")
    if scheduler is not None and "://" not in scheduler:
        raise click.BadParameter(f"must be an address like tcp://HOST:PORT, got {scheduler!r}",
                                 param_hint="'--scheduler'")
    return _lazy("scale.executor").get_executor(workers=workers, scheduler=scheduler, timeout=connect_timeout)


def _numbers(text: str, count: int, hint: str, sep: str = ",") -> list[float]:
    parts = [p.strip() for p in text.split(sep)]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != count:
        raise click.BadParameter(f"must be {count} numbers separated by {sep!r}, got {text!r}", param_hint=hint)
    return values


@click.command("map", short_help="SKR map: one user's SKR with its Eve (or itself) anywhere in front of the array.")
@click.argument("scenario", type=click.Path(dir_okay=True, path_type=str))
@click.option("--scheme", "-s", "schemes", required=True, metavar="NAME[,NAME...]",
              help="Scheme(s); several give one panel each, side by side, on one colour scale.")
@click.option("--user", "-k", default=1, show_default=True, type=click.IntRange(1, 64),
              help="The user k whose SKR is mapped (counted from 1, as in the papers).")
@click.option("--grid", default="400x400", show_default=True, metavar="NXxNY",
              help="Grid points along x (the array) and y (broadside).")
@click.option("--extent", default=None, metavar="XMIN,XMAX,YMIN,YMAX",
              help="Grid extent in metres [default: 1.25 times the farthest node, in front of the array].")
@click.option("--user-moves", is_flag=True,
              help="Move user k over the grid instead of its Eve (every Eve fixed): where user k can get keys.")
@click.option("--eve-fixed", is_flag=True, help="Same as --user-moves (the two are usually given together).")
@click.option("--shaping", type=click.Choice(_SHAPINGS), default=None,
              help="Signal shaping of the SVD schemes [default: the papers' rule].")
@click.option("--jamming", type=click.Choice(("isotropic", "targeted")), default=None,
              help="Jamming shape of the SVD schemes [default: isotropic].")
@_scoring_option
@click.option("--model", "model", default=None, metavar="DIR",
              type=click.Path(file_okay=True, dir_okay=True, path_type=str),
              help="KGSVD-Net model directory for svd-dlpa [default: the model shipped for the scenario's K].")
@click.option("--log", "log_scale", is_flag=True, help="Logarithmic colour scale.")
@click.option("--chunk", default=None, type=click.IntRange(1, 10**7),
              help="Grid points per chunk [default: about 2 M channel entries per chunk].")
@_executor_options
@click.option("--out", "-o", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Output folder (map.png, map.pdf, map.nc).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def map_command(scenario: str, schemes: str, user: int, grid: str, extent: str | None, user_moves: bool,
                eve_fixed: bool, shaping: str | None, jamming: str | None, scoring: str, model: str | None,
                log_scale: bool,
                chunk: int | None, workers: int | None, scheduler: str | None, connect_timeout: float, out_dir: Path,
                quiet: bool) -> None:
    """Map user k's SKR with its Eve at every point of a grid in front of the array.

    A point (x, y) in metres (x along the array, y broadside) is the node at
    r = hypot(x, y), psi = atan2(x, y). Writes map.png and map.pdf (the array, the
    users and Eves, the Rayleigh and reactive near-field boundaries) and map.nc, the
    data as NetCDF (variable `skr` over x and y, the scenario and scheme as attributes).
    """
    _needs("scale", "xarray", *(("dask", "distributed") if workers or scheduler else ()))
    maps = _lazy("scale.maps")
    names = _split_list(schemes) or []
    for name in names:
        _SchemeType().convert(name, None, None)
    try:
        nx, ny = (int(v) for v in grid.lower().split("x"))
    except ValueError:
        raise click.BadParameter(f"must be NXxNY, e.g. 400x400, got {grid!r}", param_hint="'--grid'") from None
    cfg, scen = _load(scenario)
    if not scen.has_geometry:  # one line: a map moves a node, which given channels cannot do
        raise ScenarioError("nfkg map needs the array model and node positions; the scenario's channels come "
                            f"from {cfg.channels}", source=scenario)
    if user > scen.n_users:
        raise click.BadParameter(f"the scenario has {scen.n_users} user(s); got {user}", param_hint="'--user'")
    options = {} if jamming is None else {"jamming": jamming}
    if model is not None:
        if names != ["svd-dlpa"]:
            raise click.BadParameter("applies to --scheme svd-dlpa alone", param_hint="'--model'")
        options["model"] = _lazy("schemes.dlpa").load_model(model)
    if jamming is not None:
        bad = [n for n in names if not n.startswith("svd")]
        if bad:
            raise click.BadParameter(f"applies to the SVD schemes only, not {bad[0]!r}", param_hint="'--jamming'")
    spec = maps.MapSpec(scen, tuple(names), user, "user" if (user_moves or eve_fixed) else "eve", shaping,
                        scoring, options)
    box = maps.default_extent(scen) if extent is None else _numbers(extent, 4, "'--extent'")
    x, y = maps.map_grid(box, (nx, ny))
    with _executor(workers, scheduler, connect_timeout) as ex:
        with _progress_bar(0 if quiet else x.size * y.size, "map", "point") as bar:
            result = maps.secrecy_map(spec, x, y, executor=ex, chunk=chunk,
                                      progress=None if bar is None else bar.update)
    for name in names:
        if not np.all(np.isfinite(result.skr[name])):
            raise InternalError(f"non-finite SKR in the map of {name}")
    paths = maps.save_map(result, out_dir, cfg.model_dump(mode="json"), log=log_scale)
    for name in names:
        v = result.user_skr(name)
        click.echo(f"{name}: SKR of user {user} min {v.min():.4g}, median {np.median(v):.4g}, "
                   f"max {v.max():.4g} bit/probing")
    click.echo(f"{nx}x{ny} points in {result.seconds:.1f} s; wrote {', '.join(str(p) for p in paths)}")


@click.command(short_help="Run a sweep file: any scenario keys x schemes x seeds, resumable, on Dask.")
@click.argument("config", type=click.Path(dir_okay=False, path_type=str))
@click.option("--out", "-o", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Output folder: chunks/, sweep.json and, when complete, results.parquet.")
@click.option("--csv", "as_csv", is_flag=True, help="Also write results.csv (list columns as JSON).")
@_executor_options
@click.option("--model", "model", default=None, metavar="DIR",
              type=click.Path(file_okay=True, dir_okay=True, path_type=str),
              help="KGSVD-Net model directory for svd-dlpa (written by `nfkg train`) [default: the model "
                   "shipped for each point's K: 2, 4 or 6].")
@click.option("--max-chunks", default=None, type=click.IntRange(1, 10**9),
              help="Compute at most this many missing chunks, then stop (rerun to go on).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def sweep(config: str, out_dir: Path, as_csv: bool, workers: int | None, scheduler: str | None,
          connect_timeout: float, model: str | None, max_chunks: int | None, quiet: bool) -> None:
    """Run the sweep file CONFIG (TOML): a base scenario, lists of values, schemes, seeds.

    One row per point and scheme in OUT/results.parquet. Results are written chunk
    by chunk; rerunning an interrupted sweep computes only the missing chunks (a chunk
    file that is not this sweep's is computed again). The file's format is in
    docs/guides/maps-and-sweeps.md.
    """
    _needs("scale", "pyarrow", *(("dask", "distributed") if workers or scheduler else ()))
    sw = _lazy("scale.sweep")
    spec = sw.load_sweep(config)
    if model is not None:
        if "svd-dlpa" not in spec.config.schemes:
            raise click.BadParameter(f"applies to svd-dlpa, which the sweep does not run (schemes: "
                                     f"{', '.join(spec.config.schemes)})", param_hint="'--model'")
        spec = spec.with_model(model)
    with _executor(workers, scheduler, connect_timeout) as ex:
        with _progress_bar(0 if quiet else len(spec.points), "sweep", "point") as bar:
            info = sw.run_sweep(spec, out_dir, executor=ex, csv=as_csv, max_chunks=max_chunks,
                                progress=None if bar is None else bar.update)
    replaced = f", {info['replaced']} chunk file(s) of another sweep or chunk replaced" if info["replaced"] else ""
    done = f"{info['points']} points x {len(spec.config.schemes)} schemes in {info['chunks']} chunks " \
           f"({info['computed']} computed now in {info['seconds']:.1f} s, {info['reused']} already done{replaced})"
    if info["complete"]:
        click.echo(f"{done}; wrote {info['results']}" + (f" and {out_dir / 'results.csv'}" if as_csv else ""))
    else:
        click.echo(f"{done}; stopped at --max-chunks, rerun to finish")
