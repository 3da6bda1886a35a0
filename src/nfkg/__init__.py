"""nfkg: secret key generation in near-field XL-MIMO (T. Lu et al., papers C and J).

``import nfkg`` is cheap: it imports nothing else (not NumPy, SciPy, matplotlib
or torch). Every name below is loaded on first use by a module-level
``__getattr__`` (PEP 562), from the submodule given in brackets.

Public API
----------
``evaluate(scenario, scheme, shaping=None, scoring='general', **options)``
    Precode and score a (batched) scenario: SKR per user and sum [nfkg.schemes.precoding].
``precode(scenario, scheme, shaping=None, **options)``
    Run a registered scheme: precoder covariances and power split [nfkg.schemes.precoding].
scheme_names(), register_scheme(name, description, uses_shaping=False)
    The scheme registry ('ras', 'mrc', 'svd', 'svd-pa', ...) [nfkg.schemes.precoding].
Scenario
    Batched numeric scenario: array, users, Eves, powers, noise [nfkg.model.scenario].
ULA
    Uniform linear array: N, carrier, spacing, path-loss exponent [nfkg.model.channel].
load_scenario(path), parse_scenario(mapping), ScenarioError
    TOML scenario files and their validation error [nfkg.model.scenario_file].
run_figure(fig_id, overrides=None, scoring='general')
    The curves of one of the papers' figures [nfkg.studies.experiments].
reproduce(out_dir, ids=None, progress=True, scoring='general')
    Every figure plus index.html / index.md with the papers' claims [nfkg.studies.report].
__version__
    The installed version (importlib.metadata), ``'unknown'`` from a bare source tree.

Subpackages
-----------
Loaded on first access too (e.g. ``nfkg.engine.secrecy``). Imports run one way, from the
top of this list to the bottom:

scale
    Secrecy maps, sweeps and their executors (Dask).
studies
    The papers' figures and tables, their claims, the report, and the studies beyond them.
protocol
    From probing to a key: probing, quantisation, reconciliation, privacy amplification,
    bounds, keygen.
schemes
    Precoding schemes: the registry, baselines, SVD power allocation, the optimum,
    fairness, KGSVD-Net.
model
    Units, limits, arrays and channels, the scenario and scenario files.
engine
    Reduced coordinates, subspaces, the SKR, mismatch scoring.
randomness
    NIST SP 800-22 tests (used by protocol and studies).
cli
    The ``nfkg`` command, one module per command.

Examples
--------
>>> import nfkg
>>> s = nfkg.Scenario.from_dbm(nfkg.ULA(256, 30e9), users=[(12.2, 0.2)],
...                            eves=[(12.0, 0.2)], pt_dbm=30)
>>> ev = nfkg.evaluate(s, "svd-pa")
>>> bool(ev.sum_skr > nfkg.evaluate(s, "mrc").sum_skr)
True
>>> "svd-pa" in nfkg.scheme_names()
True
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for type checkers and IDEs only; at run time these load lazily
    from .model.channel import ULA
    from .studies.experiments import run_figure
    from .schemes.precoding import evaluate, precode, register_scheme, scheme_names
    from .studies.report import reproduce
    from .model.scenario import Scenario
    from .model.scenario_file import ScenarioError, load_scenario, parse_scenario

#: Public name -> submodule that defines it.
_API: dict[str, str] = {
    "evaluate": "schemes.precoding",
    "precode": "schemes.precoding",
    "scheme_names": "schemes.precoding",
    "register_scheme": "schemes.precoding",
    "Scenario": "model.scenario",
    "ULA": "model.channel",
    "load_scenario": "model.scenario_file",
    "parse_scenario": "model.scenario_file",
    "ScenarioError": "model.scenario_file",
    "run_figure": "studies.experiments",
    "reproduce": "studies.report",
}

#: The subpackages, in the direction imports run (each imports only those after it), then
#: the command line and the randomness tests.
_SUBMODULES = ("scale", "studies", "protocol", "schemes", "model", "engine", "randomness", "cli")

__all__ = [*_API, "__version__"]


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("nfkg")
    except Exception:  # noqa: BLE001 - not installed (bare source tree)
        return "unknown"


def __getattr__(name: str) -> Any:
    if name in _API:
        value = getattr(importlib.import_module(f".{_API[name]}", __name__), name)
    elif name in _SUBMODULES or (not name.startswith("_")
                                 and importlib.util.find_spec(f"{__name__}.{name}") is not None):
        value = importlib.import_module(f".{name}", __name__)
    elif name == "__version__":
        value = _version()
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # later look-ups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_API, *_SUBMODULES, "__version__"})
