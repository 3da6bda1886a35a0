"""Multilevel reconciliation (nfkg.protocol.multilevel): quantiser, posteriors, multistage decoding."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import ndtr

from nfkg.protocol import multilevel as ml
from nfkg.protocol.bounds import level_entropies
from nfkg.protocol.reconciliation import binary_entropy

OPTIONS = {"f_start": 1.25, "f_step": 0.1, "f_max": 3.0, "max_iter": 50}


def _pair(rho, n, seed=0):
    """Standard Gaussians (u, v) with correlation rho: u is the reference, v the other side."""
    rng = np.random.default_rng(seed)
    v = rng.standard_normal(n)
    u = rho * v + math.sqrt(1 - rho * rho) * rng.standard_normal(n)
    return u, v


def test_quantizer_cells_and_thresholds():
    q = ml.UniformQuantizer(step=0.5, bits=3, sigma=2.0)
    assert q.levels == 8
    np.testing.assert_allclose(q.thresholds, [-1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5])
    x = np.array([-100.0, -3.0, -2.0 - 1e-9, -2.0, -1e-9, 0.0, 2.9, 3.0, 100.0])  # sigma 2: thresholds x 2
    np.testing.assert_array_equal(q.index(x), [0, 1, 1, 2, 3, 4, 6, 7, 7])  # t_j <= x < t_j+1
    np.testing.assert_array_equal(q.level_bits(np.array([5, 6]), 0), [1, 0])
    np.testing.assert_array_equal(q.level_bits(np.array([5, 6]), 2), [1, 1])


def test_design_quantizer_covers_the_range():
    for rho in (0.0, 0.5, 0.99, 0.9999, 1 - 1e-12, 1.0):
        q = ml.design_quantizer(rho, 1.0)
        assert 1 <= q.bits <= ml.MAX_BITS
        assert q.levels / 2 * q.step >= ml.RANGE_SIGMA - 1e-9          # +-7 sigma covered
        s = math.sqrt(max(1 - rho * rho, 0.0))
        if q.bits < ml.MAX_BITS:
            assert q.step == pytest.approx(ml.STEP * s)
    with pytest.raises(ValueError, match="step"):
        ml.design_quantizer(0.9, 1.0, step=0.0)


def test_level_posteriors_against_exact_enumeration():
    """Posteriors of each level equal a brute-force sum over all cells (no window)."""
    rng = np.random.default_rng(1)
    q = ml.UniformQuantizer(step=0.3, bits=5, sigma=1.0)
    mu = rng.normal(0, 1.5, 300)
    s = 0.4
    lower_q = rng.integers(0, 32, 300)
    edges = np.concatenate([[-np.inf], q.thresholds, [np.inf]])
    cells = ndtr((edges[None, 1:] - mu[:, None]) / s) - ndtr((edges[None, :-1] - mu[:, None]) / s)  # (n, 32)
    idx = np.arange(32)
    for i in range(5):
        lower = lower_q & ((1 << i) - 1)
        match = (idx[None, :] & ((1 << i) - 1)) == lower[:, None]
        num = (cells * match * ((idx >> i) & 1)[None, :]).sum(1)
        den = (cells * match).sum(1)
        ref = np.where(den > 0, num / np.where(den > 0, den, 1), 0.5)
        got = ml.level_posteriors(mu, s, lower, i, q)
        ok = den > 1e-12
        np.testing.assert_allclose(got[ok], ref[ok], atol=1e-9)


def test_posteriors_are_calibrated_monte_carlo():
    """Predicted error rate and soft entropy of each level match the Monte Carlo truth and the model."""
    rho = 0.9995
    u, v = _pair(rho, 100_000, seed=2)
    s = math.sqrt(1 - rho * rho)
    quant = ml.design_quantizer(rho, 1.0)
    qref = quant.index(u)
    h_model = level_entropies(rho, quant.thresholds)
    for i in range(quant.bits):
        p1 = ml.level_posteriors(rho * v, s, qref & ((1 << i) - 1), i, quant)
        pe = np.minimum(p1, 1 - p1)
        errs = np.mean((p1 > 0.5) != quant.level_bits(qref, i))
        sd = math.sqrt(max(pe.mean(), 1e-6) / u.size)
        assert abs(errs - pe.mean()) < 5 * sd + 1e-5, (i, errs, pe.mean())
        assert float(np.mean(binary_entropy(pe))) == pytest.approx(h_model[i], abs=0.01)


def _block(rho, n, seed, s_claimed=None):
    u, v = _pair(rho, n, seed)
    s = math.sqrt(1 - rho * rho)
    quant = ml.design_quantizer(rho, 1.0)
    qref = quant.index(u)
    h = level_entropies(rho, quant.thresholds)
    out = ml.reconcile_block(qref, rho * v, s if s_claimed is None else s_claimed, quant, seed, OPTIONS, h)
    return qref, v, quant, out, h


def test_multistage_decoding_recovers_the_reference_and_leaks_about_H():
    rho = 0.999
    qref, v, quant, out, h = _block(rho, 20_000, 3)
    assert out.success and np.array_equal(out.q_hat, qref)
    actions = [lev.action for lev in out.levels]
    assert actions[0] == "disclosed" and "coded" in actions
    n = qref.size
    assert out.leaked_bits == sum(lev.leaked_bits for lev in out.levels)
    # the leak is within 25 % of the Slepian-Wolf bound n H(Q | side) (levels summed)
    assert n * h.sum() <= out.leaked_bits <= 1.25 * n * h.sum()


def test_multilevel_decode_that_must_fail_says_so():
    """The decoder claims a conditional spread 5x smaller than the truth: a coded level fails."""
    rho = 0.999
    qref, v, quant, out, h = _block(rho, 10_000, 4, s_claimed=math.sqrt(1 - rho * rho) / 5)
    assert not out.success
    assert any(lev.action == "coded" and not lev.success for lev in out.levels)
    assert not np.array_equal(out.q_hat, qref)


def test_eve_multistage_decoding():
    """Eve with the user's own information decodes everything; Eve with none keeps only what was disclosed."""
    rho = 0.999
    qref, v, quant, out, h = _block(rho, 10_000, 5)
    s = math.sqrt(1 - rho * rho)
    q_e = ml.eve_block(qref, rho * v, s, quant, out)
    assert np.array_equal(q_e, qref)
    blind = ml.eve_block(qref, np.zeros(qref.size), 1.0, quant, out)
    disclosed = [lev.level for lev in out.levels if lev.action == "disclosed"]
    for i in range(quant.bits):
        agree = np.mean(quant.level_bits(blind, i) == quant.level_bits(qref, i))
        if i in disclosed:
            assert agree == 1.0
    assert np.mean(blind == qref) < 0.2
