"""Shared pieces of the ``nfkg`` commands: exit codes, option types and helpers."""

from __future__ import annotations

import importlib
import math
import tomllib
from collections.abc import Sequence
from typing import Any

import click

from ..model.scenario_file import ScenarioError, load_config
from ..model.units import watt_2_dbm
from .._extras import require as _require_extra

__all__ = ["EXIT_OK", "EXIT_FAILURE", "EXIT_USAGE", "InternalError", "parse_param"]


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


def _scheme_options(scheme: str, shaping: str | None, jamming: str | None,
                    model: str | None = None) -> dict[str, Any]:
    """``--shaping``/``--jamming``/``--model`` checked against the scheme: the options to pass it
    (BadParameter otherwise)."""
    import inspect

    from ..schemes.precoding import get_scheme

    if model is not None and scheme != "svd-dlpa":
        raise click.BadParameter(f"--model applies to --scheme svd-dlpa only, not {scheme!r}",
                                 param_hint="'--model'")
    spec = get_scheme(scheme)
    if spec.fixed_shaping is not None and shaping not in (None, spec.fixed_shaping):
        raise click.BadParameter(f"{scheme} always uses {spec.fixed_shaping} shaping, not {shaping!r}",
                                 param_hint="'--shaping'")
    options: dict[str, Any] = {} if model is None else {"model": model}
    if jamming is None:
        return options
    if "jamming" not in inspect.signature(spec.func).parameters:
        raise click.BadParameter(f"applies to the SVD schemes only, not {scheme!r}", param_hint="'--jamming'")
    return {**options, "jamming": jamming}


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
