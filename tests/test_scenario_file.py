"""Tests of the SPEC 10 scenario file (nfkg.model.scenario_file)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from nfkg.model.channel import ULA
from nfkg.model.scenario import Scenario
from nfkg.model.scenario_file import (
    ScenarioConfig,
    ScenarioError,
    load_config,
    load_scenario,
    parse_scenario,
)

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NOISE_W = 3.1622776601683794e-14  # -105 dBm
NODES = 'users = [ {r = 12.2, psi = 0.2} ]\neves = [ {r = 12.0, psi = 0.2} ]\n'


def write(tmp_path: Path, text: str, name: str = "scenario.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def error_of(path: Path) -> str:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    msg = str(info.value)
    assert "\n" not in msg
    return msg


# --------------------------------------------------------------------------- valid files
def test_spec10_example_round_trips():
    s = load_scenario(EXAMPLES / "two_users.toml")
    assert isinstance(s, Scenario)
    assert s.batch_shape == ()
    assert (s.n_ant, s.n_users, s.pilot_length) == (256, 2, 1)
    assert s.ula.carrier_hz == 30e9
    assert s.ula.spacing_wavelengths == 0.5
    assert s.ula.pathloss_exponent == 2.0
    np.testing.assert_array_equal(s.r_b, [12.0, 13.0])
    np.testing.assert_array_equal(s.psi_b, [-0.6, 0.6])
    np.testing.assert_array_equal(s.r_e, [11.98, 12.98])
    np.testing.assert_array_equal(s.psi_e, [-0.6, 0.6])
    assert float(s.p_max) == pytest.approx(0.1, rel=1e-15)
    assert float(s.p_b) == pytest.approx(0.1, rel=1e-15)
    for sigma2 in (s.sigma2_a, s.sigma2_b, s.sigma2_e):
        assert float(sigma2) == NOISE_W


def test_single_user_example():
    s = load_scenario(EXAMPLES / "single_user.toml")
    assert (s.n_ant, s.n_users) == (256, 1)
    assert float(s.p_max) == 1.0 and float(s.p_b) == 1.0
    np.testing.assert_array_equal(s.r_b, [12.2])
    np.testing.assert_array_equal(s.r_e, [12.0])
    np.testing.assert_array_equal(s.psi_b, [0.2])


def test_defaults_applied(tmp_path):
    s = load_scenario(write(tmp_path, NODES))
    assert s.ula == ULA(256, 30e9, 0.5, 2.0)
    assert s.pilot_length == 1
    assert float(s.p_max) == pytest.approx(0.1) and float(s.p_b) == float(s.p_max)
    assert float(s.sigma2_a) == float(s.sigma2_b) == float(s.sigma2_e) == NOISE_W
    cfg = load_config(tmp_path / "scenario.toml")
    assert cfg.ue_dbm is None and cfg.p_b_dbm == 20.0
    assert ScenarioConfig.model_fields["noise_dbm"].default == -105.0


def test_all_keys_and_split_noise(tmp_path):
    text = (
        "carrier_ghz = 28\nantennas = 100\nspacing_wavelengths = 0.25\npathloss_exponent = 2.5\n"
        "pt_dbm = 30\nue_dbm = 10\nnoise_dbm = -100\nnoise_a_dbm = -90\nnoise_e_dbm = -80\n"
        "pilot_length = 4\n" + NODES
    )
    s = load_scenario(write(tmp_path, text))
    assert s.ula == ULA(100, 28e9, 0.25, 2.5)
    assert s.pilot_length == 4
    assert float(s.p_max) == 1.0
    assert float(s.p_b) == pytest.approx(0.01, rel=1e-14)
    assert float(s.sigma2_a) == pytest.approx(1e-12, rel=1e-14)
    assert float(s.sigma2_b) == pytest.approx(1e-13, rel=1e-14)  # noise_dbm
    assert float(s.sigma2_e) == pytest.approx(1e-11, rel=1e-14)


def test_parse_scenario_dict():
    s = parse_scenario({"antennas": 64, "users": [{"r": 5, "psi": 0}], "eves": [{"r": 6, "psi": 0.1}]})
    assert s.n_ant == 64 and float(s.r_b[0]) == 5.0


def test_boundary_values_accepted(tmp_path):
    text = (f"pt_dbm = 60\nue_dbm = -50\nantennas = 1\n"
            f"users = [ {{r = 5.0, psi = {math.pi / 2!r}}} ]\neves = [ {{r = 6.0, psi = {-math.pi / 2!r}}} ]\n")
    s = load_scenario(write(tmp_path, text))
    assert float(s.p_max) == 1e3 and s.n_ant == 1


# --------------------------------------------------------------------------- invalid files
BAD = [
    # (file text, substrings the one-line message must contain)
    ("eves = [ {r = 12.0, psi = 0.2} ]\n", ["users", "missing"]),
    ("users = [ {r = 12.2, psi = 0.2} ]\n", ["eves", "missing"]),
    ("antenas = 256\n" + NODES, ["unknown key 'antenas'", "antennas"]),
    ("user = [ {r = 12.2, psi = 0.2} ]\neves = [ {r = 12.0, psi = 0.2} ]\n", ["unknown key 'user'"]),
    ("users = [ {r = -1.0, psi = 0.2} ]\neves = [ {r = 12.0, psi = 0.2} ]\n",
     ["users[0].r: must be > 0 and <= 10,000 m (got -1.0)"]),
    ("users = [ {r = 0.0, psi = 0.2} ]\neves = [ {r = 12.0, psi = 0.2} ]\n", ["users[0].r", "> 0"]),
    ("users = [ {r = 12.0, psi = 0.2} ]\neves = [ {r = 12.0, psi = 1.6} ]\n", ["eves[0].psi", "pi/2"]),
    ("users = [ {r = 12.0, psi = -2} ]\neves = [ {r = 12.0, psi = 0.2} ]\n", ["users[0].psi"]),
    ("users = [ {r = 12.0, phi = 0.2} ]\neves = [ {r = 12.0, psi = 0.2} ]\n", ["users[0]", "unknown key 'phi'"]),
    ("antennas = 0\n" + NODES, ["antennas", "integer between 1 and 65,536", "(got 0)"]),
    ("antennas = 2.5\n" + NODES, ["antennas", "integer"]),
    ("antennas = true\n" + NODES, ["antennas", "integer"]),
    ("pilot_length = 0\n" + NODES, ["pilot_length", "integer between 1 and 1,000,000"]),
    ('pt_dbm = "abc"\n' + NODES, ["pt_dbm", "number", "'abc'"]),
    ('pt_dbm = "20"\n' + NODES, ["pt_dbm", "number"]),
    ('noise_dbm = "abc"\n' + NODES, ["noise_dbm", "number"]),
    ("ue_dbm = nan\n" + NODES, ["ue_dbm", "finite"]),
    ("pt_dbm = inf\n" + NODES, ["pt_dbm", "finite"]),
    ("pt_dbm = 61\n" + NODES, ["pt_dbm", "-50", "60"]),
    ("ue_dbm = -51\n" + NODES, ["ue_dbm", "-50", "60"]),
    ("noise_b_dbm = 100\n" + NODES, ["noise_b_dbm"]),
    ("carrier_ghz = 0\n" + NODES, ["carrier_ghz", "between 0.1 and 1,000 GHz"]),
    ("spacing_wavelengths = -0.5\n" + NODES, ["spacing_wavelengths", "between 0.01 and 100"]),
    ("pathloss_exponent = -1\n" + NODES, ["pathloss_exponent"]),
    ("users = []\neves = []\n", ["users", "at least one"]),
    ("users = [ {r = 12.2, psi = 0.2} ]\neves = [ {r = 12.0, psi = 0.2}, {r = 13.0, psi = 0.2} ]\n",
     ["eves", "one Eve per user"]),
    ("users = {r = 12.2, psi = 0.2}\neves = [ {r = 12.0, psi = 0.2} ]\n", ["users", "list"]),
    ("users = [ 12.2 ]\neves = [ {r = 12.0, psi = 0.2} ]\n", ["users[0]", "table"]),
    ("users = [ {r = 12.2} ]\neves = [ {r = 12.0, psi = 0.2} ]\n", ["users[0].psi", "missing"]),
]


@pytest.mark.parametrize("text, needles", BAD)
def test_bad_values_name_file_and_key(tmp_path, text, needles):
    msg = error_of(write(tmp_path, text))
    assert msg.startswith(str(tmp_path / "scenario.toml") + ": ")
    for needle in needles:
        assert needle in msg


def test_error_format_matches_spec_example(tmp_path):
    path = write(tmp_path, "users = [ {r = -1.0, psi = 0.2} ]\neves = [ {r = 12.0, psi = 0.2} ]\n")
    with pytest.raises(ScenarioError) as info:
        parse_scenario({"users": [{"r": -1.0, "psi": 0.2}], "eves": [{"r": 12.0, "psi": 0.2}]},
                       source="scenario.toml")
    assert str(info.value) == "scenario.toml: users[0].r: must be > 0 and <= 10,000 m (got -1.0)"
    assert info.value.key == "users[0].r" and info.value.source == "scenario.toml"
    assert isinstance(info.value, ValueError)
    assert error_of(path).endswith("scenario.toml: users[0].r: must be > 0 and <= 10,000 m (got -1.0)")


def test_missing_file(tmp_path):
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "missing.toml")
    assert str(info.value) == f"{tmp_path / 'missing.toml'}: no such file"


def test_directory_is_not_a_file(tmp_path):
    assert "directory" in error_of(tmp_path)


@pytest.mark.parametrize("text", ["antennas = \n", "users = [ {r = 1, psi = 0} \n", "a = 1\na = 2\n", "[[[\n"])
def test_invalid_toml_is_one_line(tmp_path, text):
    msg = error_of(write(tmp_path, text))
    assert "scenario.toml: invalid TOML" in msg


def test_not_utf8(tmp_path):
    path = tmp_path / "scenario.toml"
    path.write_bytes(b"antennas = 256 # \xff\xfe\n")
    assert "scenario.toml: invalid TOML" in error_of(path)


def test_node_on_an_antenna_is_wrapped(tmp_path):
    # N = 3: the outer antennas sit at x = +-d, so a node at r = d, psi = pi/2 is on one.
    d = ULA(3, 30e9).spacing
    text = (f"antennas = 3\nusers = [ {{r = {d!r}, psi = {math.pi / 2!r}}} ]\n"
            "eves = [ {r = 12.0, psi = 0.2} ]\n")
    msg = error_of(write(tmp_path, text))
    assert msg.startswith(str(tmp_path / "scenario.toml") + ": users")
    assert "antenna" in msg
    with pytest.raises(ScenarioError, match=r"^s\.toml: users"):
        parse_scenario({"antennas": 3, "users": [{"r": d, "psi": math.pi / 2}],
                        "eves": [{"r": 12.0, "psi": 0.2}]}, source="s.toml")


def test_parse_scenario_rejects_non_table():
    with pytest.raises(ScenarioError, match="table"):
        parse_scenario([1, 2])  # type: ignore[arg-type]
