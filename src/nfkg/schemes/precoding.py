r"""Precoding schemes and their evaluation by the secrecy engine: the one import for all of it.

A scheme turns a :class:`~nfkg.model.scenario.Scenario` into precoder covariances
:math:`W_k = \sum_j P_{j,k} R_{j,k}` (unit-trace shapes seen from the 2K channels,
:class:`~nfkg.engine.reduced.ShapeView`, never N x N matrices) and a power split
:math:`P_{S,k}, P_{N,k}`; :func:`evaluate` scores it with the exact engine of
:mod:`nfkg.engine.secrecy` and the BS noise of J(11) for the power actually radiated.

This module gathers, under their historical names, what lives in three modules of one job each:

:mod:`nfkg.schemes.registry`
    The registry (:func:`register_scheme`, :func:`get_scheme`, :func:`scheme_names`, plug-ins
    from the entry-point group ``nfkg.schemes``), :class:`PrecodingResult`, :func:`precode`,
    :func:`evaluate`, :func:`score`.
:mod:`nfkg.schemes.baselines`
    ``ras`` (J VII-A(a)), ``mrc`` (C V-B, J VII-A(b)), ``zf`` (zero-forcing beam focusing without
    artificial noise, KTH 2024) and ``rbf`` (isotropic random beamforming, Madiseh et al., IEEE
    TIFS 2012).
:mod:`nfkg.schemes.svd`
    ``svd``, ``svd-pa``, ``svd-dlpa``, ``svd-opt``, ``svd-mf``, ``svd-maxmin`` (C IV, J III-B,
    IV, V and beyond the papers), :func:`true_objective`.

Contents
--------
PrecodingResult, Evaluation, SchemeSpec, register_scheme, get_scheme, scheme_names, precode,
evaluate, score, radiated_power, true_objective, default_shaping, SCORINGS, SHAPINGS, JAMMINGS

PrecoderCovariance, svd_shapes
    Re-exported from :mod:`nfkg.engine.subspace` (N-space realisation).
"""

from __future__ import annotations

from ..engine.reduced import JAMMINGS, SHAPINGS
from ..engine.subspace import PrecoderCovariance, svd_shapes
from . import baselines, svd  # noqa: F401 - register the built-in schemes, baselines first
from .baselines import _equal_powers, _mrc, _ras, _rbf, _zf  # noqa: F401 - former private names
from .registry import (_REGISTRY, SCORINGS, Evaluation, PrecodingResult, SchemeSpec,  # noqa: F401
                       default_shaping, evaluate, get_scheme, precode, radiated_power, register_scheme,
                       scheme_names, score)
from .svd import (_check_svd, _svd, _svd_dlpa, _svd_maxmin, _svd_mf, _svd_opt, _svd_pa,  # noqa: F401
                  _svd_realizer, true_objective)

__all__ = [
    "SHAPINGS",
    "JAMMINGS",
    "score",
    "radiated_power",
    "true_objective",
    "SCORINGS",
    "PrecoderCovariance",
    "svd_shapes",
    "PrecodingResult",
    "Evaluation",
    "SchemeSpec",
    "register_scheme",
    "get_scheme",
    "scheme_names",
    "default_shaping",
    "precode",
    "evaluate",
]
