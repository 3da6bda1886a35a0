"""Sweeps (nfkg.scale.sweep, `nfkg sweep`): points, seeds, values, chunks, resumption."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from nfkg import evaluate, parse_scenario
from nfkg.cli import main
from nfkg.scale.sweep import SweepError, load_sweep, parse_sweep, read_results, run_sweep

# Reading and validating a sweep needs nothing but the core; running one writes Parquet (the 'scale' extra).
needs_scale = pytest.mark.skipif(any(importlib.util.find_spec(m) is None for m in ("pyarrow", "pandas")),
                                 reason="needs pyarrow and pandas (pip install 'nfkg[scale]')")

BASE = {"antennas": 64, "pt_dbm": 20,
        "users": [{"r": 6.0, "psi": -0.3}, {"r": 7.0, "psi": 0.4}],
        "eves": [{"r": 5.98, "psi": -0.3}, {"r": 6.9, "psi": 0.4}]}


def _sweep(**kw):
    d = {"base": BASE, "schemes": ["ras", "svd", "svd-pa"], "chunk": 3,
         "sweep": {"pt_dbm": [0, 15, 30], "eves[1].r": [6.5, 6.9]}}
    d.update(kw)
    return parse_sweep(d)


def test_points_are_the_cartesian_product():
    sw = _sweep(seeds=[0, 5])
    assert len(sw.points) == 3 * 2 * 2
    p = sw.points[1]
    assert p.values == {"pt_dbm": 0, "eves[1].r": 6.9} and p.seed == 0
    assert p.config["eves"][1]["r"] == 6.9 and p.config["pt_dbm"] == 0
    assert sw.points[6].seed == 5 and sw.points[6].values == sw.points[0].values
    # a point's seed depends on the point only (not on its index or the other points)
    other = parse_sweep({"base": BASE, "schemes": ["svd"], "sweep": {"eves[1].r": [6.9], "pt_dbm": [0]}})
    assert other.points[0].point_seed() == p.point_seed()
    assert sw.points[6].point_seed() != sw.points[0].point_seed()


@needs_scale
def test_values_equal_the_engine(tmp_path):
    sw = _sweep()
    run_sweep(sw, tmp_path)
    df = read_results(tmp_path)
    assert len(df) == len(sw.points) * 3 and list(df.columns[:3]) == ["point", "pt_dbm", "eves[1].r"]
    for _, row in df.iloc[::4].iterrows():
        scen = parse_scenario(sw.points[int(row.point)].config)
        ev = evaluate(scen, row.scheme)
        np.testing.assert_array_equal(np.asarray(row.skr), ev.skr)
        assert row.sum_skr == pytest.approx(float(ev.sum_skr), rel=1e-15)
        np.testing.assert_allclose(np.asarray(row.p_a), ev.result.p_a, rtol=1e-15)


@needs_scale
def test_chunk_size_does_not_change_a_bit(tmp_path):
    a = _sweep(chunk=1, rounds=64, schemes=["mrc", "svd-pa", "svd-opt"])
    b = _sweep(chunk=4, rounds=64, schemes=["mrc", "svd-pa", "svd-opt"])
    run_sweep(a, tmp_path / "a")
    run_sweep(b, tmp_path / "b")
    da, db = read_results(tmp_path / "a"), read_results(tmp_path / "b")
    assert da.equals(db)
    assert "kdr" in da.columns and all(0 <= v <= 1 for v in np.concatenate(da.kdr.to_numpy()))


@needs_scale
def test_resume_computes_only_missing_chunks(tmp_path):
    sw = _sweep()
    first = run_sweep(sw, tmp_path / "r", max_chunks=1)
    assert first["computed"] == 1 and not first["complete"] and first["results"] is None
    stamp = (tmp_path / "r" / "chunks" / "chunk-000000.parquet").stat().st_mtime_ns
    second = run_sweep(sw, tmp_path / "r", csv=True)
    assert second["reused"] == 1 and second["computed"] == second["chunks"] - 1 and second["complete"]
    assert (tmp_path / "r" / "chunks" / "chunk-000000.parquet").stat().st_mtime_ns == stamp
    run_sweep(sw, tmp_path / "full")
    assert read_results(tmp_path / "r").equals(read_results(tmp_path / "full"))
    assert (tmp_path / "r" / "results.csv").read_text().count("\n") == len(sw.points) * 3 + 1
    with pytest.raises(SweepError, match="different sweep"):
        run_sweep(_sweep(schemes=["svd"]), tmp_path / "r")


@pytest.mark.parametrize("change, words", [
    ({"sweep": {"pt_dbm": []}}, "sweep.pt_dbm: needs at least one value"),
    ({"sweep": {"bogus": [1]}}, "sweep.bogus: 'bogus' is not a scenario key"),
    ({"sweep": {"eves[5].r": [1.0]}}, "no eves[5]"),
    ({"sweep": {"pt_dbm": [20, 70]}}, "point 1 (pt_dbm=70): pt_dbm"),
    ({"schemes": ["nope"]}, "schemes: unknown scheme 'nope'"),
    ({"schemes": []}, "schemes"),
    ({"seeds": [-1]}, "seeds"),
    ({"jamming": "loud"}, "jamming: must be one of"),
    ({"extra": 1}, "extra"),
    ({"base": "missing.toml"}, "base: cannot read"),
])
def test_bad_sweeps_name_the_key(change, words):
    d = {"base": BASE, "schemes": ["svd"], "sweep": {"pt_dbm": [20]}}
    d.update(change)
    with pytest.raises(SweepError) as e:
        parse_sweep(d)
    msg = str(e.value)
    assert words in msg and "\n" not in msg


SWEEP_FILE = """base = "base.toml"
schemes = ["svd", "svd-pa"]
chunk = {chunk}
rounds = {rounds}
[sweep]
pt_dbm = {pts}
"eves[0].r" = [5.9, 5.98]
"""
BASE_FILE = """antennas = 64
users = [ {r = 6.0, psi = -0.3}, {r = 7.0, psi = 0.4} ]
eves = [ {r = 5.98, psi = -0.3}, {r = 6.9, psi = 0.4} ]
"""


def _files(tmp_path: Path, chunk=2, rounds=0, pts="[0, 10, 20]") -> Path:
    (tmp_path / "base.toml").write_text(BASE_FILE)
    f = tmp_path / "sweep.toml"
    f.write_text(SWEEP_FILE.format(chunk=chunk, rounds=rounds, pts=pts))
    return f


@needs_scale
def test_cli_sweep(tmp_path, capsys):
    f = _files(tmp_path)
    rc = main(["sweep", str(f), "--out", str(tmp_path / "o"), "--csv", "-q"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    assert "6 points x 2 schemes in 3 chunks" in out.out
    assert (tmp_path / "o" / "results.parquet").exists() and (tmp_path / "o" / "results.csv").exists()
    rc = main(["sweep", str(f), "--out", str(tmp_path / "o"), "-q"])
    assert rc == 0 and "0 computed now" in capsys.readouterr().out
    (tmp_path / "bad.toml").write_text('base = "base.toml"\nschemes = ["svd"]\n[sweep]\nantennas = [1]\n')
    rc = main(["sweep", str(tmp_path / "bad.toml"), "--out", str(tmp_path / "b")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "point 0 (antennas=1)" in err[0]


@needs_scale
def test_killed_sweep_resumes_to_the_same_table(tmp_path):
    f = _files(tmp_path, chunk=1, rounds=3000, pts="[0, 5, 10, 15, 20, 25, 30]")
    out = tmp_path / "killed"
    chunks = out / "chunks"
    proc = subprocess.Popen([sys.executable, "-m", "nfkg.cli", "sweep", str(f), "--out", str(out), "-q"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if chunks.exists() and len(list(chunks.glob("*.parquet"))) >= 2:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the sweep finished before it could be killed; make it longer"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = sorted(p.name for p in chunks.glob("*.parquet"))
    assert 2 <= len(done) < 14 and not (out / "results.parquet").exists()
    assert main(["sweep", str(f), "--out", str(out), "-q"]) == 0
    assert main(["sweep", str(f), "--out", str(tmp_path / "whole"), "-q"]) == 0
    assert read_results(out).equals(read_results(tmp_path / "whole"))


def test_the_example_sweep_file_is_valid():
    sw = load_sweep(Path(__file__).resolve().parents[1] / "examples" / "sweep.toml")
    assert len(sw.points) == 7 * 3 * 3 and sw.config.schemes == ["mrc", "svd", "svd-pa"]


@needs_scale
def test_linked_keys_sweep_the_number_of_users(tmp_path):
    one = ([{"r": 6.0, "psi": -0.3}], [{"r": 5.98, "psi": -0.3}])
    two = (BASE["users"], BASE["eves"])
    sw = parse_sweep({"base": BASE, "schemes": ["svd", "svd-pa"], "chunk": 3,
                      "sweep": {"pt_dbm": [0, 20], "users, eves": [list(one), list(two)]}})
    assert len(sw.points) == 4 and sw.points[1].values["eves"] == two[1]
    run_sweep(sw, tmp_path)
    df = read_results(tmp_path)
    assert list(df.K) == [1, 1, 2, 2, 1, 1, 2, 2]
    row = df.iloc[2]
    scen = parse_scenario(sw.points[int(row.point)].config)
    np.testing.assert_array_equal(np.asarray(row.skr), evaluate(scen, "svd").skr)
    with pytest.raises(SweepError, match=r"sweep.users, eves\[0\]: linked keys take a list of 2"):
        parse_sweep({"base": BASE, "schemes": ["svd"], "sweep": {"users, eves": [[1]]}})
    with pytest.raises(SweepError, match="'bogus' is not a scenario key"):
        parse_sweep({"base": BASE, "schemes": ["svd"], "sweep": {"users, bogus": [[1, 2]]}})
