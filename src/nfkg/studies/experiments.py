r"""The papers' SKR figures as data: batched runs of the presets.

Every figure of the papers that plots the SKR (C Figs. 3-5, J Figs. 4-8) is a preset
(:mod:`nfkg.studies.presets`): a flat table of parameters (geometry, powers, array,
schemes) plus the x-axis; :func:`~nfkg.studies.parameters.resolve_params` applies and
checks overrides. A run builds **one batched** :class:`~nfkg.model.scenario.Scenario` whose batch axis is the
x-axis and scores every scheme on it with :func:`~nfkg.schemes.precoding.evaluate`, so
all x-points are computed by array operations. Only J Fig. 7 (N changes the array
shapes) and J Fig. 8 (K changes them) loop, over N and over K.

Contents
--------
PRESETS
    ``{fig_id: FigurePreset}``: the parameters of each figure (read-only).
SCHEME_LABELS
    Registry scheme name -> curve label (``'svd-pa'`` -> ``'SVD w/ PA'``).
C_SCHEMES, J_SCHEMES
    The scheme columns of the conference (C) and journal (J) figures.
FigurePreset, FigureData
    Preset and result (with :meth:`FigureData.to_csv`).
figure_ids, get_preset, resolve_params, run_figure
    Public entry points. The claim checks live in :mod:`nfkg.studies.claims`.
monte_carlo_steps
    Probing runs of a Monte Carlo figure (j9), for progress bars.

The presets, labels and parameter checks are defined in :mod:`nfkg.studies.presets` and
:mod:`nfkg.studies.parameters` and re-exported here. J Fig. 9 probes 10,000 rounds per point
and scheme with :func:`nfkg.protocol.probing.probe`'s exact simulation in reduced coordinates.

Examples
--------
>>> data = run_figure("c3", {"pt_dbm": [10, 30]})
>>> data.x_name, list(data.curves)
('pt_dbm', ['MRC', 'SVD w/o PA', 'SVD w/ PA'])
>>> bool(data.curves["SVD w/ PA"][1] > data.curves["MRC"][1])
True
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from ..model.channel import ULA
from ..model.scenario import Scenario
from ..schemes.precoding import evaluate
from .parameters import _node_grid, resolve_params
from .presets import (C_SCHEMES, J_SCHEMES, PRESETS, SCHEME_LABELS, FigurePreset, figure_ids,  # noqa: F401
                      get_preset, scheme_label)

__all__ = [
    "SCHEME_LABELS",
    "C_SCHEMES",
    "J_SCHEMES",
    "FigurePreset",
    "FigureData",
    "PRESETS",
    "figure_ids",
    "get_preset",
    "resolve_params",
    "run_figure",
]


# --------------------------------------------------------------------------- results
@dataclass(frozen=True)
class FigureData:
    """The curves of one figure, ready to plot or save.

    Attributes
    ----------
    id, title, paper_ref : str
    x : ndarray, shape ``(n,)``
        The x-axis values (in the unit of ``x_name``).
    x_name : str
        CSV column name of the x-axis, with its unit.
    x_label, y_label : str
        Axis labels with units.
    curves : dict of str to ndarray
        ``{label: y}``, each ``y`` of shape ``(n,)`` [bits/probing; j9: KDR].
    params : dict
        The resolved parameters the curves were computed with.
    y_scale : {'linear', 'log'}
    extra : dict of str to ndarray
        Columns written to the CSV but not drawn (j9: the BS-Eve KDR).
    """

    id: str
    title: str
    paper_ref: str
    x: np.ndarray
    x_name: str
    x_label: str
    y_label: str
    curves: dict[str, np.ndarray]
    params: dict[str, Any] = field(default_factory=dict)
    y_scale: str = "linear"
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    def to_csv(self, path: str | os.PathLike) -> None:
        """Write the x-axis then one column per curve, with a header row.

        Values are written as the shortest decimal that reads back to the same float.
        Labels that contain commas are quoted (RFC 4180, :mod:`csv`).
        """
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow([self.x_name, *self.curves, *self.extra])
            cols = [np.asarray(self.x, dtype=float),
                    *(np.asarray(c, dtype=float) for c in (*self.curves.values(), *self.extra.values()))]
            for row in zip(*cols):
                w.writerow([repr(float(v)) for v in row])


def _scenario(params: Mapping[str, Any], x_key: str, x: np.ndarray, n_ant: int,
              n_users: int | None = None) -> Scenario:
    """One batched scenario whose batch axis is the x-axis (shape ``(len(x),)``)."""
    users, eves = _node_grid(params, x_key, x, n_users)
    pt = np.asarray(x if x_key == "pt_dbm" else params["pt_dbm"], dtype=float)
    n_batch = x.size if x_key != "n_ant" else 1
    if users.shape[0] != n_batch:
        users, eves = (np.broadcast_to(a, (n_batch, *a.shape[1:])) for a in (users, eves))
    ula = ULA(int(n_ant), float(params["carrier_ghz"]) * 1e9, float(params["spacing_wavelengths"]),
              float(params["pathloss_exponent"]))
    return Scenario.from_dbm(ula, users=users, eves=eves, pt_dbm=np.broadcast_to(pt, (n_batch,)),
                             noise_dbm=params["noise_dbm"], pilot_length=int(params["pilot_length"]))


def _sum_skr(scenario: Scenario, schemes, shaping, scoring: str = "general") -> dict[str, np.ndarray]:
    return {scheme_label(s): np.asarray(evaluate(scenario, s, shaping, scoring=scoring).sum_skr, dtype=float)
            for s in schemes}


def _point_seed(seed: int, scheme: str, x: float) -> int:
    """Seed of one Monte Carlo point: from the figure's seed, the scheme's name and the x value,
    so that a point's samples do not depend on the grid or on the other schemes."""
    import zlib

    ss = np.random.SeedSequence([int(seed), zlib.crc32(scheme.encode()), int(round(float(x) * 1000)) + 10**9])
    return int(ss.generate_state(1, np.uint64)[0])


def _kdr_curves(params: Mapping[str, Any], x_key: str, x: np.ndarray, progress=None):
    """J Fig. 9: per scheme the sum over users of the one-bit BS-user KDR (and BS-Eve's)."""
    from ..protocol.probing import probe
    from ..protocol.quantization import kdr, one_bit

    schemes, shaping = params["schemes"], params["shaping"]
    rounds, seed = int(params["rounds"]), int(params["seed"])
    curves = {scheme_label(s): np.zeros(x.size) for s in schemes}
    eve = {scheme_label(s): np.zeros(x.size) for s in schemes}
    for i, xv in enumerate(x):
        scen = _scenario(params, x_key, np.asarray([xv]), params["n_ant"])
        one = Scenario(scen.ula, scen.r_b[0], scen.psi_b[0], scen.r_e[0], scen.psi_e[0], scen.p_max[0],
                       scen.p_b[0], scen.sigma2_a, scen.sigma2_b, scen.sigma2_e, scen.pilot_length, checked=True)
        for s in schemes:
            p = probe(one, s, rounds=rounds, seed=_point_seed(seed, s, xv), shaping=shaping)
            ka, kb, ke = one_bit(p.z_a), one_bit(p.z_b), one_bit(p.z_e)
            curves[scheme_label(s)][i] = sum(kdr(ka[:, k], kb[:, k]) for k in range(one.n_users))
            eve[scheme_label(s)][i] = sum(kdr(ka[:, k], ke[:, k]) for k in range(one.n_users))
            if progress is not None:
                progress(1)
    return curves, {f"{label} (BS-Eve)": y for label, y in eve.items()}


def monte_carlo_steps(fig_id: str, overrides: Mapping[str, Any] | None = None) -> int:
    """Number of Monte Carlo probing runs of a figure (0 for the analytic ones), for progress bars."""
    preset = get_preset(fig_id)
    if preset.scored:
        return 0
    params = resolve_params(fig_id, overrides)
    return int(np.asarray(params[preset.x_key]).size * len(params["schemes"]))


def run_figure(fig_id: str, overrides: Mapping[str, Any] | None = None, scoring: str = "general",
               progress=None) -> FigureData:
    """Compute the curves of one figure.

    All x-points are evaluated at once on one batched :class:`~nfkg.model.scenario.Scenario`;
    J Fig. 7 loops over N (the array size changes) and J Fig. 8 over K.

    Parameters
    ----------
    fig_id : str
        One of :func:`figure_ids`.
    overrides : mapping, optional
        Entries replacing the preset's (e.g. ``{'n_ant': 512, 'pt_dbm': 25}``); the
        x-axis entry is replaced exactly (a scalar gives a one-point curve).
    scoring : {'general', 'per-user'}
        How every scheme is scored: the general engine (default; counts the
        leakage of the other users' precoders through the shared pilot) or J(19)'s
        per-user formula (drops it), see :func:`nfkg.schemes.precoding.evaluate`. The Monte
        Carlo figure (j9) does not depend on it.
    progress : callable, optional
        Called with 1 after each Monte Carlo probing run (j9), e.g. a progress bar's update.

    Returns
    -------
    FigureData

    Raises
    ------
    ValueError
        Unknown figure, unknown override key (named) or invalid value.
    """
    preset = get_preset(fig_id)
    params = resolve_params(fig_id, overrides)
    x_key = preset.x_key
    x = np.asarray(params[x_key])
    schemes, shaping = params["schemes"], params["shaping"]

    extra = {}
    if not preset.scored:
        curves, extra = _kdr_curves(params, x_key, x, progress)
    elif fig_id == "j8":
        curves = {}
        for k in params["n_users"]:
            s = _scenario(params, x_key, x, params["n_ant"], n_users=k)
            curves.update({f"{label}, K={k}": y for label, y in _sum_skr(s, schemes, shaping, scoring).items()})
    elif x_key == "n_ant":
        per_n = [_sum_skr(_scenario(params, x_key, x, n), schemes, shaping, scoring) for n in x]
        curves = {label: np.concatenate([c[label] for c in per_n]) for label in per_n[0]}
    else:
        curves = _sum_skr(_scenario(params, x_key, x, params["n_ant"]), schemes, shaping, scoring)

    for y in (*curves.values(), *extra.values()):
        y.setflags(write=False)
    params = {**params, "scoring": scoring if preset.scored else "n/a (Monte Carlo)"}
    return FigureData(fig_id, preset.title, preset.paper_ref, x.astype(float) if x_key != "n_ant" else x,
                      preset.x_name, preset.x_label, preset.y_label, curves, params, preset.y_scale, extra)
