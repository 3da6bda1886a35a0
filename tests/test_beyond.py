"""Beyond the papers (SPEC 8): --jamming on the command line, svd-mf, svd-maxmin and their figures."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nfkg.model.channel import ULA
from nfkg.cli import main
from nfkg.schemes.optimum import true_skr
from nfkg.schemes.precoding import evaluate, get_scheme, precode, score
from nfkg.model.scenario import Scenario

J5_USERS = [(12.0, -0.6), (13.0, 0.6)]
J5_EVES = [(11.98, -0.6), (12.98, 0.6)]


def random_scenario(rng: np.random.Generator, k: int, n_ant: int = 64) -> Scenario:
    """K users spread in angle, each Eve 1 cm to 1 m closer and within 10 mrad of its user."""
    r = rng.uniform(6.0, 25.0, k)
    psi = np.linspace(-0.9, 0.9, k) + rng.uniform(-0.15, 0.15, k) if k > 1 else rng.uniform(-0.9, 0.9, 1)
    users = np.stack([r, psi], -1)
    eves = np.stack([r - rng.uniform(0.01, 1.0, k), psi + rng.uniform(-0.01, 0.01, k)], -1)
    return Scenario.from_dbm(ULA(n_ant, 30e9), users=users, eves=eves, pt_dbm=rng.uniform(0.0, 30.0))


# --------------------------------------------------------------------------- --jamming
@pytest.fixture
def two_toml(tmp_path):
    p = tmp_path / "two.toml"
    p.write_text("pt_dbm = 20\nantennas = 64\nusers = [ {r = 12.0, psi = -0.6}, {r = 13.0, psi = 0.6} ]\n"
                 "eves  = [ {r = 11.98, psi = -0.6}, {r = 12.98, psi = 0.6} ]\n")
    return str(p)


def _run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_jamming_reaches_the_svd_schemes(capsys, two_toml):
    scen = Scenario.from_dbm(ULA(64, 30e9), users=J5_USERS, eves=J5_EVES, pt_dbm=20)
    for jam in ("isotropic", "targeted"):
        code, out, err = _run(capsys, "evaluate", two_toml, "-s", "svd-pa", "--jamming", jam, "--json")
        assert code == 0, err
        obj = json.loads(out)
        assert list(obj) == ["scheme", "shaping", "scoring", "sum_skr", "users"]  # SPEC 10 unchanged
        ref = evaluate(scen, "svd-pa", jamming=jam)
        assert obj["sum_skr"] == pytest.approx(float(ref.sum_skr), rel=1e-12)
    iso = json.loads(_run(capsys, "evaluate", two_toml, "-s", "svd", "--json")[1])
    tgt = json.loads(_run(capsys, "evaluate", two_toml, "-s", "svd", "--jamming", "targeted", "--json")[1])
    assert tgt["sum_skr"] > iso["sum_skr"]          # jamming aimed at the Eves helps (20 dBm, Eves 2 cm away)
    code, out, _ = _run(capsys, "evaluate", two_toml, "-s", "svd-mf")
    assert code == 0 and "matched shaping, targeted jamming" in out.splitlines()[0]


@pytest.mark.parametrize("args, needle", [
    (["evaluate", "{f}", "-s", "ras", "--jamming", "targeted"], "--jamming"),
    (["evaluate", "{f}", "-s", "mrc", "--jamming", "isotropic"], "--jamming"),
    (["evaluate", "{f}", "-s", "svd-mf", "--jamming", "isotropic"], "jamming"),
    (["evaluate", "{f}", "-s", "svd-mf", "--shaping", "isotropic"], "--shaping"),
    (["evaluate", "{f}", "-s", "svd", "--jamming", "aimed"], "--jamming"),
    (["keygen", "{f}", "-s", "mrc", "--jamming", "targeted", "-q"], "--jamming"),
])
def test_cli_jamming_errors(capsys, two_toml, args, needle):
    code, out, err = _run(capsys, *(a.format(f=two_toml) for a in args))
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("nfkg: error:") and needle in lines[0]


# --------------------------------------------------------------------------- svd-mf
def test_svd_mf_is_svd_opt_on_matched_targeted_shapes_and_keeps_the_null_spaces():
    scen = Scenario.from_dbm(ULA(48, 30e9), users=[(12.0, -0.6), (13.0, 0.0), (9.0, 0.6)],
                             eves=[(11.9, -0.6), (12.5, 0.01), (8.7, 0.6)], pt_dbm=[10.0, 25.0])
    mf = precode(scen, "svd-mf")
    assert (mf.scheme, mf.shaping, mf.jamming) == ("svd-mf", "matched", "targeted")
    assert get_scheme("svd-mf").fixed_shaping == "matched"
    ref = evaluate(scen, "svd-opt", "matched", jamming="targeted")
    np.testing.assert_allclose(evaluate(scen, "svd-mf").skr, ref.skr, rtol=1e-12)
    assert precode(scen, "svd-mf", "isotropic").shaping == "matched"     # a shaping argument is ignored
    with pytest.raises(ValueError, match="jamming"):
        precode(scen, "svd-mf", jamming="isotropic")
    # realise the N-space precoders and check the null-space conditions, J(13)-(16)
    f, h = scen.channels()                                   # (B, K, N)
    k = scen.n_users
    cov = mf.covariance
    w = cov.sample(np.random.default_rng(0), 8)              # (T, B, K, N)
    x = np.concatenate([f, h], axis=-2)                      # (B, 2K, N)
    inner = np.abs(np.einsum("bpn,tbkn->tbkp", x.conj(), w))  # |x_p^H w_k|
    rel = inner / (np.linalg.norm(x, axis=-1)[None, :, None, :] * np.linalg.norm(w, axis=-1)[..., None])
    for kk in range(k):
        others = [p for p in range(2 * k) if p not in (kk, k + kk)]
        assert rel[:, :, kk, others].max() < 1e-10
        assert rel[:, :, kk, kk].min() > 1e-3                # the user's own channel is served
    # the jamming beam is orthogonal to its own user too and aims at its Eve
    jam = cov.shapes[1]
    g = jam.gram(np.swapaxes(x, -1, -2)[:, None])            # (B, K, 2K, 2K)
    for kk in range(k):
        assert abs(g[:, kk, kk, kk]).max() < 1e-10 * np.linalg.norm(f[:, kk], axis=-1).max() ** 2
        np.testing.assert_allclose(g[:, kk, k + kk, k + kk].real,
                                   np.broadcast_to(mf.views[1].gram()[..., kk, k + kk, k + kk].real, (2,)), rtol=1e-7)
        # (|h_k^H q|^2 with q the part of h_k orthogonal to f_k, Eve 2 cm away: a cancellation of
        # about 1e-7 relative, so two exact routes agree to ~4e-9, not to the last bits)
    np.testing.assert_allclose(cov.trace, mf.p_a, rtol=1e-12)


def test_any_isotropic_split_is_reproduced_by_the_svd_mf_shapes_with_less_power():
    """The dominance argument of svd-mf's docstring, checked with the engine."""
    rng = np.random.default_rng(5)
    for k in (1, 2, 3):
        scen = random_scenario(rng, k, n_ant=32)
        opt = evaluate(scen, "svd-opt", "isotropic")
        blocks_dim = opt.result.views[0].trace  # 1 where the signal null space is not empty
        from nfkg.engine.reduced import geometry

        bl = geometry(scen).blocks()
        d_k, d_ek = np.maximum(bl.dim_k, 1), np.maximum(bl.dim_ek, 1)
        ps, pn = opt.result.powers[..., 0], opt.result.powers[..., 1]
        mapped = np.stack([ps / d_k, ps / d_k + pn / d_ek], -1) * blocks_dim[..., None]
        mf_views = precode(scen, "svd-mf").views
        skr, _ = score(scen, mf_views, mapped)
        assert np.all(skr >= opt.skr - 1e-9 * np.maximum(opt.skr, 1.0))
        assert mapped.sum() <= opt.result.p_a.sum() * (1 + 1e-12)
        assert np.all(evaluate(scen, "svd-mf").sum_skr >= opt.sum_skr - 1e-9)


def test_matched_isotropic_k1_is_the_c_scheme():
    """K = 1, matched shaping, isotropic jamming: C's precoder, and svd-opt is C's optimum."""
    scen = Scenario.from_dbm(ULA(64, 30e9), users=[(12.2, 0.2)], eves=[(12.0, 0.2)], pt_dbm=[10.0, 30.0])
    res = precode(scen, "svd-opt", "matched", jamming="isotropic")
    f, h = scen.channels()
    fv, hv = f[:, 0], h[:, 0]
    n = scen.n_ant
    # C IV: u_s = f/||f||, jamming U_n U_n^H/(N-1) on the null space of f
    us = fv / np.linalg.norm(fv, axis=-1, keepdims=True)
    for b in range(2):
        rs = np.outer(us[b], us[b].conj())
        rn = (np.eye(n) - rs) / (n - 1)
        xx = np.stack([fv[b], hv[b]], axis=-1)
        for j, r in enumerate((rs, rn)):
            want = xx.conj().T @ r @ xx
            got = res.covariance.shapes[j].gram(np.stack([fv, hv], axis=-1)[:, None])[b, 0]
            np.testing.assert_allclose(got, want, atol=1e-10 * np.abs(xx).max() ** 2)
    # the exact split is at least C's Dinkelbach (svd-pa) and matches a dense search of C's objective
    opt = evaluate(scen, "svd-opt", "matched", jamming="isotropic").skr[:, 0]
    pa = evaluate(scen, "svd-pa", "matched").skr[:, 0]
    assert np.all(opt >= pa - 1e-12)
    fr = np.concatenate([[0.0], np.logspace(-6, 0, 241)])
    a, c = np.meshgrid(fr, fr, indexing="ij")
    ok = a + c <= 1.0
    a, c = a[ok], c[ok]
    g = a.size
    for b in range(2):
        pm = float(scen.p_max[b])
        powers = np.stack([a * pm, c * pm], -1)[:, None, :]         # (G, K=1, 2)
        many = Scenario.from_dbm(ULA(64, 30e9), users=[(12.2, 0.2)], eves=[(12.0, 0.2)],
                                 pt_dbm=np.full(g, (10.0, 30.0)[b]))
        grid, _ = score(many, precode(many, "svd", "matched", jamming="isotropic").views, powers)
        assert opt[b] >= grid.max() - 1e-9
        assert opt[b] <= grid.max() + 2e-3                          # the grid is 2.5 % in power


# --------------------------------------------------------------------------- svd-maxmin
def _min_skr(scen, scheme, shaping=None, **opts):
    return evaluate(scen, scheme, shaping, **opts).skr.min(-1)


def test_maxmin_beats_every_scheme_on_the_same_subspaces():
    rng = np.random.default_rng(7)
    for k in (2, 3, 4):
        for _ in range(2):
            scen = random_scenario(rng, k)
            mm = _min_skr(scen, "svd-maxmin", "isotropic")
            for s in ("svd", "svd-pa", "svd-opt"):
                assert mm >= _min_skr(scen, s, "isotropic") - 1e-9, (k, s)
            mm_mt = _min_skr(scen, "svd-maxmin", "matched", jamming="targeted")
            assert mm_mt >= _min_skr(scen, "svd-mf") - 1e-9
            for s in ("svd", "svd-pa", "svd-opt"):
                assert mm_mt >= _min_skr(scen, s, "matched", jamming="targeted") - 1e-9, (k, s)
            res = precode(scen, "svd-maxmin", "isotropic")
            assert res.p_a.sum() <= float(scen.p_max) * (1 + 1e-9)


def _de_maxmin(scen, res, seed):
    from scipy.optimize import differential_evolution

    s = res.extra["coefficients"]
    sig, jam = res.views
    k = scen.n_users
    ts, tn = np.broadcast_to(sig.trace, (k,)), np.broadcast_to(jam.trace, (k,))
    kappa = scen.sigma2_a / (scen.pilot_length * scen.p_b)
    pm = float(scen.p_max)

    def neg_min(y):                              # y: (2K, S); fractions in the simplex with a slack
        x = y / np.maximum(1.0, y.sum(0))
        v = true_skr({a: c[:, None] for a, c in s.items()}, x[:k] * pm, x[k:] * pm, ts[:, None], tn[:, None],
                     kappa, scen.sigma2_b / scen.pilot_length, scen.sigma2_e / scen.pilot_length)
        return -v.min(0)

    r = differential_evolution(neg_min, [(0.0, 1.0)] * (2 * k), seed=seed, vectorized=True, updating="deferred",
                               popsize=25, maxiter=2000, tol=1e-12, polish=True)
    return -float(r.fun)


def test_maxmin_matches_a_global_search():
    rng = np.random.default_rng(3)
    for i in range(3):
        scen = random_scenario(rng, 2)
        ev = evaluate(scen, "svd-maxmin", "isotropic")
        mm = float(ev.skr.min())
        de = _de_maxmin(scen, ev.result, i)
        assert mm >= de - 1e-3
        assert mm <= de + 1e-3                   # both are feasible: neither can be far above the other
        np.testing.assert_allclose(ev.skr, mm, rtol=1e-4)   # the optimum equalises the users here


def test_maxmin_k1_is_the_single_user_optimum():
    scen = Scenario.from_dbm(ULA(64, 30e9), users=[(12.0, -0.6)], eves=[(11.98, -0.6)], pt_dbm=[-50, 0, 30, 60])
    np.testing.assert_allclose(_min_skr(scen, "svd-maxmin"), _min_skr(scen, "svd-opt"), rtol=1e-6, atol=1e-12)


# --------------------------------------------------------------------------- edges
@pytest.mark.parametrize("case", ["N=2K-1", "Eve on its user", "-50 and 60 dBm", "K=1", "K=3, N=5"])
def test_edges_give_finite_results(case):
    ula = ULA(64, 30e9)
    scen = {
        "N=2K-1": Scenario.from_dbm(ULA(3, 30e9), users=J5_USERS, eves=J5_EVES, pt_dbm=20),
        "Eve on its user": Scenario.from_dbm(ula, users=J5_USERS, eves=[(12.0, -0.6), (12.98, 0.6)], pt_dbm=20),
        "-50 and 60 dBm": Scenario.from_dbm(ula, users=J5_USERS, eves=J5_EVES, pt_dbm=[-50, 60]),
        "K=1": Scenario.from_dbm(ula, users=[(12.0, -0.6)], eves=[(11.98, -0.6)], pt_dbm=[-50, 20, 60]),
        "K=3, N=5": Scenario.from_dbm(ULA(5, 30e9), users=[*J5_USERS, (9.0, 0.0)], eves=[*J5_EVES, (8.0, 0.0)],
                                      pt_dbm=[0, 20]),
    }[case]
    for scheme, opts in (("svd-mf", {}), ("svd-maxmin", {}), ("svd-maxmin", {"shaping": "matched",
                                                                            "jamming": "targeted"})):
        ev = evaluate(scen, scheme, **opts)
        r = ev.result
        for v in (ev.skr, r.p_a, r.p_s, r.p_n):
            assert np.all(np.isfinite(v)) and np.all(np.asarray(v) >= 0)
        assert np.all(r.p_a.sum(-1) <= scen.p_max * (1 + 1e-9))
        if case in ("N=2K-1", "K=3, N=5"):
            assert np.all(r.p_n == 0)            # no jamming null space: nothing radiated there
    if case == "Eve on its user":                # h_1 = f_1: targeted jamming has nowhere to go for user 1
        assert float(precode(scen, "svd-mf").p_n[0]) == 0.0


# --------------------------------------------------------------------------- figures
def test_beyond_figures(tmp_path):
    from nfkg.studies.tables import run_table, save_table, table_ids

    assert {"beyond-j5", "fairness"} <= set(table_ids())
    d = run_table("beyond-j5", {"pt_dbm": [20, 30], "n_ant": 64,
                                "schemes": ["svd-pa", "svd-opt", "svd-mf", "svd-maxmin"]})
    assert d.header[-1] == "svd-mf / svd-pa" and len(d.rows) == 2
    assert all(r[-1] > 1 for r in d.rows) and "svd-mf over svd-pa" in d.text
    files = save_table(d, tmp_path)
    assert [p.suffix for p in files] == [".png", ".pdf", ".csv"] and all(p.stat().st_size > 0 for p in files)
    f = run_table("fairness", {"pt_dbm": [10, 20], "n_ant": 64, "n_users": 3})
    assert len(f.rows) == 2 * 5 and f.header[2:5] == ["user 1", "user 2", "user 3"]
    by = {(r[0], r[1]): r for r in f.rows}
    for pt in (10.0, 20.0):
        assert by[(pt, "svd-maxmin")][-2] >= by[(pt, "svd-opt")][-2] - 1e-9
        assert by[(pt, "svd-maxmin (matched, targeted)")][-2] >= by[(pt, "svd-mf")][-2] - 1e-9
    assert save_table(f, tmp_path)[-1].name == "fairness.csv"
    with pytest.raises(ValueError, match="fairness.n_users"):
        run_table("fairness", {"n_users": 7})
    with pytest.raises(ValueError, match="unknown key"):
        run_table("beyond-j5", {"users": 2})


def test_maxmin_drops_users_that_cannot_get_a_key():
    """Two users at the same place: neither has a signal null space (t11 = 0); the third gets its optimum."""
    scen = Scenario.from_dbm(ULA(64, 30e9), users=[(12.0, -0.6), (12.0, -0.6), (9.0, 0.3)],
                             eves=[(11.9, -0.6), (11.8, -0.6), (8.9, 0.3)], pt_dbm=20)
    ev = evaluate(scen, "svd-maxmin", "isotropic")
    assert list(ev.result.extra["dropped"]) == [True, True, False]
    assert np.all(ev.result.p_a[:2] == 0) and np.all(ev.skr[:2] == 0)
    assert float(ev.skr[2]) == pytest.approx(float(evaluate(scen, "svd-opt", "isotropic").skr[2]), rel=1e-6)
