"""The compiled (numba) BP decoder against the NumPy one and against high-precision phi."""

import mpmath
import numpy as np
import pytest
from scipy.special import ndtr

from nfkg._extras import MissingExtra
from nfkg.protocol import bp, bp_kernel
from nfkg.protocol.reconciliation import binary_entropy, decode, degree_profile, make_code, reconcile

numba_only = pytest.mark.skipif(not bp_kernel.available(), reason="the 'fast' extra (numba) is not installed")


def _soft_pair(n, c, seed):
    """The user's bit flipped with probability p_i = Phi(-c U_i), U uniform (distance to a threshold)."""
    rng = np.random.default_rng(seed)
    p = ndtr(-c * rng.random(n))
    a = rng.integers(0, 2, n).astype(np.uint8)
    return a, a ^ (rng.random(n) < p).astype(np.uint8), p


def _problem(n, c, f, seed):
    a, b, p = _soft_pair(n, c, seed)
    h = float(np.mean(binary_entropy(p)))
    code = make_code(n, int(f * n * h), seed=seed + 1, column_weight=degree_profile(h, soft=True))
    target = code.syndrome(a) ^ code.syndrome(b)
    ch = np.clip(p, bp._P_FLOOR, 0.5)
    return a, b, code, target, np.log1p(-ch) - np.log(ch)


def test_phi_table_against_mpmath():
    """Interpolated phi within 1.4e-7 (interpolation: h^2 max|phi''| / 8 with x^2 phi''(x) <= 1.15) plus the
    float32 rounding of the table (6e-8 relative) of 30-digit phi over [1e-6, 50] at 2 10^4 log-spaced
    points; relative 2e-4 where phi is below 1e-3 (x > 7.6, where it is 2 e^-x)."""
    T, base = bp_kernel.phi_table()
    rng = np.random.default_rng(0)
    x = np.concatenate([10 ** rng.uniform(-6, np.log10(50), 20_000), [1e-6, 1e-3, 0.5, 1.0, 8.0, 49.999]])
    x = x.astype(np.float32)
    bits = x.view(np.int32)
    i = (bits >> 13) - base
    frac = (bits & 8191).astype(np.float32) / np.float32(8192)
    got = T[i].astype(np.float64) + frac * (T[i + 1].astype(np.float64) - T[i])
    mpmath.mp.dps = 30
    ref = np.array([float(-mpmath.log(mpmath.tanh(mpmath.mpf(float(v)) / 2))) for v in x])
    err = np.abs(got - ref)
    small = ref < 1e-3
    assert np.all(err[~small] <= 1.45e-7 + 6e-8 * ref[~small])
    assert (err[small] / ref[small]).max() < 2e-4


@numba_only
@pytest.mark.parametrize("schedule", ["shuffled", "parallel"])
@pytest.mark.parametrize("bp_method, alpha", [("product_sum", 0.75), ("minimum_sum", 0.75), ("minimum_sum", 0.0)])
def test_compiled_equals_numpy(schedule, bp_method, alpha):
    """Same word, same convergence, iteration counts within 2 (float32 rounding of phi differs); adaptive
    min-sum with flooding fails at this rate in both."""
    a, b, code, target, llr = _problem(20_000, 3.0, 1.15, seed=4)
    g = bp._Graph(code.H)
    ref = bp._bp_shuffled if schedule == "shuffled" else bp._bp_numpy
    e1, ok1, it1, c1 = ref(g, target, llr, 150, bp_method, alpha)
    groups = bp.SHUFFLED_GROUPS if schedule == "shuffled" else 1
    e2, ok2, it2, c2 = bp._bp_compiled(g, target, llr, 150, bp_method, alpha, None, 0, groups)
    assert ok1 == ok2 == (bp_method == "product_sum" or schedule == "shuffled" or alpha != 0.0)
    if ok2:
        np.testing.assert_array_equal(b ^ e2, a)
        np.testing.assert_array_equal(e1, e2)
    assert abs(it1 - it2) <= 2
    assert c2.dtype == np.float32 and c2.shape == c1.shape


@numba_only
def test_compiled_warm_start_patience_and_failure():
    """Continuing from messages, stopping on patience, and an undecodable syndrome (f = 0.8) that both
    decoders report as failed after the same work."""
    a, b, code, target, llr = _problem(20_000, 3.0, 0.8, seed=9)
    g = bp._Graph(code.H)
    e1, ok1, it1, _ = bp._bp_shuffled(g, target, llr, 60, "product_sum", 0.75, None, 8)
    e2, ok2, it2, c2 = bp._bp_compiled(g, target, llr, 60, "product_sum", 0.75, None, 8)
    assert not ok1 and not ok2 and it2 < 60 and abs(it1 - it2) <= 3
    # warm start: 10 iterations, then 140 more from the messages, equals 150 from scratch (same schedule)
    a, b, code, target, llr = _problem(20_000, 3.0, 1.15, seed=5)
    g = bp._Graph(code.H)
    _, ok, it, c = bp._bp_compiled(g, target, llr, 10, "product_sum", 0.75)
    assert not ok and it == 10
    e_w, ok_w, it_w, _ = bp._bp_compiled(g, target, llr, 140, "product_sum", 0.75, c)
    e_c, ok_c, it_c, _ = bp._bp_compiled(g, target, llr, 150, "product_sum", 0.75)
    assert ok_w and ok_c
    np.testing.assert_array_equal(e_w, e_c)
    assert abs(it_w + 10 - it_c) <= 1


@numba_only
def test_reconcile_and_decode_use_the_compiled_decoder():
    a, b, p = _soft_pair(20_000, 3.0, seed=11)
    r_nb = reconcile(a, b, p, seed=3, f_step=0.01, f_growth=1.05, f_max=3.0, schedule="shuffled", decoder="numba")
    r_np = reconcile(a, b, p, seed=3, f_step=0.01, f_growth=1.05, f_max=3.0, schedule="shuffled", decoder="numpy")
    assert r_nb.success and r_np.success
    np.testing.assert_array_equal(r_nb.bits, a)
    assert abs(r_nb.leaked_bits - r_np.leaked_bits) <= 0.02 * r_np.leaked_bits
    np.testing.assert_array_equal(decode(r_nb.code, r_nb.code.syndrome(a), b, p, schedule="shuffled",
                                         decoder="numba"), a)
    assert bp._check_decoder("auto", "shuffled") == "numba"


def test_decoder_choice_without_numba(monkeypatch):
    monkeypatch.setenv("NFKG_NO_NUMBA", "1")
    assert bp._check_decoder("auto", "shuffled") == "numpy"
    assert bp._check_decoder("auto", "serial") == "ldpc"
    with pytest.raises(MissingExtra, match="'fast' extra"):
        bp._check_decoder("numba", "parallel")
    with pytest.raises(ValueError, match="parallel and shuffled"):
        bp._check_decoder("numba", "serial")


def test_carried_messages_follow_their_edges():
    """Warm start across increments: every edge of the grown code gets the message of the same (parent row,
    column) edge of the old code, 0 on appended rows (dictionary reference), for appended rows
    (extend_code: the fast path) and split rows (split_code: the general mapping)."""
    from nfkg.protocol.ldpc_codes import _row_parents, extend_code, split_code

    code = make_code(3000, 600, seed=2, column_weight={2: 0.3, 3: 0.55, 12: 0.15})
    c2v = np.random.default_rng(0).normal(size=code.H.nnz).astype(np.float32)
    H = code.H.tocsr()
    old = {(r, int(c)): c2v[e] for r in range(code.m) for e, c in zip(range(H.indptr[r], H.indptr[r + 1]),
                                                                       H.indices[H.indptr[r]:H.indptr[r + 1]])}
    for grown in (extend_code(code, 90), split_code(code, 90)):
        parents = _row_parents(code, grown)
        G = grown.H.tocsr()
        want = np.array([old.get((int(parents[r]), int(c)), 0.0) if parents[r] >= 0 else 0.0
                         for r in range(grown.m) for c in G.indices[G.indptr[r]:G.indptr[r + 1]]], np.float32)
        np.testing.assert_array_equal(bp._carry_messages(code, grown, c2v), want)


def test_warmup(monkeypatch):
    """make install's warm-up runs the kernels (cached afterwards) and is a no-op without numba."""
    from nfkg.protocol.warmup import warm

    if bp_kernel.available():
        assert warm() > 0.0
    monkeypatch.setenv("NFKG_NO_NUMBA", "1")
    assert warm() == 0.0
