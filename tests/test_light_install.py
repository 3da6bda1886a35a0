"""The light install: nfkg without its extras (no torch, no Dask, xarray or pyarrow).

Each check runs in a subprocess whose imports of torch, dask, distributed, xarray,
pyarrow and Sionna RT (sionna, mitsuba, drjit) fail (a ``sys.meta_path`` finder that raises ImportError for them), as in a fresh
``pip install nfkg``. There, every scheme must evaluate (svd-dlpa too: KGSVD-Net's forward
pass runs in NumPy from the shipped weights), with the values of this process (which may
have every extra) and, for svd-dlpa, of torch's forward pass to 1e-6; every module must
import but the torch network; each command that needs an extra must print one line naming
it. ``make check-light`` runs these tests again in real venvs without extras.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from nfkg.model.channel import ULA
from nfkg.model.scenario import Scenario
from nfkg.schemes import dlpa
from nfkg.schemes.precoding import evaluate, scheme_names

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
BLOCKED = ("torch", "dask", "distributed", "xarray", "pyarrow", "sionna", "mitsuba", "drjit", "numba", "llvmlite")

BLOCK = textwrap.dedent(f"""
    import importlib.abc, sys
    BLOCKED = {BLOCKED!r}

    class _Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {{name!r}} (blocked: light install)", name=name)
            return None

    sys.meta_path.insert(0, _Block())
    """)


def _run(code: str, timeout: float = 120.0) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", BLOCK + textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=timeout)


SCENARIOS = """
import numpy as np
from nfkg.model.channel import ULA
from nfkg.model.scenario import Scenario

def _scenarios():  # K = 2, 4, 6 (every shipped KGSVD-Net), Eves 2 cm from their users, two powers
    out = {}
    for k in (2, 4, 6):
        psi = np.linspace(-0.9, 0.9, k)
        r = 8.0 + np.arange(k)
        out[k] = Scenario.from_dbm(ULA(128, 30e9), users=np.stack([r, psi], -1),
                                   eves=np.stack([r - 0.02, psi + 0.001], -1), pt_dbm=np.array([10.0, 25.0]))
    return out
"""
_ns: dict = {}
exec(SCENARIOS, _ns)  # the same scenarios here and in the subprocesses
_scenarios = _ns["_scenarios"]


@pytest.fixture(scope="module")
def light_values():
    """Every scheme's per-user SKR on the scenarios, computed in a light-install subprocess."""
    res = _run(SCENARIOS + textwrap.dedent("""
        import json, sys
        from nfkg.schemes.precoding import evaluate, scheme_names
        out = {}
        for k, scen in _scenarios().items():
            for name in scheme_names():
                if k > 2 and name != "svd-dlpa":
                    continue
                out[f"{name}/{k}"] = evaluate(scen, name).skr.tolist()
        loaded = sorted({m.split(".")[0] for m in sys.modules} & set(BLOCKED))
        print(json.dumps({"skr": out, "loaded": loaded}))
        """))
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def test_every_scheme_evaluates_without_extras(light_values):
    assert light_values["loaded"] == []
    scen = _scenarios()
    names = scheme_names()
    assert "svd-dlpa" in names and {f"{n}/2" for n in names} <= set(light_values["skr"])
    for key, skr in light_values["skr"].items():
        name, k = key.split("/")
        ref = evaluate(scen[int(k)], name).skr  # this process: every extra it has
        assert np.all(np.isfinite(skr)) and np.shape(skr) == ref.shape
        np.testing.assert_allclose(skr, ref, rtol=1e-9, atol=1e-12, err_msg=key)


@pytest.mark.parametrize("k", [2, 4, 6])
def test_svd_dlpa_without_torch_equals_the_torch_forward_pass(light_values, k, monkeypatch):
    """The light install's svd-dlpa == svd-dlpa with torch's forward pass (float32, as nfkg ran it), 1e-6."""
    torch = pytest.importorskip("torch")
    from nfkg.schemes.network import KGSVDNet

    m = dlpa.shipped_model(k)
    net = KGSVDNet(7 * k + 1, k, m.meta["hidden"])
    net.load_state_dict(torch.load(m.path / dlpa.WEIGHTS, weights_only=True))
    net.eval()

    def torch_fractions(self, inst, batch=65536):
        with torch.no_grad():
            out = net(torch.as_tensor(self.standardise(dlpa.features(inst)), dtype=torch.float32)).double().numpy()
        return out / out.sum(-1, keepdims=True)

    monkeypatch.setattr(dlpa.KGSVDModel, "fractions", torch_fractions)
    ref = evaluate(_scenarios()[k], "svd-dlpa").skr
    np.testing.assert_allclose(light_values["skr"][f"svd-dlpa/{k}"], ref, rtol=1e-6, atol=1e-12)


def test_every_module_imports_but_the_torch_network():
    """Every import of an extra is lazy: each nfkg module imports without them, but for
    nfkg.schemes.network (KGSVD-Net in torch) and the private numba kernels (the NumPy code runs
    without them), which fail with the one line of their extra."""
    res = _run("""
        import importlib, json, pkgutil, sys
        import nfkg
        failed = {}
        for info in pkgutil.walk_packages(nfkg.__path__, "nfkg."):
            try:
                importlib.import_module(info.name)
            except ImportError as e:
                failed[info.name] = str(e)
        public = [getattr(nfkg, name) for name in nfkg.__all__]
        loaded = sorted({m.split(".")[0] for m in sys.modules} & set(BLOCKED))
        print(json.dumps({"failed": failed, "loaded": loaded, "public": len(public)}))
        """)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["loaded"] == [] and out["public"] > 0
    kernels = {f"nfkg.protocol.{m}": f"nfkg.protocol.{m} (compiled kernels) needs the 'fast' extra: "
               "pip install 'nfkg[fast]'" for m in ("_bp_numba", "_graph_numba", "_ml_numba")}
    assert out["failed"] == {"nfkg.schemes.network": "KGSVD-Net in PyTorch (nfkg.schemes.network: training) needs "
                                                     "the 'train' extra: pip install 'nfkg[train]'", **kernels}


def test_python_api_names_the_extra(tmp_path):
    res = _run(f"""
        from nfkg._extras import MissingExtra
        from nfkg.scale.sweep import parse_sweep, run_sweep
        from nfkg.schemes.training import train
        from nfkg.scale.executor import get_executor
        from nfkg.scale.maps import MapSpec, map_grid, secrecy_map, to_dataset
        from nfkg.model.scenario_file import parse_scenario
        base = {{"antennas": 16, "users": [{{"r": 6.0, "psi": 0.1}}], "eves": [{{"r": 5.9, "psi": 0.1}}]}}
        sw = parse_sweep({{"base": base, "schemes": ["svd"], "sweep": {{"pt_dbm": [0, 10]}}}})  # validation: core
        m = secrecy_map(MapSpec(parse_scenario(base), ("svd",)), *map_grid((-2, 2, 3, 6), (3, 2)))  # core too
        for call in (lambda: run_sweep(sw, {str(tmp_path / 'sweep')!r}),
                     lambda: train(1, 0, {str(tmp_path / 'model')!r}),
                     lambda: get_executor(workers=2),
                     lambda: to_dataset(m)):
            try:
                call()
            except MissingExtra as e:
                print(e)
        """)
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == [
        "writing and reading a sweep's Parquet files needs the 'scale' extra: pip install 'nfkg[scale]'",
        "training KGSVD-Net needs the 'train' extra: pip install 'nfkg[train]'",
        "running chunks on Dask (--workers, --scheduler) needs the 'scale' extra: pip install 'nfkg[scale]'",
        "a map as an xarray Dataset (map.nc) needs the 'scale' extra: pip install 'nfkg[scale]'"]


def _cli(*commands: list[str]) -> list[dict]:
    """Run ``nfkg`` commands in one light-install subprocess: each one's status, stdout and stderr."""
    res = _run(f"""
        import contextlib, io, json
        from nfkg.cli import main
        out = []
        for args in {list(commands)!r}:
            o, e = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(o), contextlib.redirect_stderr(e):
                rc = main(args)
            out.append({{"rc": rc, "out": o.getvalue(), "err": e.getvalue()}})
        print(json.dumps(out))
        """)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.splitlines()[-1])


def test_commands_needing_an_extra_print_one_line(tmp_path):
    pt_only = tmp_path / "pt-only"
    shutil.copytree(dlpa.shipped_model(2).path, pt_only)
    (pt_only / dlpa.WEIGHTS_NPZ).unlink()  # a model saved by an older nfkg: its .pt alone
    two = str(EXAMPLES / "two_users.toml")
    cases = [
        (["train", "--users", "2", "--out", str(tmp_path / "m")], "nfkg train needs the 'train' extra: "
                                                                 "pip install 'nfkg[train]'"),
        (["sweep", str(EXAMPLES / "sweep.toml"), "--out", str(tmp_path / "s")],
         "nfkg sweep needs the 'scale' extra: pip install 'nfkg[scale]'"),
        (["sweep", str(EXAMPLES / "sweep.toml"), "--out", str(tmp_path / "s"), "--workers", "2"],
         "nfkg sweep needs the 'scale' extra: pip install 'nfkg[scale]'"),
        (["map", two, "--scheme", "svd", "--grid", "4x4", "--out", str(tmp_path / "map")],
         "nfkg map needs the 'scale' extra: pip install 'nfkg[scale]'"),
        (["evaluate", two, "--scheme", "svd-dlpa", "--model", str(pt_only)],
         f"KGSVD-Net model: reading {pt_only / dlpa.WEIGHTS} (a PyTorch file, without its NumPy copy "
         "kgsvd-net.npz) needs the 'train' extra: pip install 'nfkg[train]'"),
    ]
    rt = ["rt", "free-space", "--users", "10,0.1", "--eves", "9.9,0.1", "--out", str(tmp_path / "rt.npz")]
    *results, rt_res = _cli(*(args for args, _ in cases), rt)
    for (args, line), res in zip(cases, results):
        assert res["rc"] == 1 and res["out"] == "", (args, res)
        assert res["err"].splitlines() == [f"nfkg: error: {line}"], args
    assert rt_res["rc"] == 1 and len(rt_res["err"].splitlines()) == 1 and "nfkg[rt]" in rt_res["err"]
    assert not (tmp_path / "s").exists() and not (tmp_path / "map").exists()  # refused before any work


def test_core_commands_run_without_extras(tmp_path):
    two = str(EXAMPLES / "two_users.toml")
    ev, fig = _cli(["evaluate", two, "--scheme", "svd-dlpa", "--json"],
                   ["figure", "c3", "--out", str(tmp_path / "c3"), "--format", "png", "--param", "pt_dbm=[0,30]"])
    assert ev["rc"] == 0 and fig["rc"] == 0, (ev["err"], fig["err"])
    ref = evaluate(Scenario.from_dbm(ULA(256, 30e9), users=[(12.0, -0.6), (13.0, 0.6)],
                                     eves=[(11.98, -0.6), (12.98, 0.6)], pt_dbm=20), "svd-dlpa")
    assert json.loads(ev["out"])["sum_skr"] == pytest.approx(float(ref.sum_skr), rel=1e-9)
    assert (tmp_path / "c3" / "c3.png").stat().st_size > 0
