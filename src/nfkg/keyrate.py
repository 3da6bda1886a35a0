r"""``nfkg figure keyrate``: how much of the information-theoretic rate a real protocol keeps.

For the J5 geometry (Eves 2 cm closer than their users) and for the same users with Eves
0.5 m closer, over :math:`P_t`, every J scheme runs the whole protocol of :func:`nfkg.keygen.keygen`
with the one-bit and the multi-bit (2 bits per sample) quantiser on the same probings. Each
panel shows, per scheme, the achieved key rate with the finite-size term (solid), without it
(the asymptotic length: what reconciliation leaves, dash-dot), the one-way bound of the
quantiser (:func:`nfkg.bounds.one_way_rate`, dashed) and the papers' SKR
:math:`I(z_a; z_b|z_e)` (dotted), all summed over the users, in bits per probing.

Contents
--------
KEYRATE_DEFAULTS, run_keyrate, KeyrateData, save_keyrate
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from .tables import DictRows, merge_overrides, write_figure

__all__ = ["KEYRATE_DEFAULTS", "run_keyrate", "KeyrateData", "save_keyrate", "keyrate_steps"]

KEYRATE_DEFAULTS: dict[str, Any] = {
    "pt_dbm": (10.0, 20.0, 30.0),
    "rounds": 20_000,
    "seed": 0,
    "schemes": ("ras", "mrc", "svd", "svd-pa", "svd-dlpa"),
    "eve_offsets_m": (0.02, 0.5),
    "bits": 2,
    "n_ant": 256,
}
_QUANT = ("one-bit", "multi-bit")


@dataclass
class KeyrateData(DictRows):
    """Rows ``(geometry, quantiser, scheme, P_t, achieved, asymptotic, one_way, skr, keys_match)``."""

    params: dict[str, Any]
    rows: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    claims: list = field(default_factory=list)
    id: str = "keyrate"
    title: str = "Achieved key rate versus P_t (whole protocol)"
    paper_ref: str = "beyond C/J Fig. 2"

    @property
    def text(self) -> str:
        mism = sum(not r["keys_match"] for r in self.rows)
        return ("Sum over users of the achieved key rate (bits per probing) of the whole protocol "
                f"({self.params['rounds']:,} probings per point, seed {self.params['seed']}): with the "
                "finite-size term of the leftover hash lemma (AEP, epsilon = 1e-9), without it, the one-way "
                "bound of the quantiser and the papers' SKR. With Eves 2 cm away (J5) the one-way bound is "
                "about 0 and no key comes out although the SKR is about 0.6 bit per user; with Eves 0.5 m "
                f"away keys appear. BS and user keys differed in {mism} of {len(self.rows)} runs.")


def keyrate_steps(overrides: Mapping[str, Any] | None = None) -> int:
    p = {**KEYRATE_DEFAULTS, **dict(overrides or {})}
    return len(p["pt_dbm"]) * len(p["schemes"]) * len(p["eve_offsets_m"])


def run_keyrate(overrides: Mapping[str, Any] | None = None,
                progress: Callable[[int], None] | None = None) -> KeyrateData:
    """Run the protocol over the grid (see the module docstring)."""
    from .channel import ULA
    from .experiments import _point_seed, scheme_label
    from .keygen import keygen
    from .precoding import evaluate, get_scheme
    from .probing import probe
    from .scenario import Scenario

    p = merge_overrides(KEYRATE_DEFAULTS, overrides, "keyrate")
    p["pt_dbm"] = tuple(float(v) for v in np.atleast_1d(p["pt_dbm"]))
    p["schemes"] = tuple([p["schemes"]] if isinstance(p["schemes"], str) else p["schemes"])
    p["eve_offsets_m"] = tuple(float(v) for v in np.atleast_1d(p["eve_offsets_m"]))
    for s in p["schemes"]:
        get_scheme(s)
    rounds, seed, bits = int(p["rounds"]), int(p["seed"]), int(p["bits"])
    if rounds < 1:
        raise ValueError(f"keyrate.rounds: must be at least 1, got {rounds}")
    t0 = time.perf_counter()
    data = KeyrateData(params=p)
    users = [(12.0, -0.6), (13.0, 0.6)]
    for de in p["eve_offsets_m"]:
        eves = [(r - de, psi) for r, psi in users]
        geo = "J5 (Eves 2 cm closer)" if abs(de - 0.02) < 1e-12 else f"Eves {de:g} m closer"
        for pt in p["pt_dbm"]:
            scen = Scenario.from_dbm(ULA(int(p["n_ant"]), 30e9), users=users, eves=eves, pt_dbm=pt)
            for s in p["schemes"]:
                ev = evaluate(scen, s, "isotropic")
                ps = _point_seed(seed, f"{s}/{de}", pt)
                pr = probe(scen, ev.result, rounds=rounds, seed=ps)
                for q in _QUANT:
                    res = keygen(scen, s, rounds=rounds, seed=ps, quantizer=q, bits=bits, evaluation=ev, probing=pr)
                    data.rows.append({
                        "geometry": geo, "quantizer": q if q == "one-bit" else f"{bits}-bit", "scheme": scheme_label(s),
                        "pt_dbm": pt,
                        "achieved": sum(u.key_bits for u in res.users) / rounds,
                        "asymptotic": sum(u.asymptotic_key_bits for u in res.users) / rounds,
                        "one_way_bound": sum(u.one_way_bound for u in res.users),
                        "skr": sum(u.analytic_skr for u in res.users),
                        "keys_match": all(u.keys_match for u in res.users),
                        "failed_blocks": sum(u.failed_blocks for u in res.users),
                    })
                if progress is not None:
                    progress(1)
    data.seconds = time.perf_counter() - t0
    from .claims import Claim

    j5 = [r for r in data.rows if r["geometry"].startswith("J5")]
    if j5:
        worst = max(r["achieved"] for r in j5)
        data.claims.append(Claim("With Eves 2 cm away (J5) no key survives although the SKR is positive",
                                 "one-way rate ~ 0 (issue)", f"largest achieved rate {worst:.4g} bits/probing; "
                                 f"SKR up to {max(r['skr'] for r in j5):.3g}", bool(worst == 0.0)))
    data.claims.append(Claim("BS and user always end with the same key", "keys match",
                             f"{sum(r['keys_match'] for r in data.rows)}/{len(data.rows)} runs",
                             all(r["keys_match"] for r in data.rows)))
    return data


def save_keyrate(data: KeyrateData, out_dir: str | os.PathLike, formats: Sequence[str] = ("png", "pdf")) -> list[Path]:
    """A panel per (geometry, quantiser); writes ``keyrate.<fmt>`` and ``keyrate.csv``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from .plotting import curve_style

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    geos = list(dict.fromkeys(r["geometry"] for r in data.rows))
    quants = list(dict.fromkeys(r["quantizer"] for r in data.rows))
    schemes = list(dict.fromkeys(r["scheme"] for r in data.rows))
    fig = Figure(figsize=(4.2 * len(quants), 3.3 * len(geos)))
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(geos), len(quants), squeeze=False, sharex=True)
    for i, g in enumerate(geos):
        for j, q in enumerate(quants):
            ax = axes[i][j]
            for sname in schemes:
                rows = [r for r in data.rows if r["geometry"] == g and r["quantizer"] == q and r["scheme"] == sname]
                x = [r["pt_dbm"] for r in rows]
                style = curve_style(sname, [])
                color = style.get("color")
                ax.plot(x, [r["achieved"] for r in rows], "-", marker=style.get("marker", "o"), color=color,
                        markerfacecolor="none", label=f"{sname}: achieved")
                ax.plot(x, [r["asymptotic"] for r in rows], "-.", color=color, lw=0.9)
                ax.plot(x, [r["one_way_bound"] for r in rows], "--", color=color, lw=0.9)
                ax.plot(x, [r["skr"] for r in rows], ":", color=color, lw=0.9)
            ax.set_yscale("symlog", linthresh=0.01)
            ax.set_title(f"{g}, {q}", fontsize=9)
            ax.grid(True, alpha=0.3)
            if i == len(geos) - 1:
                ax.set_xlabel(r"Transmit power $P_t$ (dBm)")
            if j == 0:
                ax.set_ylabel("Sum key rate (bits/probing)")
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color="k", ls=ls, label=lab) for ls, lab in
               (("-", "achieved (finite size)"), ("-.", "achieved (asymptotic length)"),
                ("--", "one-way bound"), (":", "SKR I(z_a; z_b | z_e)"))]
    handles += [Line2D([], [], color=curve_style(s, []).get("color"), marker=curve_style(s, []).get("marker", "o"),
                       markerfacecolor="none", ls="-", label=s) for s in schemes]
    fig.legend(handles=handles, loc="lower center", ncol=5, fontsize=7, frameon=False)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return write_figure(fig, data, out_dir, formats)
