"""Never a traceback: every bad input is one ``nfkg: error:`` line naming the key (issue 7).

Bad input exits with status 2, anything else (out of memory, recursion, Ctrl-C, a
non-finite result, a bug) with status 1; warnings never reach the terminal. The
bounds come from one table (``nfkg.model.limits``) shared by the scenario file, the
``--param`` overrides and the Python API.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import nfkg.schemes.precoding
from nfkg.model import limits
from nfkg.model.channel import ULA
from nfkg.cli import main
from nfkg.studies.experiments import resolve_params
from nfkg.model.scenario import Scenario
from nfkg.model.scenario_file import ScenarioError, parse_scenario

ROOT = Path(__file__).resolve().parents[1]
ONE = str(ROOT / "examples" / "single_user.toml")
TWO = str(ROOT / "examples" / "two_users.toml")
NODES = "users = [ {r = 12.2, psi = 0.2} ]\neves = [ {r = 12.0, psi = 0.2} ]\n"
NODES2 = ("users = [ {r = 12.0, psi = -0.6}, {r = 13.0, psi = 0.6} ]\n"
          "eves = [ {r = 11.98, psi = -0.6}, {r = 12.98, psi = 0.6} ]\n")
REPORT = "(please report this at the project's issue tracker)"


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(code: int, out: str, err: str, expected_code: int = 2) -> str:
    """The exit status, nothing on stdout, exactly one ``nfkg: error:`` line on stderr."""
    assert code == expected_code, (code, out, err)
    assert out == ""
    assert "Traceback" not in err and "Traceback" not in out and "Usage:" not in err
    assert "Warning" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("nfkg: error: ")
    return lines[0]


def nodes(k: int) -> str:
    us = ", ".join(f"{{r = {10.0 + i}, psi = 0.01}}" for i in range(k))
    es = ", ".join(f"{{r = {10.5 + i}, psi = 0.02}}" for i in range(k))
    return f"users = [ {us} ]\neves = [ {es} ]\n"


# --------------------------------------------------------------------------- scenario files
D3 = ULA(3, 30e9).spacing  # an outer antenna of a 3-antenna array sits at x = d
FILES = [
    # (id, file text, scheme, substrings of the error line)
    # the known tracebacks of issue 7
    ("huge-antennas", "antennas = 1000000000000\n" + NODES, "mrc",
     ["antennas: must be an integer between 1 and 65,536 (got 1000000000000)"]),
    ("pilot-10**400", f"pilot_length = {10**400}\n" + NODES, "mrc",
     ["pilot_length: must be an integer between 1 and 1,000,000 (got a 401-digit integer)"]),
    ("carrier-1e-300", "carrier_ghz = 1e-300\n" + NODES, "mrc", ["carrier_ghz: must be between 0.1 and 1,000 GHz"]),
    ("deep-array", "a = " + "[" * 1000 + "]" * 1000 + "\n" + NODES, "mrc", ["invalid TOML", "nested too deeply"]),
    ("r-1e200", "users = [ {r = 1e200, psi = 0.2} ]\neves = [ {r = 12.0, psi = 0.2} ]\n", "mrc",
     ["users[0].r: must be > 0 and <= 10,000 m (got 1e+200)"]),
    ("int-5000-digits", "pt_dbm = 1" + "0" * 5000 + "\n" + NODES, "mrc", ["invalid TOML", "4300 digits"]),
    # the old bad-input list
    ("missing-key", "eves = [ {r = 12.0, psi = 0.2} ]\n", "svd", ["users: missing required key"]),
    ("misspelt-key", "antenas = 256\n" + NODES, "svd", ["unknown key 'antenas' (did you mean 'antennas'?)"]),
    ("negative-r", "users = [ {r = -1.0, psi = 0.2} ]\neves = [ {r = 12.0, psi = 0.2} ]\n", "svd",
     ["users[0].r: must be > 0"]),
    ("second-user-r", NODES2.replace("r = 13.0", "r = -13.0"), "svd", ["users[1].r: must be > 0"]),
    ("svd-needs-2k-1", "antennas = 2\n" + NODES2, "svd", ["antennas: SVD precoding needs N >= 2K-1"]),
    ("non-numeric-power", 'pt_dbm = "abc"\n' + NODES, "svd", ["pt_dbm: must be a number, not a string (got 'abc')"]),
    ("string-antennas", 'antennas = "256"\n' + NODES, "svd", ["antennas: must be an integer, not a string"]),
    ("bool-antennas", "antennas = true\n" + NODES, "svd", ["antennas: must be an integer, not a boolean"]),
    ("float-antennas", "antennas = 256.0\n" + NODES, "svd", ["antennas: must be an integer (got 256.0)"]),
    ("eve-count", "users = [ {r = 12.2, psi = 0.2} ]\neves = []\n", "svd", ["eves"]),
    ("eve-count-2", NODES2.replace("eves = [ {r = 11.98, psi = -0.6}, ", "eves = [ "), "svd",
     ["eves: need exactly one Eve per user"]),
    ("nan-power", "ue_dbm = nan\n" + NODES, "svd", ["ue_dbm: must be a finite number (got nan)"]),
    # every bound, low and high
    ("carrier-high", "carrier_ghz = 1001\n" + NODES, "mrc", ["carrier_ghz: must be between 0.1 and 1,000 GHz"]),
    ("antennas-high", "antennas = 65537\n" + NODES, "mrc", ["antennas: must be an integer between 1 and 65,536"]),
    ("antennas-low", "antennas = 0\n" + NODES, "mrc", ["antennas: must be an integer between 1 and 65,536"]),
    ("spacing-low", "spacing_wavelengths = 0.001\n" + NODES, "mrc", ["spacing_wavelengths: must be between 0.01"]),
    ("spacing-high", "spacing_wavelengths = 101\n" + NODES, "mrc", ["spacing_wavelengths: must be between 0.01"]),
    ("pathloss-low", "pathloss_exponent = -1\n" + NODES, "mrc", ["pathloss_exponent: must be between 0 and 6"]),
    ("pathloss-high", "pathloss_exponent = 6.5\n" + NODES, "mrc", ["pathloss_exponent: must be between 0 and 6"]),
    ("pt-high", "pt_dbm = 200\n" + NODES, "mrc", ["pt_dbm: must be between -50 and 60 dBm (got 200)"]),
    ("pt-low", "pt_dbm = -51\n" + NODES, "mrc", ["pt_dbm: must be between -50 and 60 dBm"]),
    ("ue-high", "ue_dbm = 61\n" + NODES, "mrc", ["ue_dbm: must be between -50 and 60 dBm"]),
    ("noise-low", "noise_dbm = -1000\n" + NODES, "mrc", ["noise_dbm: must be between -200 and 60 dBm"]),
    ("noise-e-high", "noise_e_dbm = 61\n" + NODES, "mrc", ["noise_e_dbm: must be between -200 and 60 dBm"]),
    ("pilot-high", "pilot_length = 1000001\n" + NODES, "mrc", ["pilot_length: must be an integer between 1"]),
    ("pilot-low", "pilot_length = 0\n" + NODES, "mrc", ["pilot_length: must be an integer between 1"]),
    ("r-high", "users = [ {r = 10000.5, psi = 0.2} ]\neves = [ {r = 12.0, psi = 0.2} ]\n", "mrc",
     ["users[0].r: must be > 0 and <= 10,000 m"]),
    ("psi-high", "users = [ {r = 12.0, psi = 0.2} ]\neves = [ {r = 12.0, psi = 1.6} ]\n", "mrc",
     ["eves[0].psi: must be between -pi/2 and pi/2 rad (got 1.6)"]),
    ("too-many-users", nodes(65), "mrc", ["users: must hold at most 64 {r, psi} tables (got 65)"]),
    ("on-an-antenna", f"antennas = 3\nusers = [ {{r = {D3!r}, psi = {math.pi / 2!r}}} ]\n"
                      "eves = [ {r = 12.0, psi = 0.2} ]\n", "mrc", ["users[0]: sits on an antenna"]),
    ("near-an-antenna", f"antennas = 3\nusers = [ {{r = 12.0, psi = 0.2}} ]\n"
                        f"eves = [ {{r = {D3 + 5e-4!r}, psi = {math.pi / 2!r}}} ]\n", "mrc",
     ["eves[0]: sits on an antenna", "at least 1 mm"]),
    ("invalid-toml", "antennas = = 3\n" + NODES, "mrc", ["invalid TOML"]),
]


@pytest.mark.parametrize("text, scheme, needles", [f[1:] for f in FILES], ids=[f[0] for f in FILES])
def test_bad_scenario_file(capsys, tmp_path, text, scheme, needles):
    path = tmp_path / "scenario.toml"
    path.write_text(text, encoding="utf-8")
    line = one_error_line(*run(capsys, "evaluate", str(path), "--scheme", scheme, "--json"))
    assert line.startswith(f"nfkg: error: {path}: ")
    for needle in needles:
        assert needle in line


@pytest.mark.parametrize("command", ["evaluate", "info"])
def test_bad_file_objects(capsys, tmp_path, command):
    extra = ["--scheme", "mrc"] if command == "evaluate" else []
    missing = tmp_path / "missing.toml"
    assert one_error_line(*run(capsys, command, str(missing), *extra)) == f"nfkg: error: {missing}: no such file"
    line = one_error_line(*run(capsys, command, str(tmp_path), *extra))
    assert str(tmp_path) in line and "directory" in line
    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes(b"# r\xe9seau\n" + NODES.encode())
    line = one_error_line(*run(capsys, command, str(latin1), *extra))
    assert str(latin1) in line and "not UTF-8" in line


def test_bounds_are_inclusive(capsys, tmp_path):
    text = (f"carrier_ghz = 0.1\nantennas = 1\nspacing_wavelengths = 100\npathloss_exponent = 6\npt_dbm = 60\n"
            f"ue_dbm = -50\nnoise_dbm = -200\nnoise_b_dbm = 60\npilot_length = 1000000\n"
            f"users = [ {{r = 10000.0, psi = {math.pi / 2!r}}} ]\neves = [ {{r = 5.0, psi = {-math.pi / 2!r}}} ]\n")
    path = tmp_path / "edge.toml"
    path.write_text(text)
    code, out, err = run(capsys, "info", str(path))
    assert code == 0 and err == "", err
    path.write_text("antennas = 65536\n" + nodes(64))
    code, out, err = run(capsys, "info", str(path))
    assert code == 0 and err == "", err


# --------------------------------------------------------------------------- --param
PARAMS = [
    # (figure, --param, substrings of the error line)
    ("c4", 'n_ant="256"', ["c4.n_ant: must be an integer, not a string (got '256')"]),
    ("c4", "n_ant=100000000", ["c4.n_ant: must be an integer between 1 and 65,536 (got 100000000)"]),
    ("c4", "n_ant=true", ["c4.n_ant: must be an integer, not a boolean"]),
    ("c4", "n_ant=2.5", ["c4.n_ant: must be an integer (got 2.5)"]),
    ("c4", f"n_ant={10**400}", ["c4.n_ant:", "401-digit integer"]),
    ("c4", "noise_dbm=-1000", ["c4.noise_dbm: must be between -200 and 60 dBm (got -1000)"]),
    ("c4", "pt_dbm=200", ["c4.pt_dbm: must be between -50 and 60 dBm (got 200)"]),
    ("c4", "pathloss_exponent=-1", ["c4.pathloss_exponent: must be between 0 and 6 (got -1)"]),
    ("c4", "carrier_ghz=1e-300", ["c4.carrier_ghz: must be between 0.1 and 1,000 GHz"]),
    ("c4", "spacing_wavelengths=1000", ["c4.spacing_wavelengths: must be between 0.01 and 100"]),
    ("c4", "pilot_length=0", ["c4.pilot_length: must be an integer between 1 and 1,000,000"]),
    ("c4", "r_e=[5, -1]", ["c4.r_e[1]: must be > 0 and <= 10,000 m (got -1)"]),
    ("c4", "r_b=1e200", ["c4.r_b:", "<= 10,000 m"]),
    ("c4", "psi_b=2", ["c4.psi_b: must be between -pi/2 and pi/2 rad (got 2)"]),
    ("c4", "pt_dbm=nan", ["c4.pt_dbm: must be a finite number (got nan)"]),
    ("c4", "pt_dbm=[1, true]", ["c4.pt_dbm[1]: must be a number, not a boolean"]),
    ("c4", 'shaping="round"', ["c4.shaping", "'round'"]),
    ("c4", "n_antennas=3", ["n_antennas", "known keys"]),
    ("j6", "dr=[-20]", ["j6.dr: r_e = r_b + dr must be > 0"]),
    ("j4", "dpsi=[0.2]", ["j4.dpsi: psi_e = psi_b + dpsi must be between -pi/2 and pi/2"]),
    ("j7", "n_ant=[32, 100000]", ["j7.n_ant[1]: must be an integer between 1 and 65,536"]),
    ("j8", "n_users=[65]", ["j8.n_users[0]: must be an integer between 1 and 64"]),
    ("j8", "n_users=[7]", ["j8.n_users: K = 7 needs at least 7 entries"]),
    ("j5", "r_b=[12, 13, 14]", ["j5.r_b: need one value per user"]),
    ("c4", "pt_dbm=" + "[" * 1000 + "]" * 1000, ["--param", "pt_dbm", "nested too deeply"]),
    ("c4", "n_ant=1" + "0" * 5000, ["--param", "n_ant", "4300 digits"]),
]


@pytest.mark.parametrize("fig, param, needles", PARAMS, ids=[p[1][:30] for p in PARAMS])
def test_bad_param(capsys, tmp_path, fig, param, needles):
    line = one_error_line(*run(capsys, "figure", fig, "--out", str(tmp_path / "out"), "--param", param))
    for needle in needles:
        assert needle in line
    assert not list((tmp_path / "out").glob("*.*"))  # nothing was computed nor written


# --------------------------------------------------------------------------- internal errors
@pytest.mark.parametrize("exc, expected", [
    (MemoryError("Unable to allocate 7.28 TiB"), "internal error: MemoryError: Unable to allocate 7.28 TiB " + REPORT),
    (RecursionError("maximum recursion depth exceeded"),
     "internal error: RecursionError: maximum recursion depth exceeded " + REPORT),
    (OverflowError("int too large\nto convert"), "internal error: OverflowError: int too large to convert " + REPORT),
    (RuntimeError(), "internal error: RuntimeError " + REPORT),
    (KeyboardInterrupt(), "aborted"),
])
def test_internal_errors_are_one_line_exit_1(capsys, monkeypatch, exc, expected):
    def boom(*args, **kwargs):
        raise exc

    monkeypatch.setattr(nfkg.schemes.precoding, "evaluate", boom)
    line = one_error_line(*run(capsys, "evaluate", ONE, "--scheme", "mrc"), expected_code=1)
    assert line == f"nfkg: error: {expected}"


@pytest.mark.parametrize("as_json", [True, False])
def test_non_finite_result_is_an_internal_error(capsys, monkeypatch, as_json):
    real = nfkg.schemes.precoding.evaluate

    class NaNs:
        def __init__(self, ev):
            self.ev = ev

        def to_dict(self):
            out = self.ev.to_dict()
            out["users"][0]["skr"] = float("nan")
            out["sum_skr"] = float("nan")
            return out

    monkeypatch.setattr(nfkg.schemes.precoding, "evaluate", lambda *a, **k: NaNs(real(*a, **k)))
    args = ["evaluate", ONE, "--scheme", "mrc"] + (["--json"] if as_json else [])
    line = one_error_line(*run(capsys, *args), expected_code=1)
    assert line.startswith("nfkg: error: internal error: non-finite result: sum_skr = nan")
    assert line.endswith(REPORT)


def test_warnings_are_silenced_in_process(capsys, monkeypatch):
    import warnings

    real = nfkg.schemes.precoding.evaluate

    def noisy(*args, **kwargs):
        warnings.warn("a noisy warning", RuntimeWarning)
        np.log(np.zeros(2))
        return real(*args, **kwargs)

    monkeypatch.setattr(nfkg.schemes.precoding, "evaluate", noisy)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        code, out, err = run(capsys, "evaluate", TWO, "--scheme", "svd-pa", "--json")
    assert code == 0 and err == ""
    assert json.loads(out)["scoring"] == "general"


def test_console_script_shows_no_warning(tmp_path):
    """The real process, with every warning switched on: a clean stdout, nothing on stderr."""
    (tmp_path / "sitecustomize.py").write_text(textwrap.dedent("""
        import warnings
        import numpy as np
        import nfkg.schemes.precoding as p

        _real = p.evaluate

        def evaluate(*args, **kwargs):
            warnings.warn("NOISY TEST WARNING", RuntimeWarning)
            np.log(np.zeros(2))
            return _real(*args, **kwargs)

        p.evaluate = evaluate
    """))
    script = Path(sys.executable).with_name("nfkg")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "nfkg.cli"]
    env = {**os.environ, "PYTHONWARNINGS": "always",
           "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([*cmd, "evaluate", ONE, "--scheme", "mrc", "--json"],
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert json.loads(proc.stdout)["scheme"] == "mrc"


# --------------------------------------------------------------------------- Python API
GOOD = dict(users=[(12.2, 0.2)], eves=[(12.0, 0.2)], pt_dbm=20.0)


@pytest.mark.parametrize("kwargs, message", [
    (dict(pt_dbm=np.nan), "pt_dbm: must be a finite number"),
    (dict(pt_dbm=200), "pt_dbm: must be between -50 and 60 dBm"),
    (dict(pt_dbm=10**400), "pt_dbm: must be between -50 and 60 dBm (got a 401-digit integer)"),
    (dict(pt_dbm="20"), "pt_dbm: must be a number, not a string"),
    (dict(pt_dbm=[10, 70]), "pt_dbm[1]: must be between -50 and 60 dBm (got 70)"),
    (dict(ue_dbm=-60), "ue_dbm: must be between -50 and 60 dBm"),
    (dict(noise_dbm=-1000), "noise_dbm: must be between -200 and 60 dBm"),
    (dict(noise_e_dbm=True), "noise_e_dbm: must be a number, not a boolean"),
    (dict(pilot_length=True), "pilot_length: must be an integer, not a boolean"),
    (dict(pilot_length=0), "pilot_length: must be an integer between 1 and 1,000,000"),
    (dict(users=[(-1.0, 0.2)]), "users[0].r: must be > 0 and <= 10,000 m (got -1.0)"),
    (dict(users=[(1e200, 0.2)]), "users[0].r: must be > 0 and <= 10,000 m"),
    (dict(eves=[(12.0, 2.0)]), "eves[0].psi: must be between -pi/2 and pi/2 rad (got 2.0)"),
    (dict(eves=[(12.0, 0.2), (13.0, 0.2)]), "eves: need exactly one Eve per user"),
    (dict(users=[(12.0, 0.2)] * 65, eves=[(11.0, 0.2)] * 65), "users: must hold at most 64 users (got 65)"),
    (dict(users=[12.0, 0.2]), "users: must be given as (r, psi) pairs"),
])
def test_from_dbm_names_the_argument(kwargs, message):
    with pytest.raises(ValueError) as info:
        Scenario.from_dbm(ULA(8, 30e9), **(GOOD | kwargs))
    assert str(info.value).startswith(message)


@pytest.mark.parametrize("ula, message", [
    (ULA(8, 1e6), "ula.carrier_hz: must be between 1e+08 and 1e+12 Hz (0.1 to 1,000 GHz)"),
    (ULA(True, 30e9), "ula.n_ant: must be an integer, not a boolean"),
    (ULA(10**12, 30e9), "ula.n_ant: must be an integer between 1 and 65,536"),
    (ULA(8, 30e9, 0.0), "ula.spacing_wavelengths: must be between 0.01 and 100"),
    (ULA(8, 30e9, 0.5, -1.0), "ula.pathloss_exponent: must be between 0 and 6"),
])
def test_ula_errors_name_the_argument(ula, message):
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(")", r"\)").replace("+", r"\+")):
        Scenario.from_dbm(ula, **GOOD)


def test_constructor_names_its_arguments():
    s = Scenario.from_dbm(ULA(8, 30e9), **GOOD)
    for field, value, message in [("p_max", 0.0, "p_max: must be between 1e-08 and 1000 W"),
                                  ("sigma2_e", 1e-30, "sigma2_e: must be between 1e-23 and 1000 W"),
                                  ("r_b", [-1.0], "r_b[0]: must be > 0"),
                                  ("psi_e", [2.0], "psi_e[0]: must be between -pi/2 and pi/2")]:
        kw = {name: getattr(s, name) for name in ("r_b", "psi_b", "r_e", "psi_e", "p_max", "p_b",
                                                   "sigma2_a", "sigma2_b", "sigma2_e")}
        kw[field] = value
        with pytest.raises(ValueError) as info:
            Scenario(ula=s.ula, pilot_length=1, **kw)
        assert str(info.value).startswith(message)


def test_one_table_for_file_param_and_api():
    """The same bound, the same words, from the three entry points."""
    with pytest.raises(ScenarioError, match=r"^s\.toml: antennas: must be an integer between 1 and 65,536"):
        parse_scenario({"antennas": 70000, "users": [{"r": 12.2, "psi": 0.2}], "eves": [{"r": 12, "psi": 0.2}]},
                       source="s.toml")
    with pytest.raises(ValueError, match=r"^c3\.n_ant: must be an integer between 1 and 65,536"):
        resolve_params("c3", {"n_ant": 70000})
    with pytest.raises(ValueError, match=r"^ula\.n_ant: must be an integer between 1 and 65,536"):
        Scenario.from_dbm(ULA(70000, 30e9), **GOOD)
    for fig_key, row in limits.FIGURE_LIMITS.items():
        assert row is limits.LIMITS.get(row.key) or fig_key in ("dr", "dpsi", "rounds", "seed")


def test_docs_document_every_key():
    guide = (ROOT / "docs" / "guides" / "scenario-files.md").read_text(encoding="utf-8")
    table = guide.split("## Every key", 1)[1].split("\n## ", 1)[0]
    for key in limits.LIMITS:
        if key not in ("r", "psi"):
            assert f"`{key}`" in table, key
    for needle in ("65,536", "1,000,000", "0.1 ... 1,000", "0.01 ... 100", "0 ... 6", "-50 ... 60",
                   "-200 ... 60", "> 0 and <= 10,000", "-pi/2 ... pi/2", "1 ... 64", "1 mm"):
        assert needle in table, needle
