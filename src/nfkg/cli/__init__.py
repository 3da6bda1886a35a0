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
``nfkg rt SCENE --users ... --eves ... --out ch.npz``
    Trace per-element channels in a Sionna RT scene into a channel file (extra ``rt``).

Each command lives in its own module (``_evaluate``, ``_figures``, ``_train``, ``_keygen``,
``_nist``, ``_info``, ``_scale``, ``rt``) and shares :mod:`nfkg.cli._common`'s helpers;
this module holds the group and the entry point.

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

import sys
import warnings
from collections.abc import Sequence
from typing import Any

import click
import numpy as np

from .._extras import MissingExtra
from ..model.scenario_file import ScenarioError, _one_line
from ._common import (_REPORT, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, InternalError, _Group, parse_param)

__all__ = ["main", "cli", "parse_param", "InternalError", "EXIT_OK", "EXIT_FAILURE", "EXIT_USAGE"]


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


from . import _evaluate, _figures, _info, _keygen, _nist, _scale, _train, rt  # noqa: E402 (one module per command)

for _command in (_evaluate.evaluate, _figures.figure, _figures.reproduce, _train.train, _keygen.keygen, _nist.nist,
                 _info.schemes, _info.info, _scale.map_command, _scale.sweep, rt.rt):
    cli.add_command(_command)



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
