"""Smoke test of benchmarks/bench_scaling.py: one tiny point per sweep, every output written."""

from __future__ import annotations

import pytest
from conftest import bench_module


@pytest.fixture(scope="module")
def bench_scaling():
    return bench_module("bench_scaling")


def test_tiny_run_writes_every_output(bench_scaling, tmp_path):
    res = bench_scaling.run(n_sweep=(64, 128), k_sweep=(1,), schemes=("ras", "svd", "no-such-scheme"), rounds=1,
                            target_s=0.002, naive_max_s=0.5, verbose=False)
    pts = {(p["N"], p["K"]): p for p in res["points"]}
    assert set(pts) == {(64, 2), (128, 2), (256, 1)}
    row = pts[(64, 2)]["schemes"]["svd"]
    assert row["status"] == "ok" and row["us"] > 0 and row["ratio_floor"] > 0
    assert row["naive"]["nxn"]["rel_diff"] < 1e-6 and row["naive"]["matvec"]["rel_diff"] < 1e-6
    assert pts[(64, 2)]["schemes"]["no-such-scheme"]["status"] == "skipped"
    assert res["slopes"]["ras"]["N"]["all"] is not None and res["slopes"]["ras"]["K"]["all"] is None
    paths = bench_scaling.save(res, tmp_path)
    assert {p.name for p in paths} >= {"scaling.csv", "scaling.json"}
    assert "| ras |" in bench_scaling.markdown(res)
    assert (tmp_path / "scaling.csv").read_text().count("\n") >= 6
