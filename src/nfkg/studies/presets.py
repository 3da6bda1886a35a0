r"""The presets of the papers' SKR figures: parameters, x-axes and curve labels.

Every figure of the papers that plots the SKR (C Figs. 3-5, J Figs. 4-9) is a preset: a
flat table of parameters (geometry, powers, array, schemes) plus the x-axis;
:func:`nfkg.studies.experiments.run_figure` computes it.

Contents
--------
PRESETS
    ``{fig_id: FigurePreset}``: the parameters of each figure (read-only).
SCHEME_LABELS, scheme_label
    Registry scheme name -> curve label (``'svd-pa'`` -> ``'SVD w/ PA'``).
C_SCHEMES, J_SCHEMES
    The scheme columns of the conference (C) and journal (J) figures.
FigurePreset
    The definition of one figure.
figure_ids, get_preset
    The ids, and one preset by id.

Parameters of a preset
----------------------
Common keys: ``carrier_ghz`` (30), ``spacing_wavelengths`` (0.5), ``pathloss_exponent``
(2), ``noise_dbm`` (-105, BS, users and Eves), ``pilot_length`` (V = 1), ``n_ant`` (N),
``pt_dbm`` (:math:`P_t = P_{\max} = P_b`), ``shaping`` (``'matched'`` for C, ``'isotropic'``
for J), ``schemes`` (registry names, one curve each). Nodes: ``r_b``, ``psi_b``,
``r_e``, ``psi_e`` (one value per user, m and rad). Offsets: ``dpsi`` (J Fig. 4,
:math:`\psi_{e,k} = \psi_{b,k} + \Delta\psi`) and ``dr`` (J Fig. 6,
:math:`r_{e,k} = r_{b,k} + \Delta r`). J Fig. 8 adds ``n_users`` (the values of K; the
first K entries of the node tuples are used). J Fig. 9 adds ``rounds`` (probings per point)
and ``seed``.

Sweep grids (the papers give only the ranges; the point counts are ours): C3 P_t
0..40 dBm step 1; C4 r_e 5..25 m step 0.1 (contains r_b = 14 m); C5 psi_e on a grid
symmetric about 0 from -pi/2 to pi/2, 3001 points (step ~1.05 mrad, about 7 points per
sidelobe at broadside), containing 0 = psi_b; J4 dpsi -0.07..0.07 rad step 1 mrad;
J5 and J8 P_t 0..30 dBm step 1; J6 dr -2..2 m step 1 cm; J7 N = 32, 48, 64, ..., 768,
1024 (powers of two and their midpoints); J9 P_t 0..30 dBm step 2. Overrides
(:func:`nfkg.studies.parameters.resolve_params`) replace the grids exactly (nothing is added
to them).

Adding a scheme column later: register it in :mod:`nfkg.schemes.precoding`, give it a label
in :data:`SCHEME_LABELS` and append its name to :data:`J_SCHEMES` (or pass
``{'schemes': (...)}`` as an override).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping

import numpy as np

__all__ = ["SCHEME_LABELS", "C_SCHEMES", "J_SCHEMES", "scheme_label", "FigurePreset", "PRESETS", "figure_ids",
           "get_preset"]

# --------------------------------------------------------------------------- schemes
#: Curve label of each registry scheme name (the papers' names).
SCHEME_LABELS: dict[str, str] = {
    "ras": "RAS w/o P",
    "mrc": "MRC",
    "zf": "ZF (no AN)",
    "rbf": "RBF (isotropic)",
    "svd": "SVD w/o PA",
    "svd-pa": "SVD w/ PA",
    "svd-dlpa": "SVD w/ DLPA",
    "svd-opt": "SVD opt (exact)",
    "svd-mf": "SVD MF (matched, targeted, exact)",
    "svd-maxmin": "SVD max-min",
}

#: Scheme columns of the conference figures (single user, matched shaping).
C_SCHEMES: tuple[str, ...] = ("mrc", "svd", "svd-pa")
#: Scheme columns of the journal figures (isotropic shaping), SVD w/ DLPA with the shipped models.
J_SCHEMES: tuple[str, ...] = ("ras", "mrc", "svd", "svd-pa", "svd-dlpa")

_SKR = "SKR (bits/probing)"
_SUM_SKR = "Sum SKR (bits/probing)"
_PT_LABEL = r"Transmit power $P_t$ (dBm)"


def scheme_label(name: str) -> str:
    """Curve label of a registry scheme name (the name itself if it has no label)."""
    return SCHEME_LABELS.get(name, name)


# --------------------------------------------------------------------------- grids
def _symmetric_grid(half_width: float, n_half: int) -> np.ndarray:
    """``2 n_half + 1`` points, exactly symmetric about 0 and containing 0."""
    half = np.linspace(0.0, half_width, n_half + 1)
    return np.concatenate([-half[:0:-1], half])


def _step_grid(lo: float, hi: float, step: float) -> np.ndarray:
    """``lo, lo + step, ..., hi`` computed as integers times the step (exact decimals)."""
    n = int(round((hi - lo) / step))
    return np.round(lo + step * np.arange(n + 1), 12)


_J7_N = np.array([32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024])


# --------------------------------------------------------------------------- presets
@dataclass(frozen=True)
class FigurePreset:
    """The definition of one figure: labels, x-axis and default parameters.

    Attributes
    ----------
    id : str
        Figure id (``'c3'``, ``'j5'``, ...).
    paper_ref : str
        The paper's figure (``'C Fig. 3'``).
    title : str
        The paper's caption, shortened.
    x_key : str
        The parameter swept on the x-axis (a key of ``params``).
    x_name : str
        CSV column name of the x-axis, with its unit (``'pt_dbm'``).
    x_label : str
        Axis label with units (matplotlib mathtext).
    y_label : str
        ``'SKR (bits/probing)'`` (C) or ``'Sum SKR (bits/probing)'`` (J).
    params : Mapping
        Default parameters (read-only); see the module docstring for the keys.
    """

    id: str
    paper_ref: str
    title: str
    x_key: str
    x_name: str
    x_label: str
    y_label: str
    params: Mapping[str, Any]
    y_scale: str = "linear"
    scored: bool = True   # False: the curves do not depend on the SKR scoring (Monte Carlo KDR)


def _common(paper: str) -> dict[str, Any]:
    return {
        "carrier_ghz": 30.0,
        "spacing_wavelengths": 0.5,
        "pathloss_exponent": 2.0,
        "noise_dbm": -105.0,
        "pilot_length": 1,
        "n_ant": 256,
        "shaping": "matched" if paper == "C" else "isotropic",
        "schemes": C_SCHEMES if paper == "C" else J_SCHEMES,
    }


def _preset(fig_id, paper_ref, title, x_key, x_name, x_label, y_label, y_scale="linear", scored=True,
            **params) -> FigurePreset:
    full = _common(paper_ref[0])
    full.update(params)
    for k, v in full.items():
        if isinstance(v, np.ndarray):
            v.setflags(write=False)
    return FigurePreset(fig_id, paper_ref, title, x_key, x_name, x_label, y_label, MappingProxyType(full),
                        y_scale, scored)


_J5_NODES = dict(r_b=(12.0, 13.0), psi_b=(-0.6, 0.6), r_e=(11.98, 12.98), psi_e=(-0.6, 0.6))

PRESETS: Mapping[str, FigurePreset] = MappingProxyType({
    p.id: p for p in (
        _preset("c3", "C Fig. 3", "SKR versus the transmit power", "pt_dbm", "pt_dbm", _PT_LABEL, _SKR,
                pt_dbm=_step_grid(0, 40, 1), r_b=12.2, psi_b=0.2, r_e=12.0, psi_e=0.2),
        _preset("c4", "C Fig. 4", "SKR versus the distance between Eve and the BS", "r_e", "r_e_m",
                r"Eve distance $r_e$ (m)", _SKR,
                pt_dbm=30.0, r_b=14.0, psi_b=0.2, r_e=_step_grid(5, 25, 0.1), psi_e=0.2),
        _preset("c5", "C Fig. 5", "SKR versus the spatial angle of Eve", "psi_e", "psi_e_rad",
                r"Eve angle $\psi_e$ (rad)", _SKR,
                pt_dbm=30.0, r_b=15.0, psi_b=0.0, r_e=15.0, psi_e=_symmetric_grid(np.pi / 2, 1500)),
        _preset("j4", "J Fig. 4", "Sum SKR versus the spatial angle of Eve", "dpsi", "dpsi_rad",
                r"Eve angle offset $\Delta\psi$ (rad)", _SUM_SKR,
                pt_dbm=20.0, r_b=(12.0, 13.0), psi_b=(-1.5, 1.5), r_e=(12.0, 13.0),
                dpsi=_step_grid(-0.07, 0.07, 0.001)),
        _preset("j5", "J Fig. 5", "Sum SKR versus the transmit power", "pt_dbm", "pt_dbm", _PT_LABEL, _SUM_SKR,
                pt_dbm=_step_grid(0, 30, 1), **_J5_NODES),
        _preset("j6", "J Fig. 6", "Sum SKR versus the distance of Eve", "dr", "dr_m",
                r"Eve distance offset $\Delta r$ (m)", _SUM_SKR,
                pt_dbm=20.0, r_b=(12.0, 13.0), psi_b=(-0.6, 0.6), psi_e=(-0.6, 0.6),
                dr=_step_grid(-2, 2, 0.01)),
        _preset("j7", "J Fig. 7", "Sum SKR versus the number of antennas", "n_ant", "n_ant",
                r"Number of antennas $N$", _SUM_SKR,
                **{**_J5_NODES, "pt_dbm": 20.0, "n_ant": _J7_N.copy()}),
        _preset("j8", "J Fig. 8", "Sum SKR versus the transmit power for 4 and 6 UEs", "pt_dbm", "pt_dbm",
                _PT_LABEL, _SUM_SKR,
                pt_dbm=_step_grid(0, 30, 1), n_users=(4, 6),
                r_b=(12.0, 13.0, 12.0, 13.0, 12.0, 13.0), psi_b=(-0.7, -0.6, -0.5, 0.5, 0.6, 0.7),
                r_e=(11.98, 12.98, 11.98, 12.98, 11.98, 12.98), psi_e=(-0.7, -0.6, -0.5, 0.5, 0.6, 0.7)),
        _preset("j9", "J Fig. 9", "Sum KDR versus the transmit power (Monte Carlo probing)", "pt_dbm", "pt_dbm",
                _PT_LABEL, "Sum KDR (BS-user, one-bit)", y_scale="log", scored=False,
                pt_dbm=_step_grid(0, 30, 2), rounds=10_000, seed=0, **_J5_NODES),
    )
})

_NODE_KEYS = ("r_b", "psi_b", "r_e", "psi_e")


def figure_ids() -> list[str]:
    """Ids of the reproducible figures, in paper order.

    >>> figure_ids()
    ['c3', 'c4', 'c5', 'j4', 'j5', 'j6', 'j7', 'j8', 'j9']
    """
    return list(PRESETS)


def get_preset(fig_id: str) -> FigurePreset:
    """The preset of ``fig_id``; ``ValueError`` naming every known id (figures and tables) otherwise."""
    try:
        return PRESETS[fig_id]
    except KeyError:
        from .tables import table_ids  # the tables (t1, dlpa, keyrate, ...) are ids of `figure` and `reproduce` too

        if fig_id in table_ids():
            raise ValueError(f"fig_id: {fig_id!r} is a table, not a figure preset "
                             "(nfkg.studies.tables.run_table; `nfkg figure` takes both)") from None
        known = list(dict.fromkeys([*PRESETS, *table_ids()]))
        raise ValueError(f"fig_id: unknown figure {fig_id!r}; choose one of {', '.join(known)}") from None
