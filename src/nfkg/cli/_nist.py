"""``nfkg nist``: the NIST SP 800-22 tests of a bit file."""

from __future__ import annotations

import json

import click
import numpy as np


__all__ = ["nist"]



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


@click.command(short_help="NIST SP 800-22 randomness tests of a bit file.")
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
