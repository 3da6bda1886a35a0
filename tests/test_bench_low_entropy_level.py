"""Checks of benchmarks/bench_low_entropy_level.py: its level-4 channel is the model's (calibrated
posteriors, the model's level entropy) and its OSD-0 solves the syndrome and finds a planted word."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import bench_module


@pytest.fixture(scope="module")
def bench():
    return bench_module("bench_low_entropy_level")


def test_level_channel_is_the_model(bench):
    from nfkg.protocol.bounds import level_entropies
    from nfkg.protocol.multilevel import STEP, design_quantizer
    from nfkg.protocol.reconciliation import binary_entropy

    t, g, pe = bench.level_channel(200_000, 3)
    errors = int(np.count_nonzero(t != g))
    expected = float(pe.sum())
    assert abs(errors - expected) < 4.0 * np.sqrt(expected) + 2        # calibrated: Poisson count of the MAP errors
    h_model = level_entropies(bench.RHO, design_quantizer(bench.RHO, 1.0, STEP).thresholds)[bench.LEVEL]
    h_soft = float(np.mean(binary_entropy(pe)))
    assert abs(h_soft - h_model) < 0.1 * h_model                       # 0.0061: the model's level entropy


def test_osd0_solves_the_syndrome_and_finds_a_planted_word(bench):
    from nfkg.protocol.reconciliation import make_code

    rng = np.random.default_rng(0)
    n, m = 2000, 300
    code = make_code(n, m, 5, 3)
    truth = np.zeros(n, np.uint8)
    weak = rng.choice(n, 150, replace=False)                          # the least reliable bits, errors among them
    truth[weak[:20]] = 1
    target = code.syndrome(truth)
    order = np.concatenate([weak, np.setdiff1d(np.arange(n), weak)])
    e = bench.osd0(code.H.tocsc(), target, np.zeros(n, np.uint8), order)
    assert e is not None and np.array_equal(code.syndrome(e), target)
    assert np.array_equal(e, truth) or np.count_nonzero(e) > 20     # another word only if it is heavier
    # errors outside the pivot set: still a solution of the syndrome, not the planted word
    wrong = truth.copy()
    wrong[order[-3:]] = 1                                             # the most reliable bits: never pivots
    e2 = bench.osd0(code.H.tocsc(), code.syndrome(wrong), np.zeros(n, np.uint8), order)
    assert e2 is not None and np.array_equal(code.syndrome(e2), code.syndrome(wrong))
    assert not np.array_equal(e2, wrong)
