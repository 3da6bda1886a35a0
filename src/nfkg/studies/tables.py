r"""The report's tables: J Table I (``t1``) and KGSVD-Net on held-out scenarios (``dlpa``).

A table is computed into a :class:`TableData` (header, rows, parameters, a sentence of
what it shows), saved as CSV and rendered as an image (:func:`save_table`), and shown in
``nfkg reproduce``'s report. ``nfkg figure t1`` and ``nfkg figure dlpa`` compute one.

``t1`` (J Table I)
    Monte Carlo probing (:mod:`nfkg.protocol.probing`) of the J5 geometry at N = 256, P_t = 15 dBm,
    10,000 rounds; each user's BS-side bits by J(45) (20,000 bits), tested with the nine
    SP 800-22 tests of the paper (:mod:`nfkg.randomness`; serial m = 11 and approximate
    entropy m = 8, the largest SP 800-22 allows for 20,000 bits, :func:`nfkg.randomness.length_defaults`)
    for SVD w/o PA, w/ PA and w/ DLPA. The paper's claim (every P-value > 0.01) is
    compared, not forced; the paper's own values are listed beside ours.
``dlpa``
    :func:`nfkg.schemes.training.assess` for K = 2 and 4: svd-dlpa against svd-pa, the full-power
    optimum and svd-opt on held-out scenarios.

Contents
--------
TableData, TableSpec, DictRows, merge_overrides, write_figure, register_table, table_ids, table_steps, run_table, save_table, T1_TESTS, T1_PAPER
"""

from __future__ import annotations

import csv
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

__all__ = ["TableData", "TableSpec", "DictRows", "merge_overrides", "write_figure", "register_table", "table_ids", "table_steps", "run_table", "save_table",
           "table_parts", "merge_table", "T1_TESTS", "T1_PAPER", "ALPHA"]

#: Significance level of the randomness tests (SP 800-22, J Table I).
ALPHA = 0.01

#: J Table I's rows: (label, SP 800-22 test, index of the P-value).
T1_TESTS: tuple[tuple[str, str, int], ...] = (
    ("Frequency", "frequency", 0),
    ("Block frequency", "block_frequency", 0),
    ("Runs", "runs", 0),
    ("Longest run of 1s", "longest_run_of_ones", 0),
    ("DFT", "discrete_fourier_transform", 0),
    ("Serial (p1)", "serial", 0),
    ("Serial (p2)", "serial", 1),
    ("Approx. entropy", "approximate_entropy", 0),
    ("Cumulative sums (Fwd)", "cumulative_sums", 0),
    ("Cumulative sums (Rev)", "cumulative_sums", 1),
)
#: The paper's Table I, per scheme, in the order of :data:`T1_TESTS`.
T1_PAPER: Mapping[str, tuple[float, ...]] = {
    "svd": (0.915, 0.53, 0.22, 0.92, 0.34, 0.41, 0.18, 0.90, 0.79, 0.69),
    "svd-pa": (0.93, 0.52, 0.23, 0.93, 0.60, 0.34, 0.11, 0.89, 0.80, 0.73),
    "svd-dlpa": (0.07, 0.66, 0.81, 0.57, 0.34, 0.73, 0.93, 0.29, 0.08, 0.06),
}
_T1_DEFAULTS = {"n_ant": 256, "pt_dbm": 15.0, "rounds": 10_000, "seed": 0,
                "schemes": ("svd", "svd-pa", "svd-dlpa")}


@dataclass(frozen=True)
class TableData:
    """A computed table.

    Attributes
    ----------
    id, title, paper_ref : str
    header : list of str
    rows : list of list
        Cells (numbers or text), one list per row.
    params : dict
        What it was computed with.
    text : str
        What it shows and how the claims came out (Markdown emphasis allowed).
    seconds : float
        Compute time.
    claims : list
        :class:`nfkg.studies.claims.Claim` objects (possibly empty).
    """

    id: str
    title: str
    paper_ref: str
    header: list[str]
    rows: list[list[Any]]
    params: dict[str, Any]
    text: str
    seconds: float = 0.0
    claims: list = field(default_factory=list)

    def formatted_rows(self) -> list[list[str]]:
        """Cells as text: P-values and SKRs with 4-6 significant digits."""
        def cell(v):
            if isinstance(v, (float, np.floating)):
                return f"{float(v):.6f}" if self.id == "t1" else f"{float(v):.4g}"
            return str(v)
        return [[cell(v) for v in row] for row in self.rows]

    def to_csv(self, path: str | os.PathLike) -> None:
        write_csv(path, self.header, self.rows)


def write_csv(path: str | os.PathLike, header: Sequence[str], rows: Sequence[Any]) -> None:
    """Rows (lists, or dicts in header order) as CSV; floats with ``repr`` (every digit)."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for row in rows:
            cells = row.values() if isinstance(row, dict) else row
            w.writerow([repr(float(v)) if isinstance(v, (float, np.floating)) else v for v in cells])


# --------------------------------------------------------------------------- t1
def _t1(overrides: Mapping[str, Any] | None = None, progress: Callable[[int], None] | None = None) -> TableData:
    from .. import randomness
    from .claims import Claim
    from .experiments import SCHEME_LABELS, resolve_params, _scenario
    from ..protocol.probing import probe
    from ..protocol.quantization import kdr, one_bit
    from ..model.scenario import Scenario

    over = dict(overrides or {})
    t1_keys = {k: over.pop(k) for k in list(over) if k in ("schemes",)}
    base = resolve_params("j9", {"pt_dbm": [float(over.pop("pt_dbm", _T1_DEFAULTS["pt_dbm"]))],
                                 "n_ant": over.pop("n_ant", _T1_DEFAULTS["n_ant"]),
                                 "rounds": over.pop("rounds", _T1_DEFAULTS["rounds"]),
                                 "seed": over.pop("seed", _T1_DEFAULTS["seed"]),
                                 "schemes": list(t1_keys.get("schemes", _T1_DEFAULTS["schemes"])), **over})
    t0 = time.perf_counter()
    scen = _scenario(base, "pt_dbm", np.asarray(base["pt_dbm"]), base["n_ant"])
    one = Scenario(scen.ula, scen.r_b[0], scen.psi_b[0], scen.r_e[0], scen.psi_e[0], scen.p_max[0], scen.p_b[0],
                   scen.sigma2_a, scen.sigma2_b, scen.sigma2_e, scen.pilot_length, checked=True)
    header = ["test"]
    columns: list[list[float]] = []
    kdrs = []
    all_p = []
    for s in base["schemes"]:
        from .experiments import _point_seed

        p = probe(one, s, rounds=int(base["rounds"]), seed=_point_seed(int(base["seed"]), s, float(base["pt_dbm"][0])),
                  shaping=base["shaping"])
        ka, kb = one_bit(p.z_a), one_bit(p.z_b)
        for k in range(one.n_users):
            suite = randomness.run_all(ka[:, k], alpha=ALPHA)
            col = []
            for _, name, i in T1_TESTS:
                r = suite[name]
                col.append(r.p_values[i] if r.applicable else float("nan"))
            columns.append(col)
            all_p += [v for v in col]
            header.append(f"{SCHEME_LABELS.get(s, s)}, user {k + 1}")
            kdrs.append(kdr(ka[:, k], kb[:, k]))
        if progress is not None:
            progress(1)
    paper_cols = [s for s in base["schemes"] if s in T1_PAPER]
    header += [f"paper: {SCHEME_LABELS.get(s, s)}" for s in paper_cols]
    rows = []
    for i, (label, _, _) in enumerate(T1_TESTS):
        rows.append([label, *(c[i] for c in columns), *(f"{T1_PAPER[s][i]:g}" for s in paper_cols)])
    rows.append(["KDR (BS-user)", *kdrs, *("" for _ in paper_cols)])
    finite = [v for v in all_p if np.isfinite(v)]
    n_fail = sum(v < ALPHA for v in finite)
    worst = min(finite) if finite else float("nan")
    bits = 2 * int(base["rounds"])
    # for truly random bits each P-value is uniform: ALPHA * n of them are expected below ALPHA
    p_all = (1 - ALPHA) ** len(all_p)
    claim = Claim("Every P-value of Table I passes (> 0.01)", "all p > 0.01",
                  f"{len(finite) - n_fail}/{len(finite)} P-values >= {ALPHA} (smallest {worst:.4f}) over "
                  f"{len(columns)} bit sequences of {bits} bits; for random bits {ALPHA * len(all_p):.1f} "
                  f"failures are expected and all pass with probability {p_all:.0%}",
                  bool(n_fail == 0 and len(finite) == len(all_p)))
    text = (f"J Table I: SP 800-22 P-values of each user's BS-side key bits (one-bit quantisation J(45) of "
            f"{int(base['rounds']):,} Monte Carlo probings, {bits:,} bits), J5 geometry, N = {int(base['n_ant'])}, "
            f"P_t = {float(base['pt_dbm'][0]):g} dBm; serial m = 11 and approximate entropy m = 8 (the largest "
            f"SP 800-22 allows for {bits:,} bits). A P-value passes at >= {ALPHA}. The paper's values (one column "
            f"per scheme, user unstated) are listed for comparison; P-values of random sequences are uniform on "
            f"[0, 1], so they agree only in passing, not in value. Claim: {claim.measured} "
            f"({claim.status}).")
    params = {"geometry": "J5", "n_ant": int(base["n_ant"]), "pt_dbm": float(base["pt_dbm"][0]),
              "rounds": int(base["rounds"]), "seed": int(base["seed"]), "schemes": tuple(base["schemes"]),
              "alpha": ALPHA, "quantiser": "one-bit J(45), BS side"}
    return TableData("t1", "Randomness test results (NIST SP 800-22)", "J Table I", header, rows, params, text,
                     time.perf_counter() - t0, [claim])


# --------------------------------------------------------------------------- dlpa
#: Scenarios per (K, set) in the report's held-out table of KGSVD-Net.
DLPA_REPORT_SCENARIOS = 64

_DLPA_HEADER = ["K", "held-out set", "scenarios", "svd-pa", "svd-dlpa", "full-power optimum", "svd-opt",
                "svd-dlpa / svd-opt", "gap closed", "beats svd-pa", "ms svd-dlpa", "ms svd-pa", "ms svd-opt"]


def _dlpa(overrides: Mapping[str, Any] | None = None, progress: Callable[[int], None] | None = None) -> TableData:
    from ..schemes.training import assess

    over = dict(overrides or {})
    n = int(over.pop("scenarios", DLPA_REPORT_SCENARIOS))
    users = tuple(int(k) for k in np.atleast_1d(over.pop("users", (2, 4))))
    seed = int(over.pop("seed", 0))
    if over:
        raise ValueError(f"overrides: unknown key(s) {', '.join(map(repr, over))} for table dlpa; "
                         "known keys: scenarios, seed, users")
    t0 = time.perf_counter()
    results = []
    for k in users:
        for part in ("close", "test"):
            results.append(assess(k, n, seed, part))
            if progress is not None:
                progress(1)
    rows = [[r["users"], "close Eves (1-5 cm)" if r["set"] == "close" else "training mixture", r["scenarios"],
             r["svd_pa"], r["svd_dlpa"], r["full_power_opt"], r["svd_opt"], r["dlpa_over_opt"],
             f"{r['gap_closed']:.1%}", f"{r['beats_pa']:.0%}", r["ms_dlpa"], r["ms_pa"], r["ms_opt"]]
            for r in results]
    close = [r for r in results if r["set"] == "close"]
    verdict = "; ".join(
        f"K = {r['users']}: gap closed {r['gap_closed']:.1%} ({'met' if r['gap_closed'] >= 0.5 else 'NOT met'}), "
        f"beats svd-pa in {r['beats_pa']:.0%} ({'met' if r['beats_pa'] > 0.5 else 'NOT met'})" for r in close)
    text = ("Mean sum SKR (bits/probing, true noise, isotropic shaping) of the shipped KGSVD-Net models on "
            "held-out scenarios the networks never saw, against svd-pa (the paper's AO), the full-power "
            "optimum (the best split with the total at P_max, the constraint of J(43)-(44)) and svd-opt "
            "(the best split with the total at most P_max). *Gap closed* = (svd-dlpa - svd-pa) / "
            "(full-power optimum - svd-pa) of the means; *beats svd-pa*: share of scenarios where "
            "svd-dlpa is higher by more than 1e-9 bits; times are per scenario, batched over the set "
            "(svd-dlpa includes the forward pass, not the one-off torch import). Targets on close Eves: "
            f"at least half of the gap closed and svd-pa beaten on most scenarios: {verdict}. The paper's "
            "J Fig. 5 gain of DLPA over PA (+0.59 bits) is compared in j5's claims.")
    params = {"scenarios": n, "users": users, "seed": seed, "sets": ("close", "test"), "shaping": "isotropic"}
    return TableData("dlpa", "SVD w/ DLPA (KGSVD-Net) on held-out scenarios", "J V (beyond the paper)",
                     _DLPA_HEADER, rows, params, text, time.perf_counter() - t0)


def merge_overrides(defaults: Mapping[str, Any], overrides: Mapping[str, Any] | None, table_id: str
                    ) -> dict[str, Any]:
    """``{**defaults, **overrides}``; ``ValueError`` naming any key that ``defaults`` does not have."""
    over = dict(overrides or {})
    unknown = set(over) - set(defaults)
    if unknown:
        raise ValueError(f"overrides: unknown key(s) {', '.join(sorted(map(repr, unknown)))} for {table_id}; "
                         f"known keys: {', '.join(defaults)}")
    return {**defaults, **over}


class DictRows:
    """Mixin of a computed table whose ``rows`` are dicts, one per row (keys = header)."""

    rows: list[dict[str, Any]]

    @property
    def header(self) -> list[str]:
        return list(self.rows[0]) if self.rows else []

    def formatted_rows(self) -> list[list[str]]:
        """Cells as text, floats with 4 significant digits."""
        return [[f"{v:.4g}" if isinstance(v, float) else str(v) for v in r.values()] for r in self.rows]


def write_figure(fig, data, out_dir: str | os.PathLike, formats: Sequence[str] = ("png", "pdf")) -> list[Path]:
    """Save a matplotlib Figure as ``<id>.<fmt>`` (tight, 200 dpi) and ``data``'s rows as ``<id>.csv``.

    ``data`` has ``id``, ``header`` and ``rows`` (dicts or lists); floats are written with
    ``repr`` (every digit). Returns the paths, images first.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        pth = out / f"{data.id}.{fmt}"
        fig.savefig(pth, dpi=200, bbox_inches="tight")
        paths.append(pth)
    csv_path = out / f"{data.id}.csv"
    write_csv(csv_path, data.header, data.rows)
    return [*paths, csv_path]


@dataclass(frozen=True)
class TableSpec:
    """A registered table or beyond-the-papers figure.

    ``run(overrides, progress) -> data`` computes it; ``steps`` is its number of progress
    steps (an int, or ``steps(overrides) -> int``); ``save(data, out_dir, formats) -> paths``
    writes it (default: :func:`save_table`'s CSV plus table image). A long table may give
    ``parts(overrides) -> [overrides, ...]`` (independent pieces, each run by ``run``) and
    ``merge(datas, overrides) -> data`` (the same data as one run): ``nfkg reproduce`` then
    spreads the pieces over its workers. Each may be given as ``"module:function"`` inside
    :mod:`nfkg`, imported on first use, so that registering costs no import.
    """

    id: str
    run: Callable[..., Any] | str
    steps: int | Callable[..., int] | str = 0
    save: Callable[..., list[Path]] | str | None = None
    parts: Callable[..., list] | str | None = None
    merge: Callable[..., Any] | str | None = None


def _resolve(obj):
    if isinstance(obj, str):
        import importlib

        module, func = obj.split(":")
        return getattr(importlib.import_module(f"nfkg.{module}"), func)
    return obj


_TABLES: dict[str, TableSpec] = {}


def register_table(table_id: str, run, steps=0, save=None, parts=None, merge=None) -> None:
    """Register a table (or a figure that is not a paper's x-y preset) under ``table_id``.

    It is then accepted by ``nfkg figure ID``, ``nfkg reproduce --only ID`` and is part of
    the default ``nfkg reproduce``, in registration order. See :class:`TableSpec`.
    """
    _TABLES[table_id] = TableSpec(table_id, run, steps, save, parts, merge)


def table_parts(table_id: str, overrides: Mapping[str, Any] | None = None) -> list | None:
    """The independent pieces' overrides of a table that has them (``None`` otherwise)."""
    spec = _spec(table_id)
    return None if spec.parts is None else list(_resolve(spec.parts)(overrides))


def merge_table(table_id: str, datas: Sequence[Any], overrides: Mapping[str, Any] | None = None):
    """One table's data from its pieces' (see :func:`table_parts`)."""
    return _resolve(_spec(table_id).merge)(datas, overrides)


register_table("t1", _t1, 3)
register_table("dlpa", _dlpa, 4)
register_table("keyrate", "studies.keyrate:run_keyrate", "studies.keyrate:keyrate_steps", "studies.keyrate:save_keyrate",
               "studies.keyrate:keyrate_parts", "studies.keyrate:merge_keyrate")
register_table("csi", "studies.robustness_figures:run_csi", "studies.robustness_figures:csi_steps",
               "studies.robustness_figures:save_robustness")
register_table("nlos", "studies.robustness_figures:run_nlos", "studies.robustness_figures:nlos_steps",
               "studies.robustness_figures:save_robustness")
register_table("beyond-j5", "studies.beyond:run_beyond_j5", "studies.beyond:beyond_steps", "studies.beyond:save_beyond")
register_table("fairness", "studies.beyond:run_fairness", "studies.beyond:_fairness_steps", "studies.beyond:save_beyond")
register_table("rt-street", "studies.rt_street:run_rt_street", "studies.rt_street:rt_street_steps", "studies.rt_street:save_rt_street")


def table_ids() -> list[str]:
    """Ids of the registered tables, in order (``keyrate`` and the later ones are drawn as figures)."""
    return list(_TABLES)


def _spec(table_id: str) -> TableSpec:
    if table_id not in _TABLES:
        raise ValueError(f"table_id: unknown table {table_id!r}; choose one of {', '.join(_TABLES)}")
    return _TABLES[table_id]


def table_steps(table_id: str, overrides: Mapping[str, Any] | None = None) -> int:
    """Progress steps of a table (for progress bars)."""
    steps = _resolve(_spec(table_id).steps)
    return int(steps(overrides) if callable(steps) else steps)


def run_table(table_id: str, overrides: Mapping[str, Any] | None = None,
              progress: Callable[[int], None] | None = None):
    """Compute one registered table; ``ValueError`` for an unknown id or key."""
    return _resolve(_spec(table_id).run)(overrides, progress)


def save_table(data: TableData, out_dir: str | os.PathLike, formats: Sequence[str] = ("png", "pdf")) -> list[Path]:
    """Write ``<id>.csv`` and the table rendered as ``<id>.png``/``.pdf``; return the paths (images first).

    A table registered with its own ``save`` (e.g. ``keyrate``, drawn as panels by
    :func:`nfkg.studies.keyrate.save_keyrate`) is written by that function.
    """
    spec = _TABLES.get(data.id)
    if spec is not None and spec.save is not None:
        return _resolve(spec.save)(data, out_dir, formats)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cells = data.formatted_rows()
    n_cols = len(data.header)
    width = min(2.0 + 1.35 * (n_cols - 1), 18.0)
    fig = Figure(figsize=(width, 0.9 + 0.3 * (len(cells) + 1)))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.axis("off")
    tab = ax.table(cellText=cells, colLabels=[h.replace(", ", ",\n") for h in data.header], loc="center",
                   cellLoc="center")
    tab.auto_set_font_size(False)
    tab.set_fontsize(7)
    tab.scale(1.0, 1.35)
    first = max(len(str(row[0])) for row in [data.header, *cells])
    for (r, c), cell in tab.get_celld().items():
        if c == 0:
            cell.set_width(cell.get_width() * max(1.0, first / 16))
        if r == 0:
            cell.set_facecolor("#e8e8e8")
            cell.set_height(cell.get_height() * 1.8)
        elif data.id == "t1" and c > 0 and r <= len(T1_TESTS):
            try:
                v = float(cells[r - 1][c])
            except ValueError:
                continue
            if v < ALPHA:
                cell.set_facecolor("#f4c7c3")
    ax.set_title(f"{data.paper_ref}: {data.title}", fontsize=9)
    paths = []
    for fmt in formats:
        p = out / f"{data.id}.{fmt}"
        fig.savefig(p, dpi=200, bbox_inches="tight")
        paths.append(p)
    csv_path = out / f"{data.id}.csv"
    data.to_csv(csv_path)
    return [*paths, csv_path]
