"""The package's public API: every name resolves, ``import nfkg`` stays light, a smoke run."""

import doctest
import json
import subprocess
import sys

import numpy as np
import pytest

import nfkg

API = ["evaluate", "precode", "Scenario", "ULA", "load_scenario", "parse_scenario", "ScenarioError",
       "scheme_names", "register_scheme", "run_figure", "reproduce"]
SUBMODULES = ["scale", "studies", "protocol", "schemes", "model", "engine", "randomness", "cli"]


@pytest.mark.parametrize("name", API)
def test_every_name_resolves_to_its_submodule_object(name):
    value = getattr(nfkg, name)
    assert getattr(sys.modules[value.__module__], name) is value
    assert name in nfkg.__all__ and name in dir(nfkg)


def test_the_names_are_the_documented_ones():
    from nfkg import (ULA, Scenario, ScenarioError, evaluate, load_scenario, parse_scenario,  # noqa: F401
                      precode, register_scheme, run_figure, scheme_names)
    from nfkg.model.channel import ULA as ula
    from nfkg.studies.experiments import run_figure as rf
    from nfkg.schemes.precoding import evaluate as ev
    from nfkg.model.scenario_file import ScenarioError as se

    assert (ULA, run_figure, evaluate, ScenarioError) == (ula, rf, ev, se)
    assert issubclass(ScenarioError, ValueError)
    for name in API:
        assert name in nfkg.__doc__, name


@pytest.mark.parametrize("name", SUBMODULES)
def test_submodules_are_reachable_as_attributes(name):
    mod = getattr(nfkg, name)
    assert mod is sys.modules[f"nfkg.{name}"]


def test_version_and_unknown_names():
    assert isinstance(nfkg.__version__, str) and nfkg.__version__
    from importlib.metadata import version

    assert nfkg.__version__ == version("nfkg")
    with pytest.raises(AttributeError, match="no_such_name"):
        nfkg.no_such_name  # noqa: B018
    assert not hasattr(nfkg, "_private_thing")


def _fresh(code: str) -> dict:
    """Run ``code`` in a fresh interpreter; it prints a JSON object."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


_HEAVY = "['matplotlib', 'torch', 'scipy', 'numpy', 'pydantic', 'click']"


def test_import_nfkg_imports_neither_matplotlib_nor_torch():
    got = _fresh("import json, sys, nfkg\n"
                 f"print(json.dumps([m for m in {_HEAVY} if m in sys.modules]))")
    assert "matplotlib" not in got and "torch" not in got
    assert got == []  # nothing heavy at all: every name loads on first use


def test_core_api_use_stays_free_of_matplotlib_and_torch():
    got = _fresh("import json, sys, nfkg\n"
                 "s = nfkg.Scenario.from_dbm(nfkg.ULA(64, 30e9), users=[(12.0, 0.2)], eves=[(11.0, 0.2)], pt_dbm=20)\n"
                 "nfkg.evaluate(s, 'svd'); nfkg.run_figure('c3', {'pt_dbm': [10]})\n"
                 "print(json.dumps([m for m in ('matplotlib', 'torch') if m in sys.modules]))")
    assert got == []


def test_docstring_examples_run():
    result = doctest.testmod(nfkg, verbose=False)
    assert result.attempted >= 3 and result.failed == 0


def test_smoke_run_through_the_package_namespace(tmp_path):
    s = nfkg.Scenario.from_dbm(nfkg.ULA(256, 30e9), users=[(12.2, 0.2)], eves=[(12.0, 0.2)],
                               pt_dbm=np.array([10.0, 30.0]))
    ev = nfkg.evaluate(s, "svd-pa")
    assert ev.sum_skr.shape == (2,) and np.all(np.diff(ev.sum_skr) > 0)
    res = nfkg.precode(s, "svd")
    assert res.p_s.shape == res.p_n.shape
    assert {"ras", "mrc", "svd", "svd-pa"} <= set(nfkg.scheme_names())

    path = tmp_path / "one.toml"
    path.write_text("users = [{r = 12.2, psi = 0.2}]\neves = [{r = 12.0, psi = 0.2}]\npt_dbm = 30\n")
    loaded = nfkg.load_scenario(path)
    assert float(nfkg.evaluate(loaded, "svd-pa").sum_skr) == pytest.approx(float(ev.sum_skr[1]), rel=1e-9)
    parsed = nfkg.parse_scenario({"users": [{"r": 12.2, "psi": 0.2}], "eves": [{"r": 12.0, "psi": 0.2}],
                                  "pt_dbm": 30})
    assert parsed.n_users == 1
    with pytest.raises(nfkg.ScenarioError):
        nfkg.parse_scenario({"users": [{"r": -1.0, "psi": 0.0}], "eves": [{"r": 1.0, "psi": 0.0}]})

    data = nfkg.run_figure("c3", {"pt_dbm": [0, 30]})
    assert list(data.curves) == ["MRC", "SVD w/o PA", "SVD w/ PA"]
