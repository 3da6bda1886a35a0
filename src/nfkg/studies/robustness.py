r"""Designs scored against a different truth: imperfect Eve CSI and NLoS channels.

The BS designs its precoders :math:`W_k` on the channels it believes (estimates
:math:`\hat f_k, \hat h_k`, or the LoS channels), while the key is generated over
the channels that are really there (:math:`f_k, h_k`). The SKR of such a design is
:func:`nfkg.engine.mismatch.score_mismatched`: the engine's :math:`I(z_a; z_b \mid z_e)` of
the secrecy engine (C(13), J(18)) with the *true* channels in every observation and the
*designed* precoders. This module builds the two truths (Eve positions with errors,
NLoS channels) and a design robust to the first.

Contents
--------
true_views, score_mismatched, MismatchEvaluation
    Re-exported from :mod:`nfkg.engine.mismatch` (scoring a design with other channels).
perturb_positions, csi_error, CsiResult
    Imperfect Eve CSI: Gaussian position errors (redrawn until valid), D seeded draws
    (:mod:`nfkg.studies.eve_csi`).
region_channels, robust_svd_covariance, robust_csi_error
    A robust SVD design: null/jam the span of several Eve positions of the uncertainty region
    (:mod:`nfkg.studies.robust_design`).
rician_gains, nlos_truth, nlos_skr, NlosResult
    J VIII-B's NLoS channel (LoS + D scattered near-field paths, Rician factor) as the truth
    (:mod:`nfkg.studies.nlos`).

Every name is defined in one of those three modules and re-exported here.

The ``csi`` and ``nlos`` figures built on these are in :mod:`nfkg.studies.robustness_figures`.
"""

from __future__ import annotations

from ..engine.mismatch import MismatchEvaluation, score_mismatched, true_views
from .eve_csi import CsiResult, _nonneg, csi_error, perturb_positions  # noqa: F401 - _nonneg for the figures
from .nlos import NlosResult, _rician_linear, nlos_skr, nlos_truth, rician_gains  # noqa: F401
from .robust_design import region_channels, robust_csi_error, robust_svd_covariance

__all__ = [
    "MismatchEvaluation",
    "true_views",
    "score_mismatched",
    "perturb_positions",
    "CsiResult",
    "csi_error",
    "region_channels",
    "robust_svd_covariance",
    "robust_csi_error",
    "rician_gains",
    "nlos_truth",
    "NlosResult",
    "nlos_skr",
]
