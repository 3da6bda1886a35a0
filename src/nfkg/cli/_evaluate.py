"""``nfkg evaluate``: score a precoding scheme on a scenario file."""

from __future__ import annotations

import json

import click

from ..model.scenario_file import ScenarioError
from ._common import (_JAMMINGS, _JAMMING_HELP, _SHAPINGS, _SchemeType, _check_finite, _dbm, _load, _scheme_options, _scoring_option)

__all__ = ["evaluate"]


@click.command()
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

    options = _scheme_options(scheme, shaping, jamming, model)
    _, scen = _load(scenario)
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
