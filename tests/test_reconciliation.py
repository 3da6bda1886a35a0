"""Information reconciliation: LDPC codes, syndrome decoding with ldpc.BpDecoder, rate adaptation."""

import math

import numpy as np
import pytest

from nfkg.reconciliation import (binary_entropy, efficiency, extend_code, make_code, reconcile)


def _syndrome_numpy(H, x):
    """H x mod 2 from the nonzero coordinates alone (no sparse matrix product)."""
    coo = H.tocoo()
    return np.bincount(coo.row, weights=np.asarray(x, float)[coo.col], minlength=H.shape[0]).astype(np.int64) % 2


def _four_cycles(H):
    """Pairs of rows sharing two or more columns, counted with dense integer arithmetic."""
    A = H.toarray().astype(np.float64)          # exact: integer counts far below 2^53
    C = A @ A.T
    np.fill_diagonal(C, 0)
    return int((C >= 1.5).sum() // 2)


def _pair(n, kdr, seed):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2, n).astype(np.uint8)
    e = (rng.random(n) < kdr).astype(np.uint8)
    return a, a ^ e


# ---------------------------------------------------------------------------- entropy, efficiency

def test_binary_entropy_hand_values():
    assert binary_entropy(0.0) == 0.0
    assert binary_entropy(1.0) == 0.0
    assert binary_entropy(0.5) == 1.0
    assert binary_entropy(0.25) == pytest.approx(0.25 * 2 + 0.75 * math.log2(4 / 3))
    p = np.array([0.01, 0.1, 0.3])
    np.testing.assert_allclose(binary_entropy(p), binary_entropy(1 - p))
    assert np.isnan(binary_entropy(1.5))


def test_efficiency_definition():
    assert efficiency(1000, 1000, 0.5) == 1.0
    assert efficiency(2 * 469, 1000, 0.1) == pytest.approx(2 * 469 / (1000 * binary_entropy(0.1)))
    np.testing.assert_allclose(efficiency(np.array([100, 200]), 1000, 0.1),
                               np.array([100, 200]) / (1000 * binary_entropy(0.1)))


# ---------------------------------------------------------------------------- codes

def test_make_code_regular_degrees_no_repeats_no_4cycles():
    n, m = 2000, 600
    code = make_code(n, m, seed=3, column_weight=3)
    H = code.H
    assert H.shape == (m, n) and H.dtype == np.uint8
    assert set(np.unique(H.data).tolist()) == {1}            # no entry summed from repeated edges
    assert H.nnz == 3 * n
    np.testing.assert_array_equal(np.asarray(H.sum(axis=0)).ravel(), 3)
    rw = np.asarray(H.sum(axis=1)).ravel()
    assert rw.min() == 10 and rw.max() == 10
    assert _four_cycles(H) == 0
    assert code.n == n and code.m == m and code.blocks == (m,) and code.seed == 3


def test_make_code_irregular_degree_counts():
    n, m = 3000, 900
    code = make_code(n, m, seed=1, column_weight={2: 0.2, 3: 0.7, 8: 0.1})
    cw = np.asarray(code.H.sum(axis=0)).ravel()
    counts = {d: int((cw == d).sum()) for d in (2, 3, 8)}
    assert counts == {2: 600, 3: 2100, 8: 300}
    rw = np.asarray(code.H.sum(axis=1)).ravel()
    assert rw.max() - rw.min() <= 1
    assert set(np.unique(code.H.data).tolist()) == {1}
    assert _four_cycles(code.H) == 0


def test_make_code_is_seeded():
    a, b, c = (make_code(1000, 250, seed=s) for s in (5, 5, 6))
    assert (a.H != b.H).nnz == 0
    assert (a.H != c.H).nnz > 0


def test_extend_code_keeps_rows_and_balances_columns():
    code = make_code(2000, 500, seed=2)
    ext = extend_code(extend_code(code, 50), 50)
    assert ext.blocks == (500, 50, 50) and ext.H.shape == (600, 2000)
    assert (ext.H[:500] != code.H).nnz == 0                   # syndrome bits already sent stay valid
    new = ext.H[500:]
    assert set(np.asarray(new.sum(axis=1)).ravel().tolist()) == {12}   # 3 * 2000 / 500
    assert set(np.unique(ext.H.data).tolist()) == {1}
    cw = np.asarray(ext.H.sum(axis=0)).ravel()
    assert cw.sum() == 3 * 2000 + 1200 and cw.min() == 3 and cw.max() <= 5
    assert _four_cycles(ext.H) == 0
    again = extend_code(extend_code(code, 50), 50)
    assert (again.H != ext.H).nnz == 0


def test_code_validation():
    with pytest.raises(ValueError, match="m must"):
        make_code(100, 0, seed=0)
    with pytest.raises(ValueError, match="largest column weight"):
        make_code(100, 2, seed=0, column_weight=3)
    with pytest.raises(ValueError, match="m_extra"):
        extend_code(make_code(100, 50, seed=0), 51)


# ---------------------------------------------------------------------------- reconciliation

@pytest.mark.parametrize("kdr, f_bound", [(0.02, 1.5), (0.05, 1.4), (0.10, 1.35)])
def test_hard_decisions_correct_every_bit(kdr, f_bound):
    n = 10_000
    a, b = _pair(n, kdr, seed=int(kdr * 1000))
    r = reconcile(a, b, kdr, seed=11)
    assert r.success, r.message
    np.testing.assert_array_equal(r.bits, a)
    assert r.bits.dtype == np.uint8 and r.bits.shape == (n,)
    # independent check: H x_corrected = H x_a (mod 2) from the coordinates, plain numpy
    np.testing.assert_array_equal(_syndrome_numpy(r.code.H, r.bits), _syndrome_numpy(r.code.H, a))
    # accounting: every syndrome bit sent is a row of the final code
    assert r.leaked_bits == sum(r.rate_history) == r.code.m
    assert r.increments == len(r.rate_history) == len(r.code.blocks)
    assert r.rate_history == r.code.blocks
    kdr_true = float(np.mean(a != b))
    assert 1.0 < efficiency(r.leaked_bits, n, kdr_true) <= f_bound


def test_first_block_size_follows_the_rate_rule():
    n, kdr = 10_000, 0.05
    a, b = _pair(n, kdr, seed=4)
    r = reconcile(a, b, kdr, seed=1, f_start=1.2)
    assert r.rate_history[0] == math.ceil(1.2 * n * binary_entropy(kdr))


def test_soft_information_leaks_less_than_hard_decisions():
    n = 10_000
    rng = np.random.default_rng(21)
    a = rng.integers(0, 2, n).astype(np.uint8)
    p = np.where(rng.random(n) < 0.5, 0.01, 0.19)              # reliable and unreliable bits, mean 0.1
    b = a ^ (rng.random(n) < p).astype(np.uint8)               # errors drawn from p
    hard = reconcile(a, b, float(p.mean()), seed=3)
    soft = reconcile(a, b, p, seed=3)
    assert hard.success and soft.success
    np.testing.assert_array_equal(soft.bits, a)
    np.testing.assert_array_equal(hard.bits, a)
    assert soft.leaked_bits < 0.9 * hard.leaked_bits
    # and at the soft leak, hard decisions (same rows, same code family) do not decode
    f_soft = soft.leaked_bits / (n * binary_entropy(float(p.mean())))
    hard_same = reconcile(a, b, float(p.mean()), seed=3, f_start=f_soft, f_max=f_soft,
                          column_weight=soft.code.column_weight)
    assert abs(hard_same.leaked_bits - soft.leaked_bits) <= 1
    assert not hard_same.success


def test_wrong_error_rate_fails_and_counts_the_leak():
    n = 5000
    a, b = _pair(n, 0.30, seed=8)
    r = reconcile(a, b, 0.02, seed=2)                          # claims 2 %, has 30 %
    assert not r.success
    assert "did not converge" in r.message
    assert r.leaked_bits == sum(r.rate_history) == r.code.m
    assert r.increments == len(r.rate_history) > 1             # it escalated up to f_max
    h = binary_entropy(0.02)
    assert r.leaked_bits == math.ceil(1.6 * n * h) or r.leaked_bits >= 1.6 * n * h - 1


def test_too_low_f_max_fails():
    n = 5000
    a, b = _pair(n, 0.10, seed=9)
    r = reconcile(a, b, 0.10, seed=2, f_start=0.7, f_max=0.8, f_step=0.1)
    assert not r.success and "did not converge" in r.message
    assert r.increments == 2 and r.leaked_bits == sum(r.rate_history)


def test_identical_strings_need_one_block():
    a, _ = _pair(4000, 0.0, seed=1)
    r = reconcile(a, a.copy(), 0.05, seed=0)
    assert r.success and r.increments == 1
    np.testing.assert_array_equal(r.bits, a)


def test_same_seed_same_result():
    a, b = _pair(6000, 0.06, seed=5)
    r1 = reconcile(a, b, 0.06, seed=99)
    r2 = reconcile(a, b, 0.06, seed=99)
    assert (r1.code.H != r2.code.H).nnz == 0
    np.testing.assert_array_equal(r1.bits, r2.bits)
    assert (r1.success, r1.leaked_bits, r1.rate_history, r1.message) == \
        (r2.success, r2.leaked_bits, r2.rate_history, r2.message)
    r3 = reconcile(a, b, 0.06, seed=100)
    assert r3.code.H.shape != r1.code.H.shape or (r3.code.H != r1.code.H).nnz > 0


@pytest.mark.parametrize("args, match", [
    (([0, 1, 1], [0, 1], 0.1), "same length"),
    (([], [], 0.1), "non-empty"),
    (([0, 1, 2], [0, 1, 1], 0.1), "only 0 and 1"),
    (([0, 1, 1], [0, 1, 1], 0.6), r"p_err must lie in \[0, 0.5\]"),
    (([0, 1, 1], [0, 1, 1], [0.1, -0.1, 0.1]), r"p_err must lie in \[0, 0.5\]"),
    (([0, 1, 1], [0, 1, 1], [0.1, 0.1]), "p_err must be a scalar or have shape"),
])
def test_reconcile_validation(args, match):
    with pytest.raises(ValueError, match=match):
        reconcile(*args, seed=0)
