r"""``nfkg figure keyrate``: how much of the information-theoretic rate a real protocol keeps.

For the J5 geometry (Eves 2 cm closer than their users) and for the same users with Eves
0.5 m closer, over :math:`P_t`, svd-pa, svd-opt and svd-mf run the whole protocol of
:func:`nfkg.protocol.keygen.keygen` twice on the same probings: nfkg's default (multilevel quantiser,
reverse or direct reconciliation per user, whichever bound is larger, Renyi finite-size term)
and one-bit direct reconciliation (as the papers would do it: J(45)'s sign bits of the BS's
:math:`z_a`). Each panel (one geometry and scheme) shows, summed over the users in bits per
probing: the papers' SKR :math:`I(z_a; z_b|z_e)`, both Gaussian one-way rates (from the BS,
:math:`I(a;b) - I(a;e)`, and from the user, :math:`I(a;b) - I(b;e)`), the achieved rate of the
default (solid, with its length under the AEP term as open markers) and of one-bit direct
(dashed). The table gives each point's achieved fraction of the SKR.

Contents
--------
KEYRATE_DEFAULTS, run_keyrate, KeyrateData, save_keyrate, keyrate_steps, keyrate_parts, merge_keyrate
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from .tables import DictRows, merge_overrides, write_figure

__all__ = ["KEYRATE_DEFAULTS", "run_keyrate", "KeyrateData", "save_keyrate", "keyrate_steps", "keyrate_parts",
           "merge_keyrate"]

KEYRATE_DEFAULTS: dict[str, Any] = {
    "pt_dbm": (10.0, 20.0, 30.0),
    "rounds": 20_000,
    "seed": 0,
    "schemes": ("svd-pa", "svd-opt", "svd-mf"),
    "eve_offsets_m": (0.02, 0.5),
    "n_ant": 256,
}
#: The two protocol configurations: (label, quantizer, direction).
CONFIGS = (("default", "multilevel", "auto"), ("one-bit direct", "one-bit", "bs"))


@dataclass
class KeyrateData(DictRows):
    """Rows ``(geometry, scheme, config, P_t, achieved, achieved_aep, asymptotic, bound, one_way_bs,
    one_way_user, skr, fraction_of_skr, directions, keys_match, failed_blocks)``."""

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
        d = [r for r in self.rows if r["config"] == "default" and r["skr"] > 0]
        o = [r for r in self.rows if r["config"] == "one-bit direct" and r["skr"] > 0]
        j5 = [r for r in d if r["geometry"].startswith("J5")]
        keep = lambda rows: (f"{min(r['fraction_of_skr'] for r in rows):.0%} to "  # noqa: E731
                             f"{max(r['fraction_of_skr'] for r in rows):.0%}") if rows else "-"
        return ("What a real protocol keeps of the papers' SKR: sum over users of the achieved key rate (bits per "
                f"probing, {self.params['rounds']:,} probings per point, seed {self.params['seed']}, finite-size "
                "terms included). nfkg's default (a fine uniform quantiser reconciled level by level, from the side "
                f"whose one-way bound is larger) keeps {keep(d)} of the SKR ({keep(j5)} on J5, where Eve is 2 cm "
                "from each user and reconciliation from the BS gives nothing: the key comes from the user's "
                f"measurement); one-bit direct reconciliation, as the papers would quantise, keeps {keep(o)}. "
                f"BS and user keys differed in {mism} of {len(self.rows)} runs.")


def keyrate_steps(overrides: Mapping[str, Any] | None = None) -> int:
    p = {**KEYRATE_DEFAULTS, **dict(overrides or {})}
    return len(p["pt_dbm"]) * len(p["schemes"]) * len(p["eve_offsets_m"])


def run_keyrate(overrides: Mapping[str, Any] | None = None,
                progress: Callable[[int], None] | None = None) -> KeyrateData:
    """Run the protocol over the grid (see the module docstring)."""
    from ..model.channel import ULA
    from .experiments import _point_seed, scheme_label
    from ..protocol.keygen import keygen
    from ..schemes.precoding import evaluate, get_scheme
    from ..protocol.probing import probe
    from ..model.scenario import Scenario

    p = merge_overrides(KEYRATE_DEFAULTS, overrides, "keyrate")
    p["pt_dbm"] = tuple(float(v) for v in np.atleast_1d(p["pt_dbm"]))
    p["schemes"] = tuple([p["schemes"]] if isinstance(p["schemes"], str) else p["schemes"])
    p["eve_offsets_m"] = tuple(float(v) for v in np.atleast_1d(p["eve_offsets_m"]))
    for s in p["schemes"]:
        get_scheme(s)
    rounds, seed = int(p["rounds"]), int(p["seed"])
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
                ev = evaluate(scen, s)
                ps = _point_seed(seed, f"{s}/{de}", pt)
                pr = probe(scen, ev.result, rounds=rounds, seed=ps)
                for label, q, d in CONFIGS:
                    res = keygen(scen, s, rounds=rounds, seed=ps, quantizer=q, direction=d, evaluation=ev,
                                 probing=pr)
                    us = res.users
                    skr = sum(u.analytic_skr for u in us)
                    ach = sum(u.key_bits for u in us) / rounds
                    data.rows.append({
                        "geometry": geo, "scheme": scheme_label(s), "config": label, "pt_dbm": pt,
                        "achieved": ach,
                        "achieved_aep": sum(u.aep_key_bits for u in us) / rounds,
                        "asymptotic": sum(u.asymptotic_key_bits for u in us) / rounds,
                        "bound": sum(u.one_way_bound for u in us),
                        "one_way_bs": sum(u.gaussian_one_way_bs for u in us),
                        "one_way_user": sum(u.gaussian_one_way_user for u in us),
                        "skr": skr,
                        "fraction_of_skr": ach / skr if skr > 0 else 0.0,
                        "directions": "/".join(u.direction for u in us),
                        "keys_match": all(u.keys_match for u in us),
                        "failed_blocks": sum(u.failed_blocks for u in us),
                    })
                if progress is not None:
                    progress(1)
    data.seconds = time.perf_counter() - t0
    _add_claims(data)
    return data


def _add_claims(data: KeyrateData) -> None:
    """The figure's claims, from its rows (a whole run or merged parts)."""
    from .claims import Claim

    j5 = [r for r in data.rows if r["geometry"].startswith("J5") and r["config"] == "default"]
    if j5:
        data.claims.append(Claim(
            "With Eves 2 cm away (J5) a key survives: reverse reconciliation keeps part of the SKR",
            "achieved > 0 at every J5 point (nfkg default)",
            f"smallest achieved sum rate {min(r['achieved'] for r in j5):.4g} bits/probing",
            all(r["achieved"] > 0 for r in j5)))
    data.claims.append(Claim("BS and user always end with the same key", "keys match",
                             f"{sum(r['keys_match'] for r in data.rows)}/{len(data.rows)} runs",
                             all(r["keys_match"] for r in data.rows)))


def keyrate_parts(overrides: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """The figure cut into independent parts, one per geometry and scheme (the overrides of each),
    for ``nfkg reproduce``'s worker processes; :func:`merge_keyrate` joins their results into
    exactly the rows of one :func:`run_keyrate` (every point has its own seed)."""
    p = {**KEYRATE_DEFAULTS, **dict(overrides or {})}
    schemes = [p["schemes"]] if isinstance(p["schemes"], str) else list(p["schemes"])
    return [{**dict(overrides or {}), "eve_offsets_m": [float(de)], "schemes": [s]}
            for de in np.atleast_1d(p["eve_offsets_m"]) for s in schemes]


def merge_keyrate(parts: Sequence[KeyrateData], overrides: Mapping[str, Any] | None = None) -> KeyrateData:
    """One :class:`KeyrateData` from the results of :func:`keyrate_parts`, in the parts' order: rows in
    :func:`run_keyrate`'s order (geometry, then P_t, then scheme), seconds summed, claims anew."""
    full = merge_overrides(KEYRATE_DEFAULTS, overrides, "keyrate")
    data = KeyrateData(params={**parts[0].params, "schemes": tuple([full["schemes"]] if isinstance(
        full["schemes"], str) else full["schemes"]), "eve_offsets_m": tuple(
        float(v) for v in np.atleast_1d(full["eve_offsets_m"]))})
    pts = list(data.params["pt_dbm"])
    n_s = len(data.params["schemes"])
    keyed = [((i // n_s, pts.index(r["pt_dbm"]), i % n_s), j, r)
             for i, part in enumerate(parts) for j, r in enumerate(part.rows)]
    data.rows = [r for _, _, r in sorted(keyed, key=lambda t: (t[0], t[1]))]
    data.seconds = float(sum(part.seconds for part in parts))
    _add_claims(data)
    return data


def save_keyrate(data: KeyrateData, out_dir: str | os.PathLike, formats: Sequence[str] = ("png", "pdf")) -> list[Path]:
    """A panel per (geometry, scheme); writes ``keyrate.<fmt>`` and ``keyrate.csv``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    geos = list(dict.fromkeys(r["geometry"] for r in data.rows))
    schemes = list(dict.fromkeys(r["scheme"] for r in data.rows))
    fig = Figure(figsize=(3.6 * len(schemes), 3.2 * len(geos) + 0.6))
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(geos), len(schemes), squeeze=False, sharex=True)
    styles = {"skr": ("k", ":", "SKR $I(z_a; z_b|z_e)$"), "one_way_user": ("tab:green", "-.", "Gaussian one-way, from user"),
              "one_way_bs": ("tab:purple", (0, (1, 1)), "Gaussian one-way, from BS")}
    for i, g in enumerate(geos):
        for j, sname in enumerate(schemes):
            ax = axes[i][j]
            rows = [r for r in data.rows if r["geometry"] == g and r["scheme"] == sname]
            d = [r for r in rows if r["config"] == "default"]
            o = [r for r in rows if r["config"] == "one-bit direct"]
            x = [r["pt_dbm"] for r in d]
            for key, (color, ls, _) in styles.items():
                ax.plot(x, [r[key] for r in d], color=color, ls=ls, lw=1.2)
            ax.plot(x, [r["achieved"] for r in d], "-o", color="tab:blue", lw=1.6, ms=5)
            ax.plot(x, [r["achieved_aep"] for r in d], "o", color="tab:blue", mfc="none", ms=7)
            ax.plot([r["pt_dbm"] for r in o], [r["achieved"] for r in o], "--s", color="tab:red", lw=1.2, ms=4)
            ax.set_yscale("symlog", linthresh=0.05)
            ax.set_ylim(bottom=0)
            ax.set_title(f"{sname}: {g}", fontsize=9)
            ax.grid(True, alpha=0.3)
            if i == len(geos) - 1:
                ax.set_xlabel(r"Transmit power $P_t$ (dBm)")
            if j == 0:
                ax.set_ylabel("Sum key rate (bits/probing)")
    handles = [Line2D([], [], color=c, ls=ls, label=lab) for c, ls, lab in styles.values()]
    handles += [Line2D([], [], color="tab:blue", marker="o", ls="-", label="achieved: multilevel, auto direction (Renyi)"),
                Line2D([], [], color="tab:blue", marker="o", mfc="none", ls="none", label="same, AEP finite-size term"),
                Line2D([], [], color="tab:red", marker="s", ls="--", label="achieved: one-bit, from the BS")]
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=7.5, frameon=False)
    fig.tight_layout(rect=(0, 0.45 / (3.2 * len(geos) + 0.6), 1, 1))
    return write_figure(fig, data, out_dir, formats)
