"""``nfkg figure`` and ``nfkg reproduce``: the papers' figures and tables, the report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ._common import (_FORMATS, _check_figure_id, _lazy, _parse_formats, _parse_params, _progress_bar, _scoring_option, _split_list)

__all__ = ["figure", "reproduce"]


@click.command(short_help="Compute one figure of the papers and save it.")
@click.argument("fig_id", metavar="ID")
@click.option("--out", "-o", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory for the figure and its data (created if needed).")
@click.option("--param", "-p", "overrides", multiple=True, metavar="KEY=VALUE", callback=_parse_params,
              help="Override a parameter of the figure; VALUE is a TOML value, e.g. "
                   "`--param n_ant=512 --param pt_dbm=[0,10,20]`. Repeatable.")
@click.option("--format", "formats", metavar="FMT[,FMT...]", default=None, callback=_parse_formats,
              help=f"Image formats, comma separated, from {', '.join(_FORMATS)} "
                   "[default: the plotting module's].")
@_scoring_option
def figure(fig_id: str, out_dir: Path, overrides: dict[str, Any], formats: list[str] | None,
           scoring: str) -> None:
    """Compute figure ID of the papers (e.g. c3, j5) and save it in --out.

    The parameters a --param may override, and their accepted ranges (those of the
    scenario file's keys), are listed in docs/guides/scenario-files.md.
    Prints the paths of the files written.
    """
    experiments = _lazy("studies.experiments")
    plotting = _lazy("studies.plotting")
    fid = _check_figure_id(fig_id, "'ID'")
    kwargs: dict[str, Any] = {} if formats is None else {"formats": formats}
    tables = _lazy("studies.tables")
    if fid in tables.table_ids():
        with _progress_bar(tables.table_steps(fid, overrides), fid) as bar:
            data = tables.run_table(fid, overrides, progress=None if bar is None else bar.update)
        out_dir.mkdir(parents=True, exist_ok=True)
        for path in tables.save_table(data, out_dir, **kwargs):
            click.echo(str(path))
        return
    steps = experiments.monte_carlo_steps(fid, overrides)
    with _progress_bar(steps, f"{fid} Monte Carlo") as bar:
        data = experiments.run_figure(fid, overrides, scoring=scoring,
                                      progress=None if bar is None else bar.update)
    out_dir.mkdir(parents=True, exist_ok=True)
    for path in plotting.save_figure(data, out_dir, **kwargs):
        click.echo(str(path))


@click.command(short_help="Reproduce all figures and tables, with a report.")
@click.option("--out", "-o", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory for the figures, data and report (created if needed).")
@click.option("--only", metavar="ID[,ID...]", default=None,
              help="Only these figures/tables, comma separated, e.g. `--only c3,j5` [default: all].")
@_scoring_option
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=None,
              help="Worker processes; 1 computes everything in this process [default: one per core, at most 4]. "
                   "The files do not depend on it.")
def reproduce(out_dir: Path, only: str | None, scoring: str, jobs: int | None) -> None:
    """Reproduce the papers' figures and tables into --out, with a report (index.html, index.md)."""
    report = _lazy("studies.report")
    ids = _split_list(only)
    if ids is not None:
        if not all(ids):
            raise click.BadParameter(f"empty id in {only!r}; write e.g. --only c3,j5", param_hint="'--only'")
        # every id `nfkg figure` accepts (figures and tables), checked before anything is computed
        ids = list(dict.fromkeys(_check_figure_id(i, "'--only'") for i in ids))
    out_dir.mkdir(parents=True, exist_ok=True)
    result = report.reproduce(out_dir, ids=ids, progress=True, scoring=scoring,
                              **({} if jobs is None else {"jobs": jobs}))
    if result is not None and not isinstance(result, (list, tuple, dict)):
        click.echo(str(result))
