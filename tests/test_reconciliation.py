"""Information reconciliation: LDPC codes, syndrome decoding with ldpc.BpDecoder, rate adaptation."""

import math

import numpy as np
import pytest

from nfkg.protocol import reconciliation as rec
from nfkg.protocol.reconciliation import (DEGREE_TABLE, SOFT_DEGREE_TABLE, binary_entropy, clear_code_cache, code_cache_info,
                                 decode, degree_profile, efficiency, extend_code, make_code, reconcile,
                                 split_code)


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


def _soft_pair(n, h, seed):
    """Calibrated soft information: p_i = Phi(-c U_i) (U uniform: distance to a quantiser
    threshold), the user's bit flipped with probability p_i; mean h2(p_i) ~ h."""
    from scipy.optimize import brentq
    from scipy.special import ndtr
    u = (np.arange(4000) + 0.5) / 4000
    c = brentq(lambda c: float(np.mean(binary_entropy(ndtr(-c * u)))) - h, 1e-6, 1e4)
    rng = np.random.default_rng(seed)
    p = ndtr(-c * rng.random(n))
    a = rng.integers(0, 2, n).astype(np.uint8)
    return a, a ^ (rng.random(n) < p).astype(np.uint8), p


def _accounting(r, n):
    """Invariants of every Reconciled."""
    assert r.bits.dtype == np.uint8 and r.bits.shape == (n,)
    assert r.increments == len(r.rate_history)
    if r.disclosed:
        assert r.success and r.leaked_bits == n and r.code.m == n and r.rate_history[-1] == n
    else:
        assert r.leaked_bits == sum(r.rate_history) == r.code.m
        assert r.rate_history == r.code.blocks


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
    assert _four_cycles(code.H) == 0                          # the base code; extensions keep some
    again = extend_code(extend_code(code, 50), 50)
    assert (again.H != ext.H).nnz == 0


def test_code_validation():
    with pytest.raises(ValueError, match="m must"):
        make_code(100, 0, seed=0)
    with pytest.raises(ValueError, match="column_weight must be at least 1"):
        make_code(100, 2, seed=0, column_weight=0)
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
    r = reconcile(a, b, 0.02, seed=2, f_start=1.1, f_step=0.05, f_max=1.6)   # claims 2 %, has 30 %
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


# ---------------------------------------------------------------------------- every size, every rate

def _profiles():
    return [3, 1, 7] + [dict(p) for _, p in DEGREE_TABLE] + [dict(p) for _, p in SOFT_DEGREE_TABLE]


@pytest.mark.parametrize("column_weight", _profiles(), ids=str)
def test_make_code_works_for_every_m(column_weight):
    n = 40
    for m in range(1, n + 1):
        code = make_code(n, m, seed=m, column_weight=column_weight, cache=False)
        H = code.H
        assert H.shape == (m, n) and set(np.unique(H.data).tolist()) <= {1}
        cw = np.asarray(H.sum(axis=0)).ravel()
        assert cw.min() >= 1 and cw.max() <= m                  # degrees capped at m, no repeated edge
        assert np.asarray(H.sum(axis=1)).ravel().min() >= 1     # no empty row
        if m < n:
            ext = extend_code(code, 1, cache=False)
            assert (ext.H[:m] != H).nnz == 0 and set(np.unique(ext.H.data).tolist()) == {1}


def test_make_code_small_m_regression():
    """KDR ~2e-4 with soft information: few rows, degree-12 columns (was: RuntimeError)."""
    for n, m in ((10_000, 12), (20_000, 30), (40_000, 60), (20_000, 1), (20_000, 2)):
        code = make_code(n, m, seed=5, column_weight=DEGREE_TABLE[0][1], cache=False)
        cw = np.asarray(code.H.sum(axis=0)).ravel()
        assert code.H.shape == (m, n) and cw.max() <= m and set(np.unique(code.H.data).tolist()) == {1}


def test_degree_two_columns_form_no_cycle():
    n, m = 4000, 900
    code = make_code(n, m, seed=3, column_weight={2: 0.2, 3: 0.7, 8: 0.1}, cache=False)
    H = code.H.tocsc()
    two = np.flatnonzero(np.diff(H.indptr) == 2)
    assert two.size == 800
    # degree-2 columns as edges between their two rows: a forest has #edges = #nodes - #components
    import scipy.sparse.csgraph as csg
    ends = H.indices[H.indptr[two][:, None] + np.arange(2)]
    g = np.zeros((m, m))
    g[ends[:, 0], ends[:, 1]] = 1
    nodes = np.unique(ends)
    k, _ = csg.connected_components(g[np.ix_(nodes, nodes)], directed=False)
    assert two.size == nodes.size - k


def test_degree_profile_caps_degree_two():
    for soft in (False, True):
        for h in (0.0, 1e-4, 0.01, 0.05, 0.2, 0.5, 0.9, 1.0):
            prof = degree_profile(h, soft)
            assert abs(sum(prof.values()) - 1) < 1e-9 and prof.get(2, 0.0) <= h + 1e-12


KDRS = (0.0, 1e-5, 1e-4, 2e-4, 1e-3, 1e-2, 0.1, 0.3, 0.5)


@pytest.mark.parametrize("soft", [False, True], ids=["hard", "soft"])
@pytest.mark.parametrize("n", [1000, 20_000])
def test_reconcile_never_raises_over_the_kdr_grid(n, soft):
    """Every KDR from 0 to 0.5, hard and soft p_err: a result with consistent accounting (the
    protocol's schedule; few BP iterations, so this checks robustness, not efficiency)."""
    for kdr in KDRS:
        for seed in (0, 1):
            rng = np.random.default_rng([n, seed, int(kdr * 1e6)])
            a = rng.integers(0, 2, n).astype(np.uint8)
            p = np.minimum(rng.exponential(kdr, n), 0.5) if soft else np.full(n, kdr)
            b = a ^ (rng.random(n) < p).astype(np.uint8)
            r = reconcile(a, b, p if soft else kdr, seed=seed, f_start=1.25, f_step=0.25, f_max=3.0, max_iter=8)
            _accounting(r, n)
            if kdr == 0:
                assert r.success and r.leaked_bits == 0 and r.code.m == 0
            if r.success and not r.disclosed:
                np.testing.assert_array_equal(r.code.syndrome(r.bits), r.code.syndrome(a))


def test_low_kdr_soft_information_regression():
    """The reported failure: KDR ~2e-4, soft information, n = 20,000 (was: RuntimeError)."""
    n = 20_000
    rng = np.random.default_rng(12)
    a = rng.integers(0, 2, n).astype(np.uint8)
    p = np.minimum(rng.exponential(2e-4, n), 0.5)
    b = a ^ (rng.random(n) < p).astype(np.uint8)
    r = reconcile(a, b, p, seed=4, f_start=1.25, f_step=0.1, f_max=3.0, max_iter=50)
    _accounting(r, n)
    assert r.success, r.message
    np.testing.assert_array_equal(r.bits, a)


def test_zero_entropy_sends_nothing():
    n = 5000
    a, _ = _pair(n, 0.0, seed=3)
    for p in (0.0, np.zeros(n)):
        r = reconcile(a, a.copy(), p, seed=1)
        assert r.success and r.leaked_bits == 0 and r.increments == 0 and r.rate_history == ()
        assert r.code.m == 0 and r.code.n == n and r.f == 1.0 and not r.disclosed
        np.testing.assert_array_equal(r.bits, a)
        np.testing.assert_array_equal(decode(r.code, r.code.syndrome(a), a, p), a)   # Eve: her own bits


def test_full_entropy_is_disclosed():
    n = 3000
    rng = np.random.default_rng(2)
    a = rng.integers(0, 2, n).astype(np.uint8)
    b = rng.integers(0, 2, n).astype(np.uint8)
    r = reconcile(a, b, 0.5, seed=1)
    assert r.disclosed and r.success and r.leaked_bits == n and r.rate_history == (n,) and r.f == 1.0
    np.testing.assert_array_equal(r.bits, a)
    np.testing.assert_array_equal(decode(r.code, r.code.syndrome(a), b, 0.5), a)    # Eve reads x_a
    # the schedule reaching n rows after a failed syndrome: disclosed, leak capped at n
    a2, b2 = _pair(n, 0.2, seed=4)
    r2 = reconcile(a2, b2, 0.2, seed=1, f_start=0.8, f_step=0.6, f_max=2.0)   # 1733, then 3032 >= n rows
    assert r2.disclosed and r2.leaked_bits == n and r2.increments == 2 and r2.rate_history[-1] == n
    np.testing.assert_array_equal(r2.bits, a2)


def test_code_cache_reuses_codes():
    clear_code_cache()
    c1 = make_code(3000, 700, seed=9, column_weight={2: 0.2, 3: 0.65, 12: 0.15})
    c2 = make_code(3000, 700, seed=9, column_weight={2: 0.2, 3: 0.65, 12: 0.15})
    assert c1 is c2 and code_cache_info()["hits"] == 1
    e1, e2 = extend_code(c1, 40), extend_code(c2, 40)
    assert e1 is e2
    fresh = make_code(3000, 700, seed=9, column_weight={2: 0.2, 3: 0.65, 12: 0.15}, cache=False)
    assert fresh is not c1 and (fresh.H != c1.H).nnz == 0                     # same matrix either way
    assert (extend_code(fresh, 40).H != e1.H).nnz == 0
    # reconcile of equal-rate blocks with one code seed builds the chain once
    a, b = _pair(3000, 0.05, seed=1)
    r1 = reconcile(a, b, 0.05, seed=9)
    misses = code_cache_info()["misses"]
    r2 = reconcile(*_pair(3000, 0.05, seed=2), 0.05, seed=9)
    assert code_cache_info()["misses"] - misses <= max(0, r2.increments - r1.increments)
    assert r2.code.H[: r1.code.m].nnz == 0 or (r2.code.H[: min(r1.code.m, r2.code.m)] !=
                                                r1.code.H[: min(r1.code.m, r2.code.m)]).nnz == 0
    clear_code_cache(0)                                                      # disabled
    assert make_code(300, 70, seed=1) is not make_code(300, 70, seed=1)
    clear_code_cache(rec.CODE_CACHE_BYTES)
    assert code_cache_info()["entries"] == 0


@pytest.mark.parametrize("bp_method, alpha", [("product_sum", 0.75), ("minimum_sum", 0.75), ("minimum_sum", 0.0)])
def test_numpy_and_ldpc_decoders_agree(bp_method, alpha):
    n = 4000
    a, b, p = _soft_pair(n, 0.2, seed=6)
    h = float(np.mean(binary_entropy(p)))
    code = make_code(n, int(1.3 * n * h), seed=2, column_weight=degree_profile(h, soft=True))
    s = code.syndrome(a)
    x_np = decode(code, s, b, p, bp_method=bp_method, ms_scaling_factor=alpha, decoder="numpy", max_iter=200)
    x_ld = decode(code, s, b, p, bp_method=bp_method, ms_scaling_factor=alpha, decoder="ldpc", max_iter=200)
    np.testing.assert_array_equal(x_np, a)
    np.testing.assert_array_equal(x_ld, a)


def test_warm_start_and_restart_both_decode():
    n = 10_000
    a, b, p = _soft_pair(n, 0.3, seed=8)
    warm = reconcile(a, b, p, seed=5, f_start=0.95, f_step=0.03)
    cold = reconcile(a, b, p, seed=5, f_start=0.95, f_step=0.03, restart=True)
    ldpc = reconcile(a, b, p, seed=5, f_start=0.95, f_step=0.03, decoder="ldpc", max_iter=60)
    for r in (warm, cold, ldpc):
        assert r.success and r.increments > 1, r.message
        np.testing.assert_array_equal(r.bits, a)
        _accounting(r, n)
    assert warm.leaked_bits <= cold.leaked_bits + 0.06 * n * 0.3


def test_soft_information_efficiency():
    """Calibrated soft inputs at n = 2 10^4 with the recommended schedule: f <= 1.1 at h = 0.3
    and 0.5 (1.04-1.10 measured), <= 1.2 at h = 0.1 (1.10-1.14)."""
    n = 20_000
    for h, bound in ((0.1, 1.2), (0.3, 1.1), (0.5, 1.1)):
        a, b, p = _soft_pair(n, h, seed=int(h * 100))
        r = reconcile(a, b, p, seed=3, f_start=1.0, f_step=0.01, f_growth=1.05, f_max=3.0)
        assert r.success, r.message
        np.testing.assert_array_equal(r.bits, a)
        assert 1.0 < r.f <= bound
        assert r.leaked_bits / float(np.sum(binary_entropy(p))) == pytest.approx(r.f)


def test_split_code_carries_the_same_information():
    code = make_code(2000, 500, seed=4, column_weight={2: 0.2, 3: 0.65, 12: 0.15})
    split = split_code(code, 120)
    assert split.blocks == (500, 120) and split.H.shape == (620, 2000) and split.H.nnz == code.H.nnz
    np.testing.assert_array_equal(np.asarray(split.H.sum(axis=0)).ravel(), np.asarray(code.H.sum(axis=0)).ravel())
    x = np.random.default_rng(1).integers(0, 2, 2000)
    # each old syndrome bit is the XOR of its two halves
    np.testing.assert_array_equal(split.syndrome(x)[:500] ^ rec._split_parent_syndrome(code, split, x),
                                  code.syndrome(x))
    assert (split_code(code, 120).H != split.H).nnz == 0
    a, b, p = _soft_pair(10_000, 0.3, seed=2)
    r = reconcile(a, b, p, seed=5, adapt="split", f_step=0.02)
    assert r.success and r.increments > 1, r.message
    np.testing.assert_array_equal(r.bits, a)
    _accounting(r, 10_000)


def test_decoder_validation():
    a, b = _pair(100, 0.1, seed=0)
    with pytest.raises(ValueError, match="decoder must be"):
        reconcile(a, b, 0.1, seed=0, decoder="gpu")
    with pytest.raises(ValueError, match="parallel"):
        reconcile(a, b, 0.1, seed=0, decoder="numpy", schedule="serial")
    with pytest.raises(ValueError, match="schedule must be"):
        reconcile(a, b, 0.1, seed=0, schedule="random")
    with pytest.raises(ValueError, match="adapt must be"):
        reconcile(a, b, 0.1, seed=0, adapt="puncture")
    with pytest.raises(ValueError, match="f_growth"):
        reconcile(a, b, 0.1, seed=0, f_growth=0.5)


def test_shuffled_schedule_decodes_in_fewer_iterations():
    """Group-shuffled BP reaches the same word as flooding, in fewer iterations (same code, same input)."""
    n, h = 20_000, 0.3
    a, b, p = _soft_pair(n, h, seed=21)
    code = make_code(n, int(1.12 * n * h), seed=2, column_weight=degree_profile(h, soft=True))
    s = code.syndrome(a)
    target = s ^ code.syndrome(b)
    ch = np.clip(p, rec._P_FLOOR, 0.5)
    llr = np.log1p(-ch) - np.log(ch)
    g = rec._Graph(code.H)
    e_flood, ok_f, it_f, _ = rec._bp_numpy(g, target, llr, 200, "product_sum", 0.75)
    e_shuf, ok_s, it_s, _ = rec._bp_shuffled(g, target, llr, 200, "product_sum", 0.75)
    assert ok_f and ok_s
    np.testing.assert_array_equal(b ^ e_flood, a)
    np.testing.assert_array_equal(b ^ e_shuf, a)
    assert it_s < it_f
    r = reconcile(a, b, p, seed=3, f_step=0.01, f_growth=1.05, f_max=3.0, schedule="shuffled")
    assert r.success and 1.0 < r.f <= 1.15, r.message
    np.testing.assert_array_equal(r.bits, a)
    x = decode(r.code, r.code.syndrome(a), b, p, schedule="shuffled", patience=10)
    np.testing.assert_array_equal(x, a)
    with pytest.raises(ValueError, match="shuffled"):
        reconcile(a, b, p, seed=3, schedule="shuffled", decoder="ldpc")


def test_schedule_grid_and_step_floor():
    """Sizes on the geometric grid, at least floor n rows apart; both only ever add rows."""
    n, h = 100_000, 0.006
    plain = rec._schedule(n, h, 1.05, 0.01, 3.0, 1.05)
    floored = rec._schedule(n, h, 1.05, 0.01, 3.0, 1.05, floor=5e-4)
    assert len(floored) < len(plain) and floored[0] == plain[0]
    assert all(b - a >= 50 for a, b in zip(floored, floored[1:]))
    assert set(floored) <= set(plain)                 # the same f grid, fewer stops
    grid = rec._schedule(n, 0.4, 1.03, 0.01, 3.0, 1.05, grid=0.002)
    exact = rec._schedule(n, 0.4, 1.03, 0.01, 3.0, 1.05)
    for g_, e_ in zip(grid[:-1], exact):             # the last size is n: disclosure
        assert e_ <= g_ <= math.ceil(e_ * 1.002) + 1
        j = round(math.log(g_) / math.log(1.002))
        assert g_ in (math.ceil(1.002 ** j), math.ceil(1.002 ** (j + 1)), math.ceil(1.002 ** (j - 1)))
    # two blocks of close entropy ask for the same first size: the cached code is reused
    assert rec._schedule(n, 0.4001, 1.03, 0.01, 3.0, grid=0.002)[0] == rec._schedule(n, 0.4003, 1.03, 0.01, 3.0,
                                                                                  grid=0.002)[0]
    a, b = _pair(1000, 0.05, seed=1)
    with pytest.raises(ValueError, match="size_grid"):
        reconcile(a, b, 0.05, seed=0, size_grid=1.5)
    with pytest.raises(ValueError, match="step_floor"):
        reconcile(a, b, 0.05, seed=0, step_floor=-0.1)
