"""The fast paths of the multilevel posteriors (nfkg.protocol.multilevel): shared cell edges and
several levels from one evaluation of the candidates, against the cell-by-cell computation
(bit for bit) and against high-precision and brute-force references."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from nfkg.protocol import multilevel as ml


def _mp_mass(lo: float, hi: float, mu: float, s: float) -> float:
    """P(lo <= X < hi), X ~ N(mu, s^2), in 50-digit arithmetic."""
    with mpmath.workdps(50):
        z = [mpmath.mpf(t - mu) / s if np.isfinite(t) else mpmath.mpf(t) for t in (lo, hi)]
        if z[0] > 0:                      # upper tail: 1 - Phi(z) = Phi(-z), no cancellation
            return float(mpmath.ncdf(-z[0]) - mpmath.ncdf(-z[1]))
        return float(mpmath.ncdf(z[1]) - mpmath.ncdf(z[0]))


@pytest.mark.parametrize("s", [0.05, 0.7, 6.0])
def test_run_of_cells_equals_cell_by_cell_bit_for_bit(s):
    """Consecutive cells (shared edges) give the very numbers of the cell-by-cell masses, the
    end cells, cells outside [0, L) and the cell straddling the mean included."""
    rng = np.random.default_rng(3)
    q = ml.UniformQuantizer(step=0.25, bits=6, sigma=1.0)
    n, nk = 400, 23
    mu = rng.uniform(-10, 10, n)
    mu[:5] = [0.0, -8.0, 8.0, 0.25 * 3, -0.25 * 32]           # on an edge, beyond both ends
    q0 = np.floor(mu / q.step + q.levels / 2) - rng.integers(0, nk, n)
    q0[:3] = [-30, -5, 60]                                     # runs starting outside [0, L)
    cells = q0[:, None].astype(np.int64) + np.arange(nk)
    want = ml._cell_prob(cells, mu[:, None], s, q)
    got = ml._run_prob(q0, nk, mu, s, q)
    assert np.array_equal(got, want)
    assert np.all(got >= 0)


def test_run_of_cells_against_high_precision():
    """Cell masses to full relative precision in both tails (50-digit reference)."""
    q = ml.UniformQuantizer(step=0.4, bits=5, sigma=1.0)
    mu = np.array([0.13, -2.9])
    s = 0.3
    q0 = np.array([0.0, 0.0])
    got = ml._run_prob(q0, q.levels, mu, s, q)
    t = np.concatenate([[-np.inf], q.thresholds, [np.inf]])
    for r in range(mu.size):
        for j in range(q.levels):
            ref = _mp_mass(t[j], t[j + 1], mu[r], s)
            if ref > 1e-300:
                assert got[r, j] == pytest.approx(ref, rel=1e-12, abs=1e-17)
            else:
                assert got[r, j] < 1e-290


def test_many_levels_from_one_evaluation_equal_one_at_a_time():
    """_posteriors of all levels above the known ones equals level_posteriors level by level
    (bit for bit: Eve's decoder takes them from one evaluation), in the window, run and
    uniform branches, with and without the tail mixture."""
    rng = np.random.default_rng(7)
    q = ml.design_quantizer(1 - 1e-4, 1.0)
    n = 3000
    mu = rng.normal(0, 1, n)
    lower = q.index(mu + rng.normal(0, 0.01, n))
    for s, known, tail, window in [(0.0141, 3, None, ml.EVE_WINDOW), (0.3, 2, ml.TAIL, None),
                                   (0.08, 0, None, ml.EVE_WINDOW), (2.0, 5, ml.TAIL, 5.5)]:
        levels = tuple(range(known, q.bits))
        many = ml._posteriors(mu, s, lower, levels, q, tail, known, window)
        assert sorted(many) == list(levels)
        for i in levels:
            one = ml.level_posteriors(mu, s, lower, i, q, tail, known=known, window=window)
            assert np.array_equal(many[i], one), (s, known, i)


def test_levels_summed_over_unknown_ones_against_enumeration():
    """With known < i, the posterior of B_i sums over the unknown levels between: equal to a
    brute-force sum over every cell that matches the known levels."""
    from scipy.special import ndtr

    rng = np.random.default_rng(11)
    q = ml.UniformQuantizer(step=0.3, bits=6, sigma=1.0)
    n, s, known = 300, 0.9, 2
    mu = rng.normal(0, 2.0, n)
    lower = rng.integers(0, q.levels, n)
    edges = np.concatenate([[-np.inf], q.thresholds, [np.inf]])
    cells = ndtr((edges[None, 1:] - mu[:, None]) / s) - ndtr((edges[None, :-1] - mu[:, None]) / s)
    idx = np.arange(q.levels)
    match = (idx[None, :] & ((1 << known) - 1)) == (lower & ((1 << known) - 1))[:, None]
    levels = tuple(range(known, q.bits))
    got = ml._posteriors(mu, s, lower, levels, q, None, known, None)
    for i in levels:
        num = (cells * match * ((idx >> i) & 1)[None, :]).sum(1)
        den = (cells * match).sum(1)
        np.testing.assert_allclose(got[i], num / den, atol=1e-12)


@pytest.mark.parametrize("s, tail", [(0.005, ml.TAIL), (0.02, None), (0.003, ml.TAIL)])
def test_masses_kept_from_level_to_level_change_nothing(s, tail):
    """The multistage decoder's memo (the candidates of level i+1 are every other one of level i)
    gives the posteriors computed from scratch, bit for bit, whatever bits were decoded below,
    across a change of the tail model and a level computed without it."""
    rng = np.random.default_rng(int(s * 1e4))
    q = ml.UniformQuantizer(step=0.4 * 0.005, bits=12, sigma=1.0)
    n = 5000
    x = rng.normal(0, 1, n)
    mu = x + rng.normal(0, 0.005, n)
    q_hat = q.index(x) ^ (rng.random(n) < 0.05).astype(np.int64)     # some wrong decoded bits
    memo: dict = {}
    for i in range(q.bits):
        t = None if i == 4 else tail
        lower = q_hat & ((1 << i) - 1)
        got = ml._posteriors(mu, s, lower, (i,), q, t, i, None, memo)[i]
        want = ml.level_posteriors(mu, s, lower, i, q, t)
        assert np.array_equal(got, want), i
    assert memo["masses"] is not None


def test_compiled_posteriors_equal_numpy_bit_for_bit(monkeypatch):
    """The numba kernel (fast extra) gives NumPy's posteriors bit for bit: Gaussian and tail
    mixture, known levels summed over, runs of consecutive cells, rows of more than 128
    candidates (NumPy's pairwise sum split in halves), and the multistage memo."""
    pytest.importorskip("numba")
    rng = np.random.default_rng(13)
    q = ml.design_quantizer(1 - 1e-5, 1.0)                         # 12 bits, step 0.0018
    s_ref = float(np.sqrt(1 - (1 - 1e-5) ** 2))
    n = 3000
    x = rng.normal(size=n)
    mu = x + rng.normal(size=n) * s_ref
    lower = q.index(x) ^ (rng.random(n) < 0.02).astype(np.int64)

    def both(f):
        monkeypatch.setenv("NFKG_NO_NUMBA", "1")
        ref = f()
        monkeypatch.delenv("NFKG_NO_NUMBA")
        assert ml._compiled()
        return ref, f()

    for s, tail, known, window, levels in [
            (s_ref, ml.TAIL, 4, None, (4,)), (s_ref, None, 3, None, (3,)),
            (40 * s_ref, None, 3, ml.EVE_WINDOW, tuple(range(3, 12))),       # > 128 candidates per row
            (300 * s_ref, ml.TAIL, 2, None, tuple(range(2, 12))),           # runs of consecutive cells
            (s_ref, ml.TAIL, 0, None, (0, 1))]:
        ref, got = both(lambda: ml._posteriors(mu, s, lower, levels, q, tail, known, window))
        for i in levels:
            assert np.array_equal(ref[i], got[i]), (s, known, i)
    memo_ref, memo_got = {}, {}
    for i in range(3, q.bits):
        lw = lower & ((1 << i) - 1)
        memo = iter((memo_ref, memo_got))
        ref, got = both(lambda: ml._posteriors(mu, s_ref, lw, (i,), q, ml.TAIL, i, None, next(memo))[i])
        assert np.array_equal(ref, got), i
    assert memo_got["masses"] is not None


def test_numpy_pairwise_sum_reproduced():
    """The kernel's summation is NumPy's row sum bit for bit, for every length up to 600."""
    pytest.importorskip("numba")
    from nfkg.protocol import _ml_numba

    rng = np.random.default_rng(3)
    for n in list(range(0, 140)) + [255, 256, 257, 383, 513, 600]:
        a = rng.random(n) * 10.0 ** rng.uniform(-30, 0, n)
        assert _ml_numba._pairwise(a, 0, n) == a.reshape(1, -1).sum(axis=1)[0], n
