"""Shared fixtures: the papers' geometries; the benchmark scripts as modules."""

import sys
from pathlib import Path

import numpy as np
import pytest

from nfkg.model.channel import ULA
from nfkg.model.scenario import Scenario


@pytest.fixture
def c3_scenario():
    """C Fig. 3 geometry at P_t = 30 dBm (single user, Eve 20 cm closer on the same angle)."""
    return Scenario.from_dbm(ULA(256, 30e9), users=[(12.2, 0.2)], eves=[(12.0, 0.2)], pt_dbm=30)


@pytest.fixture
def j5_scenario():
    """J Fig. 5 geometry over a small P_t sweep (two users, Eves 2 cm closer)."""
    return Scenario.from_dbm(ULA(256, 30e9), users=[(12, -0.6), (13, 0.6)],
                             eves=[(11.98, -0.6), (12.98, 0.6)], pt_dbm=np.array([0.0, 15.0, 30.0]))


def random_scenario(rng, n_ant=64, n_users=2, pt_dbm=20.0, batch=()):
    """Users and Eves at random near-field positions (3-20 m, |psi| < 1.2)."""
    shape = (*batch, n_users)
    users = np.stack([rng.uniform(3, 20, shape), rng.uniform(-1.2, 1.2, shape)], -1)
    eves = np.stack([rng.uniform(3, 20, shape), rng.uniform(-1.2, 1.2, shape)], -1)
    return Scenario.from_dbm(ULA(n_ant, 30e9), users=users, eves=eves, pt_dbm=pt_dbm)


BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def bench_module(name: str):
    """Import ``benchmarks/<name>.py`` (a script, not a package) with the folder on the path
    only while it loads."""
    import importlib

    sys.path.insert(0, str(BENCHMARKS))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(BENCHMARKS))
