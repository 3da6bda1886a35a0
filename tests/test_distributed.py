"""Dask executor: a LocalCluster on loopback gives the in-process results bit for bit,
and a worker that dies mid-sweep loses no finished chunk."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

from nfkg.scale.executor import DaskExecutor, InProcess, get_executor  # noqa: E402
from nfkg.scale.maps import MapSpec, map_grid, secrecy_map  # noqa: E402
from nfkg.scale.sweep import parse_sweep, read_results, run_sweep  # noqa: E402

BASE = {"antennas": 64, "pt_dbm": 20,
        "users": [{"r": 6.0, "psi": -0.3}, {"r": 7.0, "psi": 0.4}],
        "eves": [{"r": 5.98, "psi": -0.3}, {"r": 6.9, "psi": 0.4}]}


@pytest.fixture(scope="module")
def client():
    from nfkg.scale.executor import local_cluster

    cluster = local_cluster(2)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def _sweep(**kw):
    d = {"base": BASE, "schemes": ["mrc", "svd", "svd-pa", "svd-opt"], "chunk": 2, "rounds": 200, "seeds": [0, 1],
         "sweep": {"pt_dbm": [0, 15, 30], "eves[0].r": [5.9, 5.98]}}
    d.update(kw)
    return parse_sweep(d)


def test_sweep_on_a_local_cluster_equals_in_process(client, tmp_path):
    sw = _sweep(rounds=100, seeds=[3])
    run_sweep(sw, tmp_path / "here")
    with DaskExecutor(client=client) as ex:
        assert ex.workers == 2
        info = run_sweep(sw, tmp_path / "dask", executor=ex)
    assert info["complete"] and info["computed"] == len(sw.chunks())
    assert read_results(tmp_path / "dask").equals(read_results(tmp_path / "here"))


def test_map_on_a_local_cluster_equals_in_process(client):
    from nfkg import parse_scenario

    scen = parse_scenario(BASE)
    x, y = map_grid((-6, 6, 0.5, 8), (9, 8))
    spec = MapSpec(scen, ("svd", "svd-pa"), user=2)
    here = secrecy_map(spec, x, y, chunk=10)
    with DaskExecutor(client=client) as ex:
        there = secrecy_map(spec, x, y, executor=ex, chunk=10)
    for name in spec.schemes:
        assert np.array_equal(here.skr[name], there.skr[name])


def test_a_dying_worker_loses_no_finished_chunk(client, tmp_path):
    sw = _sweep(chunk=1, rounds=600, seeds=[0])
    pids = client.run(os.getpid)
    victim = sorted(pids.values())[0]
    before: dict[str, int] = {}
    chunks = tmp_path / "d" / "chunks"

    def progress(n):
        if not before:  # once the first finished chunk is on disk: kill a worker process
            before.update({p.name: p.stat().st_mtime_ns for p in chunks.glob("*.parquet")})
            os.kill(victim, signal.SIGKILL)

    with DaskExecutor(client=client) as ex:
        info = run_sweep(sw, tmp_path / "d", executor=ex, progress=progress)
    assert before and info["complete"] and info["computed"] == len(sw.chunks())
    after = {p.name: p.stat().st_mtime_ns for p in chunks.glob("*.parquet")}
    assert {k: after.get(k) for k in before} == before  # finished chunks kept, never rewritten
    run_sweep(sw, tmp_path / "ref")
    assert read_results(tmp_path / "d").equals(read_results(tmp_path / "ref"))
    client.wait_for_workers(2, timeout=60)


def test_get_executor_defaults_and_errors():
    assert isinstance(get_executor(), InProcess)
    with pytest.raises(ValueError, match="exactly one"):
        DaskExecutor(workers=1, scheduler="tcp://127.0.0.1:1")
    with pytest.raises(ValueError, match="^scheduler: cannot connect"):
        DaskExecutor(scheduler="tcp://127.0.0.1:1", timeout=1)


def test_cli_workers_start_a_local_cluster(tmp_path, capsys):
    from nfkg.cli import main

    (tmp_path / "base.toml").write_text('antennas = 32\nusers = [{r = 5, psi = 0.1}]\neves = [{r = 4.9, psi = 0.1}]\n')
    (tmp_path / "s.toml").write_text('base = "base.toml"\nschemes = ["svd", "svd-pa"]\nchunk = 2\n'
                                     '[sweep]\npt_dbm = [0, 10, 20]\n')
    assert main(["sweep", str(tmp_path / "s.toml"), "--out", str(tmp_path / "w"), "--workers", "2", "-q"]) == 0
    assert main(["sweep", str(tmp_path / "s.toml"), "--out", str(tmp_path / "h"), "-q"]) == 0
    capsys.readouterr()
    assert read_results(tmp_path / "w").equals(read_results(tmp_path / "h"))


def test_cli_scheduler_runs_on_an_existing_cluster(client, tmp_path, capsys):
    from nfkg.cli import main

    (tmp_path / "base.toml").write_text('antennas = 32\nusers = [{r = 5, psi = 0.1}]\neves = [{r = 4.9, psi = 0.1}]\n')
    (tmp_path / "s.toml").write_text('base = "base.toml"\nschemes = ["mrc", "svd-pa"]\nchunk = 1\n'
                                     '[sweep]\npt_dbm = [0, 10, 20]\n')
    addr = client.scheduler.address
    assert main(["sweep", str(tmp_path / "s.toml"), "--out", str(tmp_path / "c"), "--scheduler", addr, "-q"]) == 0
    assert main(["sweep", str(tmp_path / "s.toml"), "--out", str(tmp_path / "h"), "-q"]) == 0
    f = tmp_path / "m.toml"
    f.write_text('antennas = 32\nusers = [{r = 5, psi = 0.1}]\neves = [{r = 4.9, psi = 0.1}]\n')
    assert main(["map", str(f), "-s", "svd", "--grid", "6x5", "--chunk", "7", "--scheduler", addr,
                 "--out", str(tmp_path / "map"), "-q"]) == 0
    capsys.readouterr()
    assert read_results(tmp_path / "c").equals(read_results(tmp_path / "h"))
    assert client.scheduler_info()["workers"]  # the cluster is still up after the command
