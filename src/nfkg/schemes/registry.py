r"""The scheme registry, what a scheme returns, and its evaluation by the secrecy engine.

A scheme turns a :class:`~nfkg.model.scenario.Scenario` into precoder covariances
:math:`W_k = \sum_j P_{j,k} R_{j,k}`: unit-trace shapes seen from the 2K channels
(:class:`~nfkg.engine.reduced.ShapeView`, never N x N matrices) and the power on each. Every
scheme is then scored by the exact engine of :mod:`nfkg.engine.secrecy` with the BS noise of
J(11) for the power actually radiated.

Schemes come from three places, all in one registry:

* the built-in ones (:mod:`nfkg.schemes.baselines`, :mod:`nfkg.schemes.svd`);
* :func:`register_scheme` called at run time;
* installed packages (plug-ins) that name a scheme function in the entry-point group
  ``nfkg.schemes`` (:data:`ENTRY_POINT_GROUP`). They are loaded on the first look-up
  (:func:`get_scheme`, :func:`scheme_names`, :func:`precode`), so ``import nfkg`` stays cheap;
  a plug-in that fails to load gives one :class:`PluginWarning` naming its package and is left
  out, never breaking nfkg.

Contents
--------
PrecodingResult, Evaluation
    What a scheme returns; a scheme scored by the engine.
SchemeSpec, register_scheme, get_scheme, scheme_names
    The registry.
load_plugins, plugin_failures, PluginWarning, ENTRY_POINT_GROUP
    Plug-in schemes from installed packages.
precode, evaluate, score, radiated_power, default_shaping, SCORINGS
    Running and scoring a scheme.
"""

from __future__ import annotations

import inspect
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable

import numpy as np

from ..engine.reduced import SHAPINGS, ShapeView
from ..engine.secrecy import covariance_from_rows, observation_rows, skr_factored
from ..engine.subspace import PrecoderCovariance
from ..model.scenario import Scenario, require_scenario

__all__ = [
    "PrecodingResult",
    "Evaluation",
    "SchemeSpec",
    "register_scheme",
    "get_scheme",
    "scheme_names",
    "load_plugins",
    "plugin_failures",
    "PluginWarning",
    "ENTRY_POINT_GROUP",
    "default_shaping",
    "precode",
    "SCORINGS",
    "evaluate",
    "radiated_power",
    "score",
]

#: Entry-point group of plug-in schemes: ``name = "module:function"`` in an installed package.
ENTRY_POINT_GROUP = "nfkg.schemes"


@dataclass(frozen=True)
class PrecodingResult:
    """What a scheme returns: covariance shapes, power split and solver diagnostics.

    Attributes
    ----------
    scheme, shaping : str
    views : tuple of ShapeView
        The unit-trace shapes :math:`R_{j,k}` seen from the 2K channels
        (:mod:`nfkg.engine.reduced`): all the engine needs.
    powers : ndarray, shape ``(..., K, J)``
        Power allocated to each shape [W].
    p_s, p_n : ndarray, ``(..., K)``
        Power radiated for key generation and for jamming [W]. Where the jamming
        null space is empty (``N = 2K-1``) nothing can be radiated there and
        ``p_n = 0``.
    nit : int
        Solver iterations (0 for closed-form schemes).
    history : ndarray or None
        Solver objective per iteration (Dinkelbach: beta; AO: sum objective).
    success : bool
    message : str
    extra : dict
    jamming : str or None
        ``'isotropic'`` or ``'targeted'`` for the SVD schemes.
    realize : callable or None
        Builds the N-space :class:`~nfkg.engine.subspace.PrecoderCovariance` (for Monte Carlo
        probing, keys and mismatch scoring); ``None`` if the scheme offers none.
    """

    scheme: str
    shaping: str | None
    views: tuple[ShapeView, ...]
    powers: np.ndarray
    p_s: np.ndarray
    p_n: np.ndarray
    nit: int = 0
    history: np.ndarray | None = None
    success: bool = True
    message: str = "closed form"
    extra: dict[str, Any] = field(default_factory=dict)
    jamming: str | None = None
    realize: Callable[[], "PrecoderCovariance"] | None = field(default=None, repr=False, compare=False)

    @property
    def p_a(self) -> np.ndarray:
        """Per-user power :math:`P_{a,k} = P_{S,k} + P_{N,k}` [W] actually radiated."""
        return self.p_s + self.p_n

    @cached_property
    def covariance(self) -> "PrecoderCovariance":
        """The precoders in N-space (orthonormal bases), for sampling and checks.

        Built on first use from the channels (one thin SVD per user and shape, as in
        J(13)-(16)); the engine never needs it.
        """
        if self.realize is None:
            raise ValueError(f"covariance: scheme {self.scheme!r} gives no N-space realisation of its precoders")
        return self.realize()


@dataclass(frozen=True)
class Evaluation:
    """A scheme scored by the secrecy engine.

    Attributes
    ----------
    result : PrecodingResult
    skr : ndarray, ``(..., K)``
        SKR of each user [bits/probing].
    cov : ndarray, ``(..., K, 3, 3)``
        Covariance of :math:`(z_a, z_b, z_e)` (for display; the SKR is computed from
        its square-root factors, never from this matrix).
    scoring : str
        ``'general'`` (every user's precoder in every observation) or ``'per-user'`` (J(19)).
    """

    result: PrecodingResult
    skr: np.ndarray
    cov: np.ndarray
    scoring: str = "general"

    @property
    def sum_skr(self) -> np.ndarray:
        """Sum SKR over the users [bits/probing]."""
        return self.skr.sum(axis=-1)

    def to_dict(self, index: tuple[int, ...] = ()) -> dict[str, Any]:
        """The machine-readable result of one batch element (``scheme``, ``shaping``, ``scoring``,
        ``sum_skr`` and per user ``skr``, ``p_a``, ``p_s``, ``p_n``)."""
        r = self.result
        p_a, p_s, p_n = (np.broadcast_to(v, self.skr.shape) for v in (r.p_a, r.p_s, r.p_n))
        users = [
            {"skr": float(self.skr[index][k]), "p_a": float(p_a[index][k]),
             "p_s": float(p_s[index][k]), "p_n": float(p_n[index][k])}
            for k in range(self.skr.shape[-1])
        ]
        return {"scheme": r.scheme, "shaping": r.shaping, "scoring": self.scoring,
                "sum_skr": float(self.sum_skr[index]), "users": users}


# --------------------------------------------------------------------------- registry
@dataclass(frozen=True)
class SchemeSpec:
    """A registered scheme: its function, a one-line description and where it comes from.

    Attributes
    ----------
    name : str
    func : callable
        ``func(scenario, shaping, **options) -> PrecodingResult``.
    description : str
    uses_shaping : bool
        Whether the scheme takes a signal shaping (``'matched'``/``'isotropic'``).
    fixed_shaping : str or None
        The shaping of a scheme that always uses one.
    package : str
        ``'nfkg'`` for the built-in schemes; a plug-in's distribution (``'name version'``);
        otherwise the top-level module that registered it.
    """

    name: str
    func: Callable[..., PrecodingResult]
    description: str
    uses_shaping: bool
    fixed_shaping: str | None = None
    package: str = "nfkg"

    @property
    def plugin(self) -> bool:
        """Whether the scheme comes from another package than nfkg."""
        return self.package != "nfkg"


_REGISTRY: dict[str, SchemeSpec] = {}
_FAILURES: dict[str, str] = {}          # entry-point name -> one-line reason
_SEEN: set[tuple[str, str, str]] = set()  # (distribution, name, value) of entry points tried
_LOADING: list[str] = []                # the plug-in distribution being loaded (a stack)
_STATE = {"builtins": False, "plugins": False}


class PluginWarning(UserWarning):
    """A plug-in scheme (entry-point group ``nfkg.schemes``) could not be loaded."""


def register_scheme(name: str, description: str, uses_shaping: bool = False, fixed_shaping: str | None = None):
    """Decorator: register ``func(scenario, shaping, **options) -> PrecodingResult`` under ``name``.

    ``fixed_shaping`` names the shaping of a scheme that always uses one (``svd-mf``:
    ``'matched'``); such a scheme is called with ``shaping=None`` like ``ras`` and ``mrc``,
    and the command line refuses another ``--shaping`` for it. Registering a name again
    replaces the scheme, except while a plug-in loads: a plug-in cannot replace a scheme of
    another package (``ValueError``).
    """
    if not isinstance(name, str) or not name or any(c.isspace() for c in name):
        raise ValueError(f"name: a scheme name must be a non-empty string without spaces, got {name!r}")

    def deco(func):
        if _LOADING:
            package = _LOADING[-1]
            old = _REGISTRY.get(name)
            if old is not None and old.package != package:
                raise ValueError(f"scheme {name!r} is already registered by {old.package}")
        else:
            package = (getattr(func, "__module__", None) or "?").split(".")[0]
        _REGISTRY[name] = SchemeSpec(name, func, description, uses_shaping, fixed_shaping, package)
        return func

    return deco


def _ensure_loaded() -> None:
    """Register the built-in schemes, then the plug-ins (once)."""
    if not _STATE["builtins"]:
        _STATE["builtins"] = True
        from . import baselines, svd  # noqa: F401 - registration on import

    if not _STATE["plugins"]:
        _STATE["plugins"] = True
        load_plugins()


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


def _distribution(ep) -> str:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return ep.value.split(":")[0].split(".")[0]
    version = getattr(dist, "version", None)
    return f"{dist.name} {version}" if version else str(dist.name)


def _load_entry_point(ep) -> None:
    package = _distribution(ep)
    before = dict(_REGISTRY)
    _LOADING.append(package)
    try:
        if ep.name in before:
            raise ValueError(f"scheme {ep.name!r} is already registered by {before[ep.name].package}")
        obj = ep.load()
        if ep.name not in _REGISTRY:
            if not callable(obj):
                raise TypeError(f"{ep.value} is not a scheme function")
            doc = (inspect.getdoc(obj) or "").strip().splitlines()
            register_scheme(ep.name, doc[0] if doc else f"plug-in scheme from {package}")(obj)
        _FAILURES.pop(ep.name, None)
    except Exception as e:  # noqa: BLE001 - a broken plug-in must not break nfkg
        _REGISTRY.clear()
        _REGISTRY.update(before)
        message = f"plug-in scheme {ep.name!r} of package {package} not loaded: {_one_line(e)}"
        _FAILURES[ep.name] = message
        warnings.warn_explicit(message, PluginWarning, "nfkg", 0, module="nfkg.schemes.registry")
    finally:
        _LOADING.pop()


def load_plugins() -> dict[str, str]:
    """Load the schemes that installed packages declare in the entry-point group ``nfkg.schemes``.

    Each entry point ``name = "module:function"`` registers ``function`` as scheme ``name``
    (see ``docs/guides/writing-a-scheme.md`` of the repository for the contract). Called on the
    first registry look-up; call it again to pick up packages installed since (entry points
    already tried are skipped). A plug-in that fails to import, names no callable, or takes the
    name of another package's scheme is left out with one :class:`PluginWarning` naming its
    package.

    Returns
    -------
    dict
        Entry-point name -> reason, for the plug-ins that failed (:func:`plugin_failures`).
    """
    from importlib.metadata import entry_points

    _STATE["plugins"] = True
    try:
        eps = list(entry_points(group=ENTRY_POINT_GROUP))
    except Exception as e:  # noqa: BLE001 - broken metadata of some installed package
        warnings.warn_explicit(f"plug-in schemes not loaded: {_one_line(e)}", PluginWarning, "nfkg", 0,
                               module="nfkg.schemes.registry")
        return plugin_failures()
    for ep in eps:
        key = (_distribution(ep), ep.name, ep.value)
        if key in _SEEN:
            continue
        _SEEN.add(key)
        _load_entry_point(ep)
    return plugin_failures()


def plugin_failures() -> dict[str, str]:
    """The plug-ins that failed to load: entry-point name -> one-line reason naming the package."""
    return dict(_FAILURES)


def scheme_names() -> list[str]:
    """Names of the registered schemes (built-in first, then plug-ins, in registration order)."""
    _ensure_loaded()
    return list(_REGISTRY)


def get_scheme(name: str) -> SchemeSpec:
    """Look up a scheme; ``ValueError`` naming the known ones (or why a plug-in is missing) otherwise."""
    _ensure_loaded()
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        if isinstance(name, str) and name in _FAILURES:
            raise ValueError(f"scheme: {_FAILURES[name]}") from None
        raise ValueError(f"scheme: unknown scheme {name!r}; choose one of {', '.join(_REGISTRY)}") from None


def default_shaping(n_users: int) -> str:
    """The papers' rule: ``matched`` for K = 1 (C), ``isotropic`` for K > 1 (J)."""
    return "matched" if n_users == 1 else "isotropic"


def precode(scenario: Scenario, scheme: str, shaping: str | None = None, **options) -> PrecodingResult:
    """Run a registered scheme on a (batched) scenario."""
    require_scenario(scenario)
    spec = get_scheme(scheme)
    if shaping is not None and shaping not in SHAPINGS:
        raise ValueError(f"shaping: must be one of {', '.join(SHAPINGS)}, got {shaping!r}")
    if spec.uses_shaping and shaping is None:
        shaping = default_shaping(scenario.n_users)
    return spec.func(scenario, shaping if spec.uses_shaping else None, **options)


SCORINGS = ("general", "per-user")


def evaluate(scenario: Scenario, scheme: str, shaping: str | None = None, scoring: str = "general",
             **options) -> Evaluation:
    r"""Precode and score: the SKR of every user by the exact engine (J(18)-(22), C(13)-(23)).

    ``scoring='general'`` (default) uses :math:`W = \sum_i W_i` in the user's and
    Eve's observations (the leakage of the other users' random precoders through the shared
    pilot is physically there); ``scoring='per-user'`` replaces it by :math:`W_k`,
    J(19)'s convention, which drops that leakage. The two agree for the SVD schemes and
    ``zf``, whose precoders null the other users.

    The SKR is computed by :func:`nfkg.engine.secrecy.skr_factored` from the rows of the
    observations' square-root factor, exact at any SNR.

    Examples
    --------
    >>> from nfkg.model.channel import ULA
    >>> s = Scenario.from_dbm(ULA(256, 30e9), users=[(12.2, 0.2)], eves=[(12.0, 0.2)], pt_dbm=30)
    >>> ev = evaluate(s, "svd-pa")
    >>> bool(ev.sum_skr > evaluate(s, "mrc").sum_skr)
    True
    """
    if scoring not in SCORINGS:
        raise ValueError(f"scoring: must be one of {', '.join(SCORINGS)}, got {scoring!r}")
    res = precode(scenario, scheme, shaping, **options)
    skr, cov = score(scenario, res.views, res.powers, scoring)
    return Evaluation(res, skr, cov, scoring)


def radiated_power(views: tuple[ShapeView, ...], powers: np.ndarray) -> np.ndarray:
    r""":math:`P_{a,k} = \mathrm{tr}\,W_k = \sum_j P_{j,k}\,\mathrm{tr}R_{j,k}`, ``(..., K)``."""
    return sum(powers[..., j] * v.trace for j, v in enumerate(views))


def score(scenario: Scenario, views: tuple[ShapeView, ...], powers: np.ndarray, scoring: str = "general"
          ) -> tuple[np.ndarray, np.ndarray]:
    """SKR ``(..., K)`` and covariance ``(..., K, 3, 3)`` of given shapes and powers (J(18)-(22))."""
    powers = np.asarray(powers, dtype=float)
    a, b, e, d = observation_rows(views, powers, scoring)
    var_na = scenario.var_na(radiated_power(views, powers))
    var_nb, var_ne = scenario.var_nb, scenario.var_ne
    skr = skr_factored(a, b, e, d, var_na, var_nb, var_ne)
    cov = covariance_from_rows(a, b, e, var_na, var_nb, var_ne)
    shape = (*scenario.batch_shape, scenario.n_users)
    return np.broadcast_to(skr, shape), np.broadcast_to(cov, (*shape, 3, 3))
