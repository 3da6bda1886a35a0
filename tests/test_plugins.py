"""Plug-in schemes: tiny distributions made here (a ``.dist-info`` with ``entry_points.txt`` on
sys.path), loaded through the entry-point group ``nfkg.schemes``; the example of the guide
``docs/guides/writing-a-scheme.md`` is the plug-in, and is checked against an independent SKR."""

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nfkg.cli import main
from nfkg.engine.mismatch import score_mismatched
from nfkg.model.channel import ULA
from nfkg.model.scenario import Scenario
from nfkg.schemes import registry
from nfkg.schemes.precoding import evaluate, get_scheme, precode, scheme_names
from nfkg.schemes.registry import PluginWarning

from test_baselines import _det_skr

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "guides" / "writing-a-scheme.md"
MODULES = ("nfkg_nulleve", "nfkg_raises")


def _guide_example() -> str:
    """The plug-in module of the guide: its first ``python`` block after '## An example'."""
    return GUIDE.read_text().split("## An example", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]


def _dist(site: Path, name: str, version: str, entry_points: dict[str, str], modules: dict[str, str]) -> None:
    """An installed distribution as pip leaves it: modules and ``<name>-<version>.dist-info``."""
    for module, code in modules.items():
        (site / f"{module}.py").write_text(code)
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    lines = "".join(f"{k} = {v}\n" for k, v in entry_points.items())
    (info / "entry_points.txt").write_text(f"[nfkg.schemes]\n{lines}")


def _plain_scheme() -> str:
    return '''
def half_mrc(scenario, shaping=None):
    """MRC at half the power (a plain function: registered under its entry point's name).

    More text that is not the description.
    """
    from dataclasses import replace
    from nfkg.schemes.precoding import precode

    res = precode(scenario, "mrc")
    return replace(res, scheme="half-mrc", powers=res.powers / 2, p_s=res.p_s / 2)
'''


def _make_site(root: Path) -> Path:
    site = root / "site"
    site.mkdir()
    _dist(site, "nfkg-nulleve", "0.1", {"null-eve": "nfkg_nulleve:null_eve", "half-mrc": "nfkg_nulleve:half_mrc"},
          {"nfkg_nulleve": _guide_example() + _plain_scheme()})
    _dist(site, "nfkg-broken", "0.2", {"broken": "nfkg_not_there:scheme"}, {})
    _dist(site, "nfkg-raises", "0.3", {"raises": "nfkg_raises:scheme"},
          {"nfkg_raises": "raise RuntimeError('this plug-in is broken\\non two lines')\n"})
    _dist(site, "nfkg-clash", "0.4", {"svd": "nfkg_nulleve:null_eve"}, {})
    return site


@pytest.fixture
def site(tmp_path, monkeypatch):
    """The four distributions on sys.path, loaded; the registry and sys.modules restored after."""
    scheme_names()                                                # built-ins and installed plug-ins first
    saved = dict(registry._REGISTRY), dict(registry._FAILURES), set(registry._SEEN)
    path = _make_site(tmp_path)
    monkeypatch.syspath_prepend(str(path))
    with pytest.warns(PluginWarning) as record:
        registry.load_plugins()
    yield path, [str(w.message) for w in record if issubclass(w.category, PluginWarning)]
    registry._REGISTRY.clear()
    registry._REGISTRY.update(saved[0])
    registry._FAILURES.clear()
    registry._FAILURES.update(saved[1])
    registry._SEEN.clear()
    registry._SEEN.update(saved[2])
    for m in MODULES:
        sys.modules.pop(m, None)
    importlib.invalidate_caches()


def _two_users(n_ant: int = 32, pt_dbm=10.0) -> Scenario:
    return Scenario.from_dbm(ULA(n_ant, 30e9), users=[(5.0, -0.5), (6.0, 0.4)], eves=[(4.5, -0.45), (5.8, 0.42)],
                             pt_dbm=pt_dbm)


def test_plugin_schemes_are_registered_with_their_package(site):
    spec = get_scheme("null-eve")
    assert spec.package == "nfkg-nulleve 0.1" and spec.plugin
    assert spec.description == "a beam to user k with Eve k's channel projected out, P_max/K each"
    plain = get_scheme("half-mrc")
    assert plain.package == "nfkg-nulleve 0.1" and not plain.uses_shaping
    assert plain.description == "MRC at half the power (a plain function: registered under its entry point's name)."
    names = scheme_names()
    assert names.index("null-eve") > names.index("svd-maxmin")     # after the built-ins
    assert get_scheme("svd").package == "nfkg"                     # the clash did not replace it
    s = _two_users()
    np.testing.assert_allclose(evaluate(s, "half-mrc").result.p_a, evaluate(s, "mrc").result.p_a / 2, rtol=1e-15)


@pytest.mark.parametrize("scoring", ["general", "per-user"])
def test_guide_example_against_an_independent_skr(site, scoring):
    """null-eve's SKR from explicit N x N covariances (determinant form); at K = 1 it is zf."""
    s = _two_users(pt_dbm=np.array([0.0, 20.0]))
    ev = evaluate(s, "null-eve", scoring=scoring)
    f, h = (x[0] for x in s.channels())
    u = f - (np.einsum("kn,kn->k", h.conj(), f) / np.einsum("kn,kn->k", h.conj(), h))[:, None] * h
    u /= np.linalg.norm(u, axis=-1, keepdims=True)
    for i in range(2):
        w = float(s.p_max[i]) / 2 * np.einsum("kn,km->knm", u, u.conj())
        np.testing.assert_allclose(ev.skr[i], _det_skr(s, w, f, h, scoring, (i,)), rtol=1e-9, atol=1e-12)
    # its N-space beams (realize) give the same SKR, and null their own Eve
    res = precode(s, "null-eve")
    np.testing.assert_allclose(score_mismatched(res, f, h, s, scoring).skr, ev.skr, rtol=1e-9)
    beams = res.covariance.shapes[0].basis[..., 0]
    assert np.abs(np.einsum("kn,...kn->...k", h.conj(), beams)).max() < 1e-12 * np.linalg.norm(h, axis=-1).max()
    one = Scenario.from_dbm(ULA(32, 30e9), users=[(5.0, -0.5)], eves=[(4.5, -0.45)], pt_dbm=[0.0, 20.0])
    np.testing.assert_allclose(evaluate(one, "null-eve", scoring=scoring).skr, evaluate(one, "zf").skr, rtol=1e-12)


def test_broken_plugins_warn_once_naming_the_package_and_nfkg_works(site):
    _, messages = site
    assert len(messages) == 3 and all("\n" not in m for m in messages)
    by_name = {m.split("'")[1]: m for m in messages}
    assert by_name["broken"].startswith("plug-in scheme 'broken' of package nfkg-broken 0.2 not loaded: "
                                        "ModuleNotFoundError")
    assert by_name["raises"] == ("plug-in scheme 'raises' of package nfkg-raises 0.3 not loaded: "
                                 "RuntimeError: this plug-in is broken on two lines")
    assert by_name["svd"] == ("plug-in scheme 'svd' of package nfkg-clash 0.4 not loaded: ValueError: "
                              "scheme 'svd' is already registered by nfkg")
    for name in ("broken", "raises"):
        assert name not in scheme_names()
        with pytest.raises(ValueError, match=rf"^scheme: plug-in scheme '{name}' of package nfkg-"):
            get_scheme(name)
    assert np.all(evaluate(_two_users(), "svd").skr > 0)
    registry.load_plugins()                                        # tried once: no second warning
    assert registry.plugin_failures().keys() == {"broken", "raises", "svd"}


def test_every_command_sees_the_plugin(site, tmp_path, capsys):
    code = main(["schemes"])
    out, err = capsys.readouterr()
    assert code == 0
    line = next(x for x in out.splitlines() if x.startswith("null-eve "))
    assert line.endswith("(plug-in: package nfkg-nulleve 0.1)")
    assert sorted(err.splitlines()) == sorted(f"nfkg: warning: {m}" for m in site[1])
    toml = tmp_path / "s.toml"
    toml.write_text('carrier_ghz = 30\nantennas = 32\npt_dbm = 10\nnoise_dbm = -105\n'
                    'users = [{r = 5.0, psi = -0.5}, {r = 6.0, psi = 0.4}]\n'
                    'eves = [{r = 4.5, psi = -0.45}, {r = 5.8, psi = 0.42}]\n')
    assert main(["evaluate", str(toml), "-s", "null-eve", "--json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["scheme"] == "null-eve"
    assert obj["sum_skr"] == pytest.approx(float(evaluate(_two_users(), "null-eve").sum_skr), rel=1e-12)
    assert main(["evaluate", str(toml), "-s", "broken"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "plug-in scheme 'broken' of package nfkg-broken 0.2 not loaded" in err[0]


def test_plugins_load_lazily_in_a_fresh_process(tmp_path):
    site = _make_site(tmp_path)
    code = ("import sys, nfkg\n"
            "from nfkg.schemes import registry\n"
            "assert not registry._STATE['plugins'] and 'nfkg_nulleve' not in sys.modules\n"
            "names = nfkg.scheme_names()\n"
            "assert 'nfkg_nulleve' in sys.modules and 'null-eve' in names, names\n"
            "print(names[-2:])\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "['null-eve', 'half-mrc']"
    err = sorted(proc.stderr.splitlines())                          # one line per broken plug-in
    assert len(err) == 3 and all(line.startswith("nfkg:0: PluginWarning: plug-in scheme '") for line in err)
    assert "of package nfkg-broken 0.2 not loaded: ModuleNotFoundError" in err[0]
