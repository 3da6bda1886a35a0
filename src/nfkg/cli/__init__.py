"""The ``nfkg`` command line.

Commands
--------
``nfkg evaluate SCENARIO --scheme NAME [--shaping matched|isotropic] [--jamming isotropic|targeted] [--scoring general|per-user] [--json]``
    Score a precoding scheme on a TOML scenario file; ``--json`` prints one JSON object.
``nfkg figure ID --out DIR [--param KEY=VALUE ...] [--format png,pdf] [--scoring ...]``
    Compute one figure of the papers and save it (data and plot).
``nfkg reproduce --out DIR [--only c3,j5] [--scoring ...]``
    Compute every figure and table (or the listed ones) and write the report.
``nfkg train --users K --seed S --out DIR``
    Train KGSVD-Net (SVD w/ DLPA) and write its model files and validation curve.
``nfkg keygen SCENARIO --scheme NAME --rounds R --seed S [--quantizer multilevel|one-bit|multi-bit] [--direction auto|bs|user] [--json FILE]``
    The whole protocol per user: probing, quantisation, reconciliation, amplification.
``nfkg nist FILE [--packed] [--alpha 0.01] [--json]``
    The fifteen NIST SP 800-22 tests of a bit file (ASCII 0/1 or packed bytes).
``nfkg map SCENARIO --scheme S[,S...] --user k --grid 400x400 [--extent ...] [--user-moves] --out DIR``
    Map user k's SKR with its Eve (or itself) at every point of a grid; PNG/PDF and NetCDF.
``nfkg sweep CONFIG --out DIR [--csv] [--workers N | --scheduler tcp://HOST:PORT [--connect-timeout S]] [--model DIR]``
    Run a sweep file (any scenario keys x schemes x seeds) into a Parquet table, resumable.
``nfkg schemes``
    List the registered precoding schemes.
``nfkg info SCENARIO``
    Describe a scenario: array, near-field boundaries, node positions.

Error contract: any bad input (file, key, value, option, scheme) ends the program with
exit status 2 and exactly one line ``nfkg: error: <message>`` on stderr naming the key
(the bounds are those of :mod:`nfkg.model.limits`). Anything else that goes wrong (out of
memory, a non-finite result, Ctrl-C, a bug) ends it with exit status 1 and one line
``nfkg: error: internal error: ...`` (``nfkg: error: aborted`` for Ctrl-C). Never a
traceback, never click's usage block, never a warning: commands run with warnings
ignored and NumPy's floating-point errors silenced. :func:`main` returns the exit
status, so it can be called from tests:
``main(["evaluate", "s.toml", "--scheme", "svd", "--json"])``.

Contents
--------
main
    Entry point (console script ``nfkg``); returns the exit status.
cli
    The click group, for embedding.
parse_param
    ``KEY=VALUE`` with VALUE read as a TOML value (fallback: the raw string).
"""

from __future__ import annotations

import importlib
import json
import math
import sys
import tomllib
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
import numpy as np

from ..model.scenario_file import ScenarioError, _one_line, load_config
from ..model.units import watt_2_dbm
from .._extras import MissingExtra, require as _require_extra

__all__ = ["main", "cli", "parse_param", "InternalError", "EXIT_OK", "EXIT_FAILURE", "EXIT_USAGE"]

#: Exit status of a successful command.
EXIT_OK = 0
#: Exit status of a failure that is not the user's input (e.g. an aborted run).
EXIT_FAILURE = 1
#: Exit status of any bad input: file, key, value, option.
EXIT_USAGE = 2

_SHAPINGS = ("matched", "isotropic")
_JAMMINGS = ("isotropic", "targeted")
_JAMMING_HELP = ("Jamming shape of the SVD schemes: 'isotropic' over the jamming null space (J(15)-(16)) or "
                 "'targeted' at Eve k, q = P_perp h_k/||P_perp h_k|| [default: isotropic; svd-mf: targeted].")
_SCORINGS = ("general", "per-user")
_SCORING_HELP = ("How the SKR is scored: 'general' is the engine of the model "
                 "(docs/model.md) counting the leakage of the other users' random precoders through the shared "
                 "pilot; 'per-user' is J(19), which drops it [default: general].")
_REPORT = "(please report this at the project's issue tracker)"


class InternalError(RuntimeError):
    """A failure that is not the user's input (e.g. a non-finite result): exit status 1."""


def _scoring_option(func):
    return click.option("--scoring", type=click.Choice(_SCORINGS), default="general", show_default=False,
                        help=_SCORING_HELP)(func)
_FORMATS = ("png", "pdf", "svg", "eps", "ps")


# --------------------------------------------------------------------------- helpers
def _lazy(module: str):
    """Import ``nfkg.<module>`` when a command needs it (experiments, plotting, report)."""
    name = f"nfkg.{module}"
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name == name:
            raise click.ClickException(f"{name} is not available in this installation") from None
        raise


def _needs(extra: str, *modules: str) -> None:
    """This command needs ``modules`` of an extra: MissingExtra (one line naming it) when absent."""
    _require_extra(extra, f"nfkg {click.get_current_context().info_name}", modules)


def _figure_ids() -> list[str]:
    """Figures, then the tables (t1, dlpa): every id `nfkg figure` and `--only` accept."""
    return list(dict.fromkeys([*_lazy("studies.experiments").figure_ids(), *_lazy("studies.tables").table_ids()]))


def _check_figure_id(fig_id: str, param_hint: str) -> str:
    ids = _figure_ids()
    fid = fig_id.strip().lower()
    if fid not in ids:
        raise click.BadParameter(f"unknown figure {fig_id!r}; choose one of {', '.join(ids)}",
                                 param_hint=param_hint)
    return fid


def _split_list(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [v.strip().lower() for v in value.split(",")]


def parse_param(text: str) -> tuple[str, Any]:
    """Parse one ``--param KEY=VALUE``.

    VALUE is read as a TOML value (``512`` -> int, ``1e3`` -> float, ``[0,10,20]`` ->
    list, ``true`` -> bool, ``"svd"`` -> str); anything that is not valid TOML is kept
    as the raw string.

    Raises
    ------
    ValueError
        If there is no ``=``, the key is empty or the value is empty.

    Examples
    --------
    >>> parse_param("n_ant=512")
    ('n_ant', 512)
    >>> parse_param("pt_dbm=[0, 10, 20]")
    ('pt_dbm', [0, 10, 20])
    >>> parse_param("scheme=svd-pa")
    ('scheme', 'svd-pa')
    """
    key, sep, raw = text.partition("=")
    key, raw = key.strip(), raw.strip()
    if not sep or not key:
        raise ValueError(f"expected KEY=VALUE, got {text!r}")
    if not raw:
        raise ValueError(f"empty value for {key!r} (write {key}=VALUE)")
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    except RecursionError:
        raise ValueError(f"{key}: the value is nested too deeply") from None
    except ValueError as e:  # e.g. an integer of more than 4300 digits
        raise ValueError(f"{key}: unusable value ({str(e).split(';')[0]})") from None
    return key, value


def _parse_params(_ctx: click.Context, _param: click.Parameter, values: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for text in values:
        try:
            key, value = parse_param(text)
        except ValueError as e:
            raise click.BadParameter(str(e), param_hint="'--param'") from None
        if key in out:
            raise click.BadParameter(f"{key!r} is given twice", param_hint="'--param'")
        out[key] = value
    return out


def _parse_formats(_ctx: click.Context, _param: click.Parameter, value: str | None) -> list[str] | None:
    fmts = _split_list(value)
    if fmts is None:
        return None
    bad = [f for f in fmts if f not in _FORMATS]
    if bad or not fmts:
        raise click.BadParameter(f"unknown format {(bad or [''])[0]!r}; choose from {', '.join(_FORMATS)}",
                                 param_hint="'--format'")
    return list(dict.fromkeys(fmts))


class _SchemeType(click.ParamType):
    """A scheme name, checked against the registry when the command runs (schemes may be
    registered by modules imported after this one)."""

    name = "scheme"

    @staticmethod
    def _names() -> list[str]:
        from ..schemes.precoding import scheme_names

        return scheme_names()

    def get_metavar(self, *args: Any, **kwargs: Any) -> str:
        return "[" + "|".join(self._names()) + "]"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from ..schemes.precoding import get_scheme

        try:
            get_scheme(value)
        except ValueError as e:  # unknown, or a plug-in that failed to load (the message says why)
            self.fail(str(e).removeprefix("scheme: "), param, ctx)
        return value


def _scheme_options(scheme: str, shaping: str | None, jamming: str | None) -> dict[str, Any]:
    """``--shaping``/``--jamming`` checked against the scheme: the options to pass it (BadParameter otherwise)."""
    import inspect

    from ..schemes.precoding import get_scheme

    spec = get_scheme(scheme)
    if spec.fixed_shaping is not None and shaping not in (None, spec.fixed_shaping):
        raise click.BadParameter(f"{scheme} always uses {spec.fixed_shaping} shaping, not {shaping!r}",
                                 param_hint="'--shaping'")
    if jamming is None:
        return {}
    if "jamming" not in inspect.signature(spec.func).parameters:
        raise click.BadParameter(f"applies to the SVD schemes only, not {scheme!r}", param_hint="'--jamming'")
    return {"jamming": jamming}


def _dbm(p_watt: float) -> str:
    return f"{float(watt_2_dbm(p_watt)):.2f}"


def _check_finite(out: dict[str, Any]) -> None:
    """A NaN or infinity in a result is a bug, never printed: :class:`InternalError`."""
    values = [("sum_skr", out.get("sum_skr"))]
    for k, user in enumerate(out.get("users", [])):
        values += [(f"users[{k}].{name}", v) for name, v in user.items()]
    for name, v in values:
        if isinstance(v, float) and not math.isfinite(v):
            raise InternalError(f"non-finite result: {name} = {v!r}")


def _load(path: str):
    """A scenario file as (config, Scenario); ScenarioError on any problem."""
    cfg = load_config(path)
    try:
        return cfg, cfg.to_scenario()
    except ScenarioError as e:
        raise e.with_source(path) from e.__cause__


class _NoBar:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def _progress_bar(total: int, desc: str, unit: str = "run"):
    """A tqdm bar on stderr for long runs (``total`` > 0); tqdm hides it when stderr is not a terminal."""
    if total <= 0:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, leave=False, disable=None)


# --------------------------------------------------------------------------- commands
class _Group(click.Group):
    """The command group; Ctrl-C inside a command becomes click's Abort (no blank line)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise click.exceptions.Abort() from None


@click.group(
    cls=_Group,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(package_name="nfkg", prog_name="nfkg")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Physical-layer secret key generation for near-field XL-MIMO.

    Evaluate precoding schemes on a TOML scenario file (its keys and ranges:
    docs/guides/scenario-files.md), describe a scenario, reproduce the papers' figures and
    tables, train the DLPA network, generate real keys with the whole protocol, and
    test bit files with NIST SP 800-22. Run `nfkg COMMAND --help` for the options of
    each command.
    """
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


@cli.command()
@click.argument("scenario", type=click.Path(dir_okay=True, path_type=str))
@click.option("--scheme", "-s", required=True, type=_SchemeType(),
              help="Precoding scheme (see `nfkg schemes`).")
@click.option("--shaping", type=click.Choice(_SHAPINGS), default=None,
              help="Signal shaping of the SVD schemes [default: matched for one user, "
                   "isotropic for several, as in the papers].")
@click.option("--jamming", type=click.Choice(_JAMMINGS), default=None, help=_JAMMING_HELP)
@_scoring_option
@click.option("--model", "model", default=None, metavar="DIR",
              type=click.Path(file_okay=True, dir_okay=True, path_type=str),
              help="KGSVD-Net model directory for --scheme svd-dlpa (written by `nfkg train`) "
                   "[default: the model shipped for the scenario's K: 2, 4 or 6].")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object (docs/getting-started.md) instead of a table.")
def evaluate(scenario: str, scheme: str, shaping: str | None, jamming: str | None, scoring: str,
             model: str | None, as_json: bool) -> None:
    """Score a precoding scheme on the scenario file SCENARIO.

    SCENARIO is a TOML file; its keys, units and accepted ranges are listed in
    docs/guides/scenario-files.md. Prints each user's secret key rate (SKR, bits
    per channel probing) and the BS power split: P_a = P_s (key generation) + P_n
    (jamming), in W and dBm.
    """
    from ..schemes.precoding import evaluate as run_evaluation

    if model is not None and scheme != "svd-dlpa":
        raise click.BadParameter(f"--model applies to --scheme svd-dlpa only, not {scheme!r}",
                                 param_hint="'--model'")
    options = _scheme_options(scheme, shaping, jamming)
    _, scen = _load(scenario)
    if model is not None:
        options["model"] = model
    try:
        ev = run_evaluation(scen, scheme, shaping, scoring=scoring, **options)
    except ScenarioError:
        raise
    except ValueError as e:  # e.g. "antennas: SVD precoding needs N >= 2K-1 ..."
        raise ScenarioError(str(e) or type(e).__name__, source=scenario) from e
    raw = ev.to_dict()
    out = {"scheme": raw["scheme"], "shaping": raw["shaping"], "scoring": scoring,
           **{k: v for k, v in raw.items() if k not in ("scheme", "shaping", "scoring")}}
    _check_finite(out)
    if as_json:
        click.echo(json.dumps(out, allow_nan=False))
        return
    head = f"scheme {out['scheme']}"
    if out["shaping"] is not None:
        jam = ev.result.jamming
        head += f" ({out['shaping']} shaping, {f'{jam} jamming, ' if jam == 'targeted' else ''}{scoring} scoring)"
    else:
        head += f" ({scoring} scoring)"
    click.echo(f"{head}, N = {scen.n_ant}, K = {scen.n_users}")
    cols = ("user", "SKR [bit]", "P_a [W]", "P_a [dBm]", "P_s [W]", "P_s [dBm]", "P_n [W]", "P_n [dBm]")
    widths = (4, 11, 11, 9, 11, 9, 11, 9)
    click.echo("  ".join(c.rjust(w) for c, w in zip(cols, widths)))
    for k, u in enumerate(out["users"], start=1):
        cells = (str(k), f"{u['skr']:.5f}",
                 f"{u['p_a']:.4e}", _dbm(u["p_a"]),
                 f"{u['p_s']:.4e}", _dbm(u["p_s"]),
                 f"{u['p_n']:.4e}", _dbm(u["p_n"]))
        click.echo("  ".join(c.rjust(w) for c, w in zip(cells, widths)))
    click.echo(f"sum SKR: {out['sum_skr']:.5f} bit/probing")


@cli.command(short_help="Compute one figure of the papers and save it.")
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


@cli.command(short_help="Reproduce all figures and tables, with a report.")
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


@cli.command(short_help="Train KGSVD-Net (SVD w/ DLPA) for K users.")
@click.option("--users", "-k", "n_users", required=True, type=click.IntRange(1, 16),
              help="Number of users K the network is trained for (1..16).")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(0, 2**63 - 1),
              help="Seed of the training data, the initial weights and the batch order.")
@click.option("--out", "-o", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory for the model files, training.csv and training.png/.pdf.")
@click.option("--samples", default=40960, show_default=True, type=click.IntRange(256, 10**7),
              help="Training scenarios (validation: a tenth of them, at least 256).")
@click.option("--epochs", default=300, show_default=True, type=click.IntRange(1, 100000),
              help="Most epochs; training stops earlier when the validation SKR stops rising.")
@click.option("--patience", default=25, show_default=True, type=click.IntRange(1, 100000),
              help="Epochs without improvement of the validation mean SKR before stopping.")
@click.option("--hidden", default="128,128", show_default=True, metavar="H1,H2",
              help="Widths of the two hidden layers.")
@click.option("--batch-size", default=256, show_default=True, type=click.IntRange(1, 10**6),
              help="Mini-batch size (Adam, lr 1e-3 as in J V).")
@click.option("--shaping", type=click.Choice(_SHAPINGS), default="isotropic", show_default=True,
              help="Signal shaping the model is trained for (J: isotropic).")
@click.option("--threads", default=1, show_default=True, type=click.IntRange(1, 256),
              help="torch threads (the network is small: one thread is about as fast and "
                   "reproducible on any machine).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def train(n_users: int, seed: int, out_dir: Path, samples: int, epochs: int, patience: int, hidden: str,
          batch_size: int, shaping: str, threads: int, quiet: bool) -> None:
    """Train KGSVD-Net, the power allocation network of SVD w/ DLPA (J V).

    Draws the training and validation scenarios from the ranges of nfkg.schemes.training
    (every J figure and more, close Eves well represented), trains with Adam on minus
    the mean sum SKR of J(41) with early stopping, and writes to OUT: kgsvd-net.pt and
    kgsvd-net.json (load with --model OUT), training.csv (loss and mean SKR per epoch)
    and training.png/.pdf. The shipped models are `nfkg train --users K --seed 0`.
    """
    _needs("train", "torch")
    from ..schemes.training import kept_epoch, train as run_training

    try:
        widths = tuple(int(h) for h in hidden.split(","))
    except ValueError:
        widths = ()
    if len(widths) != 2 or min(widths) < 1 or max(widths) > 4096:
        raise click.BadParameter(f"expected two widths 1..4096 like 128,128, got {hidden!r}",
                                 param_hint="'--hidden'")
    res = run_training(n_users, seed, out_dir, n_train=samples, n_val=max(256, samples // 10), hidden=widths,
                       epochs=epochs, batch_size=batch_size, patience=patience, shaping=shaping,
                       threads=threads, progress=not quiet)
    best = kept_epoch(res.history)
    click.echo(f"KGSVD-Net K = {n_users}: {len(res.history)} epochs in {res.seconds:.1f} s, kept epoch "
               f"{best['epoch']} (validation mean sum SKR {best['val_skr']:.4f} bits)")
    for f in res.files:
        click.echo(f"wrote {f}")


@cli.command(short_help="Generate keys: probing, quantisation, reconciliation, amplification.")
@click.argument("scenario", type=click.Path(dir_okay=True, path_type=str))
@click.option("--scheme", "-s", default="svd-pa", show_default=True, type=_SchemeType(),
              help="Precoding scheme (see `nfkg schemes`).")
@click.option("--rounds", default=10_000, show_default=True, type=click.IntRange(1, 10_000_000),
              help="Probing rounds T (each gives two real samples per user to quantise).")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(0, 2**63 - 1),
              help="Seed of every random draw (probing, codes, hashes): same seed, same key.")
@click.option("--quantizer", type=click.Choice(["multilevel", "one-bit", "multi-bit"]), default="multilevel",
              show_default=True,
              help="A fine uniform quantiser reconciled level by level (multilevel), J(45)'s sign "
                   "quantiser, or the equiprobable Gray multi-bit quantiser.")
@click.option("--direction", type=click.Choice(["auto", "bs", "user"]), default="auto", show_default=True,
              help="Whose measurement the key is distilled from: the BS's (direct reconciliation), the "
                   "user's (reverse), or per user the one whose bound is larger.")
@click.option("--bits", default=2, show_default=True, type=click.IntRange(1, 8),
              help="Bits per real sample of the multi-bit quantiser.")
@click.option("--step", default=None, type=click.FloatRange(0.01, 10.0),
              help="Multilevel quantiser step in conditional standard deviations [default: 0.5].")
@click.option("--finite-size", "finite_size", type=click.Choice(["renyi", "aep", "none"]), default="renyi",
              show_default=True,
              help="Finite-size term of the key length: Renyi-entropy bound, the AEP term, or none.")
@click.option("--shaping", type=click.Choice(_SHAPINGS), default=None,
              help="Signal shaping of the SVD schemes [default: the papers' rule].")
@click.option("--jamming", type=click.Choice(_JAMMINGS), default=None, help=_JAMMING_HELP)
@click.option("--model", "model", default=None, metavar="DIR",
              type=click.Path(file_okay=True, dir_okay=True, path_type=str),
              help="KGSVD-Net model directory for --scheme svd-dlpa (written by `nfkg train`) "
                   "[default: the model shipped for the scenario's K: 2, 4 or 6].")
@click.option("--json", "json_file", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the result as JSON to this file.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def keygen(scenario: str, scheme: str, rounds: int, seed: int, quantizer: str, direction: str, bits: int,
           step: float | None, finite_size: str, shaping: str | None, jamming: str | None, model: str | None,
           json_file: Path | None, quiet: bool) -> None:
    """Run the whole key-generation protocol on the scenario file SCENARIO.

    Monte Carlo probing; quantisation of the reference measurement (the BS's or the
    user's, --direction); LDPC reconciliation with the other side's soft information,
    level by level for the multilevel quantiser; 64-bit confirmation tags; Toeplitz
    privacy amplification to the leftover-hash-lemma length (epsilon = 1e-9, Renyi
    finite-size term). Eve runs the same public protocol on her own measurements. Prints
    per user: direction, quantiser bits per sample, KDR (other side, Eve), leaked bits,
    efficiency f, final key length, whether both keys match, Eve's agreement, NIST SP
    800-22 of the key, the achieved rate beside the quantiser's bound, both Gaussian
    one-way rates and the SKR, and the status.
    """
    from ..protocol.keygen import keygen as run_keygen

    if model is not None and scheme != "svd-dlpa":
        raise click.BadParameter(f"--model applies to --scheme svd-dlpa only, not {scheme!r}",
                                 param_hint="'--model'")
    options = _scheme_options(scheme, shaping, jamming)
    _, scen = _load(scenario)
    if model is not None:
        options["model"] = model
    with _progress_bar(0 if quiet else 1 + scen.n_users, "keygen") as bar:
        try:
            res = run_keygen(scen, scheme, rounds=rounds, seed=seed, quantizer=quantizer, bits=bits,
                             direction=direction, step=step, finite_size=finite_size, shaping=shaping,
                             progress=None if bar is None else bar.update, **options)
        except ScenarioError:
            raise
        except ValueError as e:
            raise ScenarioError(str(e) or type(e).__name__, source=scenario) from e
    out = res.to_dict()
    if json_file is not None:
        json_file.write_text(json.dumps(out, allow_nan=False, indent=1) + "\n")
    click.echo(f"scheme {res.scheme}, {rounds:,} probings, seed {seed}, {quantizer} quantiser"
               + (f" ({bits} bits per sample)" if quantizer == "multi-bit" else "")
               + f", direction {direction}, finite size {res.params['finite_size']}")
    cols = ("user", "from", "b", "KDR", "Eve KDR", "leaked", "f", "key bits", "match", "Eve agree", "NIST",
            "bit/probing", "bound", "1-way BS", "1-way user", "SKR")
    widths = (4, 4, 2, 7, 7, 10, 6, 10, 5, 9, 9, 11, 7, 8, 10, 7)
    click.echo("  ".join(c.rjust(w) for c, w in zip(cols, widths)))
    for k, u in enumerate(res.users, start=1):
        cells = (str(k), "BS" if u.direction == "bs" else "user", str(u.bits_per_sample), f"{u.kdr:.4f}",
                 f"{u.eve_kdr:.4f}", f"{u.leaked_bits:,}", "-" if u.efficiency is None else f"{u.efficiency:.3f}",
                 f"{u.key_bits:,}", "yes" if u.keys_match else "NO",
                 "-" if u.eve_agreement is None else f"{u.eve_agreement:.3f}", u.nist_passed,
                 f"{u.bits_per_probing:.4f}", f"{u.one_way_bound:.4f}", f"{u.gaussian_one_way_bs:.4f}",
                 f"{u.gaussian_one_way_user:.4f}", f"{u.analytic_skr:.4f}")
        click.echo("  ".join(c.rjust(w) for c, w in zip(cells, widths)))
    for k, u in enumerate(res.users, start=1):
        if u.status != "ok":
            click.echo(f"user {k}: {u.status}")
    if json_file is not None:
        click.echo(f"wrote {json_file}")


#: Most bits `nfkg nist` reads from a file (2^27 = 134,217,728: about 2.5 min and 5 GB for the fifteen tests).
NIST_MAX_BITS = 2**27
#: Most bytes of an ASCII bit file (bits plus whitespace: up to 3 bytes per bit, e.g. one bit per CRLF line).
_NIST_MAX_ASCII_BYTES = 3 * NIST_MAX_BITS
_READ_BLOCK = 1 << 22


def _read_bits(path: str, packed: bool) -> np.ndarray:
    """A bit file as a uint8 array: ASCII 0/1 (whitespace ignored) or packed bytes (MSB first).

    Read in blocks and bounded: more than :data:`NIST_MAX_BITS` bits (or, for ASCII, more than
    3 bytes per allowed bit) is refused with one line, so /dev/zero or a huge file never fills memory.
    """
    from ..randomness import unpack

    too_many = (f"{path} holds more than {NIST_MAX_BITS:,} bits, the most `nfkg nist` reads "
                "(test a part of it, e.g. `head -c 16777216 FILE`)")
    space = np.frombuffer(b" \t\r\n", dtype=np.uint8)
    chunks: list[np.ndarray] = []
    n_bits = n_bytes = 0
    try:
        with open(path, "rb") as fh:
            if packed:
                raw = fh.read(NIST_MAX_BITS // 8 + 1)
                if len(raw) > NIST_MAX_BITS // 8:
                    raise click.BadParameter(too_many, param_hint="'FILE'")
                if not raw:
                    raise click.BadParameter(f"{path} is empty", param_hint="'FILE'")
                return unpack(raw)
            while True:
                block = fh.read(_READ_BLOCK)
                if not block:
                    break
                n_bytes += len(block)
                data = np.frombuffer(block, dtype=np.uint8)
                data = data[~np.isin(data, space)]
                bad = (data != ord("0")) & (data != ord("1"))
                if bad.any():
                    i = int(np.argmax(bad))
                    ch = bytes([int(data[i])])
                    raise click.BadParameter(f"{path} is not an ASCII 0/1 file: byte {ch!r} after {n_bits + i} bits "
                                             "(use --packed for a binary file)", param_hint="'FILE'")
                n_bits += data.size
                if n_bits > NIST_MAX_BITS or n_bytes > _NIST_MAX_ASCII_BYTES:
                    raise click.BadParameter(too_many if n_bits > NIST_MAX_BITS else
                                             f"{path} is larger than {_NIST_MAX_ASCII_BYTES:,} bytes, the most "
                                             "`nfkg nist` reads of an ASCII bit file", param_hint="'FILE'")
                chunks.append(data - np.uint8(ord("0")))
    except IsADirectoryError:
        raise click.BadParameter(f"{path} is a directory, not a bit file", param_hint="'FILE'") from None
    except OSError as e:
        raise click.BadParameter(f"cannot read {path}: {e.strerror or e}", param_hint="'FILE'") from None
    if n_bits == 0:
        raise click.BadParameter(f"{path} holds no bits (empty or only whitespace)", param_hint="'FILE'")
    return np.concatenate(chunks).astype(np.uint8, copy=False)


@cli.command(short_help="NIST SP 800-22 randomness tests of a bit file.")
@click.argument("file", type=click.Path(dir_okay=True, path_type=str))
@click.option("--packed", is_flag=True, help="FILE holds packed bytes (8 bits per byte, MSB first) "
              "instead of ASCII 0/1 characters.")
@click.option("--alpha", default=0.01, show_default=True, type=click.FloatRange(0.0, 1.0, min_open=True,
              max_open=True), help="Significance level: a P-value passes when P >= alpha.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the table.")
def nist(file: str, packed: bool, alpha: float, as_json: bool) -> None:
    """Run the fifteen NIST SP 800-22 Rev. 1a tests on the bits in FILE.

    Parameters are SP 800-22's defaults for the sequence's length (serial and
    approximate-entropy block lengths lowered for short sequences); a test that cannot
    run on the sequence (too short, too few cycles) says why instead of giving a
    number. Prints every P-value with 6 decimals and PASS/FAIL at --alpha, then one
    verdict for the sequence (the applicable tests, Bonferroni over them, SP 800-22's
    proportion rule for the tests with many P-values). Exit status 0 whether or not the
    tests pass; 2 for an empty, non-binary or unreadable file, or one of more than 2^27
    bits (134,217,728).
    """
    from .. import randomness

    bits = _read_bits(file, packed)
    suite = randomness.run_all(bits, alpha=alpha)
    verdict, details = randomness.key_verdict(bits, alpha=alpha, suite=suite)
    if as_json:
        out = {"file": file, "n": suite.n, "alpha": suite.alpha, "success": suite.success,
               "verdict": verdict, "verdict_rule": details["rule"], "failed_tests": details["failed"],
               "tests": [{"name": r.name, "applicable": r.applicable, "reason": r.reason,
                          "parameters": {k: (v if isinstance(v, (int, float, str)) else str(v))
                                         for k, v in r.parameters.items()},
                          "p_values": [{"label": lab, "p_value": p, "passed": p >= alpha}
                                       for lab, p in zip(r.labels, r.p_values)]} for r in suite.results]}
        click.echo(json.dumps(out, allow_nan=False))
        return
    click.echo(f"NIST SP 800-22 Rev. 1a on {suite.n:,} bits of {file}, alpha = {alpha:g}")
    n_p = n_pass = 0
    for r in suite.results:
        if not r.applicable:
            click.echo(f"{r.name:36s} not applicable: {r.reason}")
            continue
        for lab, p in zip(r.labels, r.p_values):
            n_p += 1
            n_pass += p >= alpha
            name = r.name if len(r.p_values) == 1 else f"{r.name} [{lab}]"
            click.echo(f"{name:46s} {p:.6f}  {'PASS' if p >= alpha else 'FAIL'}")
    na = len(suite.not_applicable)
    click.echo(f"{n_pass}/{n_p} P-values pass" + (f"; {na} test(s) not applicable" if na else ""))
    why = {"passed": f"all {details['applicable']} applicable tests pass",
           "failed": f"{', '.join(details['failed'])} fail(s)",
           "not applicable": "no test applies to so short a sequence"}[verdict]
    click.echo(f"verdict: {verdict} ({why}; Bonferroni over the applicable tests, SP 800-22's proportion rule "
               "for the tests with many P-values)")


@cli.command()
def schemes() -> None:
    """List the registered precoding schemes and what they do (plug-ins with their package)."""
    from ..schemes.precoding import get_scheme, scheme_names

    names = scheme_names()
    width = max((len(n) for n in names), default=0)
    for name in names:
        spec = get_scheme(name)
        import inspect

        opts = (["--shaping"] if spec.uses_shaping else []) + (
            ["--jamming"] if "jamming" in inspect.signature(spec.func).parameters else [])
        note = f"  [{', '.join(opts)}]" if opts else ""
        origin = f"  (plug-in: package {spec.package})" if spec.plugin else ""
        click.echo(f"{name.ljust(width)}  {spec.description}{note}{origin}")
    from ..schemes.registry import plugin_failures

    for message in plugin_failures().values():
        click.echo(f"nfkg: warning: {message}", err=True)


def _metres(v: float) -> str:
    """A length for `nfkg info`: 3 decimals, or 3 significant digits below 0.1 m (0.5 mm is '0.0005', not '0.001')."""
    v = float(v)
    return f"{v:.3f}" if v == 0 or abs(v) >= 0.1 else f"{v:.3g}"


@cli.command(short_help="Describe a scenario file: array, near field, nodes.")
@click.argument("scenario", type=click.Path(dir_okay=True, path_type=str))
def info(scenario: str) -> None:
    """Describe the scenario file SCENARIO: array, near-field boundaries and nodes.

    A node is in the radiative near field when it lies between the reactive
    distance 0.62 sqrt(D^3/lambda) and the Rayleigh distance 2 D^2/lambda, with
    the aperture D = (N-1) d (J convention); for a planar array (array_rows > 1)
    D is the aperture's diagonal.
    """
    from ..model.channel import node_position

    cfg, scen = _load(scenario)
    ula = scen.ula
    lam = ula.wavelength
    ray_j, ray_c = ula.rayleigh_distance("J"), ula.rayleigh_distance("C")
    reactive = ula.reactive_distance("J")
    click.echo(f"scenario: {scenario}")
    if cfg.channels is not None:
        click.echo(f"channels:            {cfg.channels} (K = {scen.n_users} users and Eves, N = {ula.n_ant}; "
                   f"the array below describes them, positions are for information)")
    click.echo(f"antennas N:          {ula.n_ant}" + (f" ({ula.rows} rows x {ula.cols} columns, a planar array "
                                                       f"in the x-z plane)" if ula.planar else ""))
    click.echo(f"carrier:             {cfg.carrier_ghz:g} GHz (wavelength {lam * 1e3:.4f} mm)")
    click.echo(f"spacing d:           {ula.spacing * 1e3:.4f} mm ({ula.spacing_wavelengths:g} wavelengths)")
    if ula.planar:
        click.echo(f"aperture D:          {ula.aperture('J'):.4f} m (diagonal d sqrt((C-1)^2+(R-1)^2), J), "
                   f"{ula.aperture('C'):.4f} m (d sqrt(C^2+R^2), C)")
    else:
        click.echo(f"aperture D:          {(ula.n_ant - 1) * ula.spacing:.4f} m ((N-1)d, J), "
                   f"{ula.n_ant * ula.spacing:.4f} m (Nd, C)")
    click.echo(f"Rayleigh distance:   {ray_j:.3f} m (J), {ray_c:.3f} m (C)")
    click.echo(f"reactive distance:   {reactive:.3f} m (J)")
    click.echo(f"P_max / P_b:         {cfg.pt_dbm:g} dBm / {cfg.p_b_dbm:g} dBm")
    noise = [cfg.noise_dbm if v is None else v for v in (cfg.noise_a_dbm, cfg.noise_b_dbm, cfg.noise_e_dbm)]
    click.echo(f"noise BS/user/Eve:   {noise[0]:g} / {noise[1]:g} / {noise[2]:g} dBm, "
               f"pilot length V = {cfg.pilot_length}")
    if cfg.users is None and cfg.eves is None:
        click.echo("nodes:               positions not given (the channels are)")
        return
    elevated = any(n.el != 0.0 for n in (*(cfg.users or ()), *(cfg.eves or ())))
    cols = ("node", "r [m]", "psi [rad]", "x [m]", "y [m]", "radiative NF", "region")
    widths = (6, 9, 9, 9, 9, 12, 0)
    if elevated:  # nodes off the x-y plane: their elevation and height too
        cols = ("node", "r [m]", "psi [rad]", "el [rad]", "x [m]", "y [m]", "z [m]", "radiative NF", "region")
        widths = (6, 9, 9, 9, 9, 9, 9, 12, 0)

    def row(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else (c.rjust(w) if w else c)
                         for i, (c, w) in enumerate(zip(cells, widths)))

    click.echo(row(cols))
    for who, nodes in (("user", cfg.users or ()), ("eve", cfg.eves or ())):
        for k, node in enumerate(nodes, start=1):
            x, y = (float(v) for v in node_position(node.r * math.cos(node.el), node.psi))
            if node.r < reactive:
                region = "reactive near field"
            elif node.r < ray_j:
                region = "radiative near field"
            else:
                region = "far field"
            cells = (f"{who} {k}", _metres(node.r), f"{node.psi:.4f}", _metres(x), _metres(y),
                     "yes" if region == "radiative near field" else "no", region)
            if elevated:
                cells = (*cells[:3], f"{node.el:.4f}", *cells[3:5], _metres(node.r * math.sin(node.el)), *cells[5:])
            click.echo(row(cells))


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


@cli.command("map", short_help="SKR map: one user's SKR with its Eve (or itself) anywhere in front of the array.")
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


@cli.command(short_help="Run a sweep file: any scenario keys x schemes x seeds, resumable, on Dask.")
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


from .rt import rt as _rt_command  # noqa: E402 (nfkg rt: its own module)
cli.add_command(_rt_command)


# --------------------------------------------------------------------------- entry point
def _fail(message: Any, code: int = EXIT_USAGE) -> int:
    click.echo(f"nfkg: error: {_one_line(message) or 'unknown error'}", err=True)
    return code


def _internal(e: BaseException) -> int:
    text = _one_line(str(e))
    if isinstance(e, InternalError):
        return _fail(f"internal error: {text} {_REPORT}", EXIT_FAILURE)
    return _fail(f"internal error: {type(e).__name__}{': ' + text if text else ''} {_REPORT}", EXIT_FAILURE)


def _aborted() -> int:
    if sys.stderr is not None and sys.stderr.isatty():
        click.echo("", err=True)  # close the terminal's ^C echo
    return _fail("aborted", EXIT_FAILURE)


def _run(args: list[str]) -> int:
    try:
        rv = cli.main(args=args, prog_name="nfkg", standalone_mode=False)
    except click.exceptions.Abort:
        return _aborted()
    except click.exceptions.UsageError as e:
        return _fail(e.format_message(), EXIT_USAGE)
    except click.exceptions.ClickException as e:
        return _fail(e.format_message(), e.exit_code if e.exit_code != 0 else EXIT_FAILURE)
    except ScenarioError as e:
        return _fail(e, EXIT_USAGE)
    except MissingExtra as e:  # an optional dependency: one line naming the extra
        return _fail(e, EXIT_FAILURE)
    except ValueError as e:
        return _fail(str(e) or type(e).__name__, EXIT_USAGE)
    except OSError as e:  # e.g. an --out directory that cannot be created
        where = f"{e.filename}: " if getattr(e, "filename", None) else ""
        return _fail(f"{where}{e.strerror or e}", EXIT_USAGE)
    return rv if isinstance(rv, int) else EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``nfkg`` command line and return its exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; ``sys.argv[1:]`` by default.

    Returns
    -------
    int
        0 on success; 2 on any bad input (after one ``nfkg: error: ...`` line on
        stderr naming the key); 1 when aborted (Ctrl-C), when a required module is
        missing, or on an internal error (``nfkg: error: internal error: <Type>:
        <message> (please report ...)``, e.g. out of memory or a non-finite result).
        Never a traceback; warnings are not shown.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return _run(args)
    except KeyboardInterrupt:
        return _aborted()
    except RecursionError as e:
        return _internal(e)
    except MemoryError as e:
        return _internal(e)
    except Exception as e:  # noqa: BLE001 - the contract: one line, never a traceback
        return _internal(e)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
