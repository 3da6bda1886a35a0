"""Tests of the ``nfkg`` command line (nfkg.cli)."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path

import pytest

from nfkg.cli import main, parse_param
from nfkg.schemes.precoding import scheme_names

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
TWO = str(EXAMPLES / "two_users.toml")
ONE = str(EXAMPLES / "single_user.toml")
NODES = 'users = [ {r = 12.2, psi = 0.2} ]\neves = [ {r = 12.0, psi = 0.2} ]\n'
COMMANDS = ["evaluate", "figure", "reproduce", "schemes", "info"]
PAPER_SCHEMES = ["ras", "mrc", "svd", "svd-pa"]


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def assert_usage_error(code: int, out: str, err: str, *needles: str) -> str:
    """Exit 2, nothing on stdout, exactly one ``nfkg: error:`` line on stderr."""
    assert code == 2, (out, err)
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("nfkg: error: ")
    assert "Traceback" not in err and "Usage:" not in err
    for needle in needles:
        assert needle in lines[0]
    return lines[0]


# --------------------------------------------------------------------------- help
@pytest.mark.parametrize("args", [["--help"], ["-h"], *[[c, "--help"] for c in COMMANDS]])
def test_help(capsys, args):
    code, out, err = run(capsys, *args)
    assert code == 0 and err == ""
    assert out.startswith("Usage: nfkg")
    # help points at what ships with the package (README sections, docs/), not at SPEC.md
    assert "SPEC" not in out
    if args[0] in ("evaluate", "figure", "reproduce"):
        assert "--scoring [general|per-user]" in out and "J(19)" in out


def test_no_command_prints_help(capsys):
    code, out, _ = run(capsys)
    assert code == 0
    for command in COMMANDS:
        assert command in out


def test_version(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0 and "nfkg" in out


# --------------------------------------------------------------------------- evaluate
@pytest.mark.parametrize("scenario, k", [(TWO, 2), (ONE, 1)])
@pytest.mark.parametrize("scheme", PAPER_SCHEMES)
def test_evaluate_json(capsys, scenario, k, scheme):
    code, out, err = run(capsys, "evaluate", scenario, "--scheme", scheme, "--json")
    assert code == 0 and err == ""
    assert len(out.splitlines()) == 1
    obj = json.loads(out)
    assert list(obj) == ["scheme", "shaping", "scoring", "sum_skr", "users"]
    assert obj["scheme"] == scheme and obj["scoring"] == "general"
    if scheme.startswith("svd"):
        assert obj["shaping"] == ("matched" if k == 1 else "isotropic")  # the papers' default
    assert len(obj["users"]) == k
    for user in obj["users"]:
        assert set(user) == {"skr", "p_a", "p_s", "p_n"}
        assert user["skr"] >= 0
        assert user["p_a"] == pytest.approx(user["p_s"] + user["p_n"], rel=1e-12, abs=1e-300)
    assert obj["sum_skr"] == pytest.approx(sum(u["skr"] for u in obj["users"]), rel=1e-12)
    p_max = 0.1 if k == 2 else 1.0
    assert sum(u["p_a"] for u in obj["users"]) == pytest.approx(p_max, rel=1e-6)


def test_evaluate_json_matches_library(capsys):
    from nfkg.schemes.precoding import evaluate
    from nfkg.model.scenario_file import load_scenario

    for scoring in ("general", "per-user"):
        code, out, _ = run(capsys, "evaluate", TWO, "-s", "svd-pa", "--shaping", "matched", "--scoring", scoring,
                           "--json")
        assert code == 0
        ref = evaluate(load_scenario(TWO), "svd-pa", "matched", scoring=scoring).to_dict()
        assert json.loads(out) == {**ref, "scoring": scoring}


def test_evaluate_scoring_in_table_and_bad_value(capsys):
    code, out, _ = run(capsys, "evaluate", TWO, "-s", "svd-pa", "--scoring", "per-user")
    assert code == 0 and "(isotropic shaping, per-user scoring)" in out.splitlines()[0]
    code, out, _ = run(capsys, "evaluate", TWO, "-s", "mrc")
    assert code == 0 and "(general scoring)" in out.splitlines()[0]
    assert_usage_error(*run(capsys, "evaluate", TWO, "-s", "mrc", "--scoring", "j19"), "--scoring", "j19")


def test_evaluate_table(capsys):
    code, out, err = run(capsys, "evaluate", TWO, "--scheme", "svd")
    assert code == 0 and err == ""
    obj = json.loads(run(capsys, "evaluate", TWO, "--scheme", "svd", "--json")[1])
    assert "sum SKR" in out and f"{obj['sum_skr']:.5f}" in out
    assert "P_a [dBm]" in out and "P_n [W]" in out
    assert "16.99" in out  # P_a = 50 mW per user ...
    assert "13.98" in out  # ... split into P_s = P_n = 25 mW
    # MRC: no jamming power, printed as -inf dBm
    _, out, _ = run(capsys, "evaluate", ONE, "--scheme", "mrc")
    assert "-inf" in out and "30.00" in out


# --------------------------------------------------------------------------- bad input
def write(tmp_path: Path, text: str, name: str = "scenario.toml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


BAD_FILES = [
    # (file text, substrings the error line must contain)
    ("eves = [ {r = 12.0, psi = 0.2} ]\n", ["users", "missing"]),
    ("antenas = 256\n" + NODES, ["unknown key 'antenas'"]),
    ("users = [ {r = -1.0, psi = 0.2} ]\neves = [ {r = 12.0, psi = 0.2} ]\n", ["users[0].r", "> 0"]),
    ("users = [ {r = 0, psi = 0.2} ]\neves = [ {r = 12.0, psi = 0.2} ]\n", ["users[0].r"]),
    ("users = [ {r = 12.2, psi = 0.2} ]\neves = [ {r = 12.0, psi = 1.58} ]\n", ["eves[0].psi", "pi/2"]),
    ("antennas = 0\n" + NODES, ["antennas"]),
    ('pt_dbm = "abc"\n' + NODES, ["pt_dbm", "'abc'"]),
    ("pt_dbm = 100\n" + NODES, ["pt_dbm"]),
    ("antennas = = 3\n" + NODES, ["invalid TOML"]),
    ("users = [ {r = 12.2, psi = 0.2} ]\neves = []\n", ["eves"]),
]


@pytest.mark.parametrize("command", ["evaluate", "info"])
@pytest.mark.parametrize("text, needles", BAD_FILES)
def test_bad_file_exits_2_with_one_line(capsys, tmp_path, command, text, needles):
    path = write(tmp_path, text)
    extra = ["--scheme", "svd"] if command == "evaluate" else []
    line = assert_usage_error(*run(capsys, command, path, *extra), *needles)
    assert path in line


@pytest.mark.parametrize("command", ["evaluate", "info"])
def test_missing_file(capsys, tmp_path, command):
    missing = str(tmp_path / "missing.toml")
    extra = ["--scheme", "svd"] if command == "evaluate" else []
    line = assert_usage_error(*run(capsys, command, missing, *extra))
    assert line == f"nfkg: error: {missing}: no such file"


@pytest.mark.parametrize("scheme", ["svd", "svd-pa"])
def test_too_few_antennas_for_svd(capsys, tmp_path, scheme):
    text = ("antennas = 2\nusers = [ {r = 12.0, psi = -0.6}, {r = 13.0, psi = 0.6} ]\n"
            "eves = [ {r = 11.98, psi = -0.6}, {r = 12.98, psi = 0.6} ]\n")
    path = write(tmp_path, text)
    line = assert_usage_error(*run(capsys, "evaluate", path, "--scheme", scheme), "antennas", "2K-1")
    assert path in line
    # MRC needs no null space: the same file is fine
    assert run(capsys, "evaluate", path, "--scheme", "mrc", "--json")[0] == 0


@pytest.mark.parametrize("args, needles", [
    (["evaluate", TWO, "--scheme", "nope"], ["--scheme", "nope", "svd-pa"]),
    (["evaluate", TWO], ["--scheme"]),
    (["evaluate"], ["SCENARIO"]),
    (["evaluate", TWO, "--scheme", "svd", "--shaping", "round"], ["--shaping", "round"]),
    (["evaluate", TWO, "--scheme", "svd", "--bogus"], ["--bogus"]),
    (["no-such-command"], ["no-such-command"]),
    (["info"], ["SCENARIO"]),
    (["figure", "c3"], ["--out"]),
    (["figure", "c3", "--out", "x", "--param", "n_ant"], ["--param", "KEY=VALUE"]),
    (["figure", "c3", "--out", "x", "--param", "=3"], ["--param"]),
    (["figure", "c3", "--out", "x", "--param", "n_ant="], ["--param", "n_ant"]),
    (["figure", "c3", "--out", "x", "-p", "a=1", "-p", "a=2"], ["--param", "'a'"]),
    (["figure", "c3", "--out", "x", "--format", "png,bmpx"], ["--format", "bmpx"]),
    (["reproduce"], ["--out"]),
    (["figure", "c3", "--out", "x", "--scoring", "all"], ["--scoring", "all"]),
    (["reproduce", "--out", "x", "--scoring", "all"], ["--scoring", "all"]),
])
def test_bad_arguments(capsys, args, needles):
    assert_usage_error(*run(capsys, *args), *needles)


def test_console_script_has_no_traceback(tmp_path):
    """The real process: exit status 2 and one stderr line."""
    code = "import sys; from nfkg.cli import main; sys.exit(main())"
    proc = subprocess.run([sys.executable, "-c", code, "evaluate", str(tmp_path / "missing.toml"), "-s", "svd"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [f"nfkg: error: {tmp_path / 'missing.toml'}: no such file"]


# --------------------------------------------------------------------------- schemes, info
def test_schemes(capsys):
    from nfkg.schemes.precoding import get_scheme

    code, out, _ = run(capsys, "schemes")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == len(scheme_names())
    for line, name in zip(lines, scheme_names()):
        assert line.split()[0] == name
        assert get_scheme(name).description in line


def test_info(capsys, tmp_path):
    code, out, err = run(capsys, "info", TWO)
    assert code == 0 and err == ""
    assert "256" in out
    assert "324.900 m (J)" in out and "327.453 m (C)" in out  # 2 D^2 / lambda at 30 GHz
    assert "8.920 m (J)" in out                             # 0.62 sqrt(D^3 / lambda)
    assert out.count("radiative near field") == 4
    # a far node and a reactive-field node
    path = write(tmp_path, "users = [ {r = 400.0, psi = 0.1} ]\neves = [ {r = 1.0, psi = 0.1} ]\n")
    code, out, _ = run(capsys, "info", path)
    assert code == 0
    assert "far field" in out and "reactive near field" in out
    assert "radiative near field" not in out


# --------------------------------------------------------------------------- figure, reproduce
def test_parse_param():
    assert parse_param("n_ant=512") == ("n_ant", 512)
    assert parse_param("pt_dbm=[0,10,20]") == ("pt_dbm", [0, 10, 20])
    assert parse_param("x = 1.5e3") == ("x", 1500.0)
    assert parse_param("flag=true") == ("flag", True)
    assert parse_param('name="svd"') == ("name", "svd")
    assert parse_param("scheme=svd-pa") == ("scheme", "svd-pa")
    assert parse_param("a=b=c") == ("a", "b=c")
    for bad in ("n_ant", "=1", "n_ant="):
        with pytest.raises(ValueError):
            parse_param(bad)


@pytest.fixture
def fake_figures(monkeypatch):
    """Stand-ins for nfkg.studies.experiments, nfkg.studies.plotting and nfkg.studies.report."""
    calls: dict[str, list] = {"run_figure": [], "save_figure": [], "reproduce": []}

    experiments = types.ModuleType("nfkg.studies.experiments")
    experiments.figure_ids = lambda: ["c3", "c4", "c5", "j4", "j5", "t1"]

    def run_figure(fig_id, overrides, scoring="general", progress=None):
        calls["run_figure"].append((fig_id, overrides, scoring))
        return {"id": fig_id}

    experiments.run_figure = run_figure
    experiments.monte_carlo_steps = lambda fig_id, overrides=None: 0

    plotting = types.ModuleType("nfkg.studies.plotting")

    def save_figure(data, out_dir, formats=("png", "pdf")):
        calls["save_figure"].append((data, Path(out_dir), tuple(formats)))
        return [Path(out_dir) / f"{data['id']}.{f}" for f in formats]

    plotting.save_figure = save_figure

    report = types.ModuleType("nfkg.studies.report")

    def reproduce(out_dir, ids=None, progress=True, scoring="general"):
        calls["reproduce"].append((Path(out_dir), ids, progress, scoring))
        return Path(out_dir) / "report.md"

    report.reproduce = reproduce
    for name, mod in (("experiments", experiments), ("plotting", plotting), ("report", report)):
        monkeypatch.setitem(sys.modules, f"nfkg.studies.{name}", mod)
    return calls


def test_figure(capsys, tmp_path, fake_figures):
    out_dir = tmp_path / "figs"
    code, out, err = run(capsys, "figure", "C3", "--out", str(out_dir),
                         "--param", "n_ant=512", "-p", "pt_dbm=[0,10,20]", "-p", "scheme=svd-pa")
    assert code == 0, err
    assert fake_figures["run_figure"] == [("c3", {"n_ant": 512, "pt_dbm": [0, 10, 20], "scheme": "svd-pa"},
                                           "general")]
    assert fake_figures["save_figure"] == [({"id": "c3"}, out_dir, ("png", "pdf"))]
    assert out.splitlines() == [str(out_dir / "c3.png"), str(out_dir / "c3.pdf")]
    assert out_dir.is_dir()


def test_figure_format(capsys, tmp_path, fake_figures):
    code, out, _ = run(capsys, "figure", "j5", "--out", str(tmp_path), "--format", "svg,png",
                       "--scoring", "per-user")
    assert code == 0
    assert fake_figures["save_figure"][0][2] == ("svg", "png")
    assert fake_figures["run_figure"] == [("j5", {}, "per-user")]


def test_figure_unknown_id(capsys, tmp_path, fake_figures):
    assert_usage_error(*run(capsys, "figure", "z9", "--out", str(tmp_path)), "z9", "c3, c4")
    assert fake_figures["run_figure"] == []


def test_figure_value_error_from_experiments(capsys, tmp_path, fake_figures, monkeypatch):
    def bad(fig_id, overrides, scoring="general", progress=None):
        raise ValueError("unknown parameter 'n_antt' for figure c3")

    monkeypatch.setattr(sys.modules["nfkg.studies.experiments"], "run_figure", bad)
    assert_usage_error(*run(capsys, "figure", "c3", "--out", str(tmp_path), "-p", "n_antt=3"), "n_antt")


def test_reproduce(capsys, tmp_path, fake_figures):
    code, out, _ = run(capsys, "reproduce", "--out", str(tmp_path / "r"))
    assert code == 0
    code, out, _ = run(capsys, "reproduce", "--out", str(tmp_path / "r"), "--only", "c3, J5,c3",
                       "--scoring", "per-user")
    assert code == 0
    assert fake_figures["reproduce"] == [(tmp_path / "r", None, True, "general"),
                                         (tmp_path / "r", ["c3", "j5"], True, "per-user")]
    assert str(tmp_path / "r" / "report.md") in out


def test_reproduce_bad_ids(capsys, tmp_path, fake_figures, monkeypatch):
    assert_usage_error(*run(capsys, "reproduce", "--out", str(tmp_path), "--only", "c3,,j5"), "--only")
    assert fake_figures["reproduce"] == []

    def reproduce(out_dir, ids=None, progress=True, scoring="general"):
        raise ValueError(f"ids: unknown id {ids[-1]!r}")

    monkeypatch.setattr(sys.modules["nfkg.studies.report"], "reproduce", reproduce)
    assert_usage_error(*run(capsys, "reproduce", "--out", str(tmp_path), "--only", "c3,x1"), "x1")


def test_missing_module_is_one_line(capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "nfkg.studies.experiments", None)
    code, out, err = run(capsys, "figure", "c3", "--out", str(tmp_path))
    assert code == 1 and out == ""
    assert err.splitlines() == ["nfkg: error: nfkg.studies.experiments is not available in this installation"]
