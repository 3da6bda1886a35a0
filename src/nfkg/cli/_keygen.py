"""``nfkg keygen``: the whole key-generation protocol per user."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..model.scenario_file import ScenarioError
from ._common import (_JAMMINGS, _JAMMING_HELP, _SHAPINGS, _SchemeType, _load, _progress_bar, _scheme_options)

__all__ = ["keygen"]


@click.command(short_help="Generate keys: probing, quantisation, reconciliation, amplification.")
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

    options = _scheme_options(scheme, shaping, jamming, model)
    _, scen = _load(scenario)
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
