"""The float64 engine against an independent mpmath reference (``tests/mpref.py``), SPEC 2-5.

For every case ``nfkg.schemes.precoding.evaluate`` is run on a scenario and each user's SKR is
compared with :func:`mpref.skr_reference` computed from the same geometry and powers
(the power split ``p_s, p_n`` of the engine's result is an input of the reference,
so the engine's evaluation is checked, not its optimiser). Tolerance: relative error
<= 1e-8, or absolute <= 1e-10 bits where the reference SKR is below 0.01 bit.

Coverage: P_t -50..60 dBm, noise -200..-60 dBm, V = 1..10^6, K = 1..4, N = 3..32 (and
256 on the inner-product path for ras/mrc), every scheme (ras, mrc, svd, svd-pa),
signal shaping matched/isotropic and jamming isotropic/targeted for the SVD schemes,
scoring general/per-user, Eves from 1 mm to metres from their users (radial and
angular offsets), the issue's case (J5 geometry, MRC, 40 dBm, -200 dBm: 55.39 bits at
N = 256) and a seeded random sweep.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from mpmath import mp, mpf

import mpref
from nfkg.model.channel import ULA
from nfkg.schemes.precoding import evaluate
from nfkg.model.scenario import Scenario

CARRIER_GHZ = 30.0
REL_TOL = 1e-8
ABS_TOL = 1e-10  # bits, where the reference SKR is below SMALL
SMALL = 0.01

# (scheme, shaping, jamming): every scheme and, for the SVD family, every shape combination.
CONFIGS = [
    ("ras", None, None),
    ("mrc", None, None),
    *[(s, sh, jm) for s in ("svd", "svd-pa") for sh in ("matched", "isotropic")
      for jm in ("isotropic", "targeted")],
]
# Operating points (P_t dBm, noise dBm, V): moderate, and the corners of the documented range.
POINTS = {
    "moderate": (20.0, -105.0, 1),
    "pt40-n200": (40.0, -200.0, 1),
    "hi-snr": (60.0, -200.0, 10**6),
    "lo-snr": (-50.0, -60.0, 1),
    "mid-V1e3": (0.0, -150.0, 1000),
}
# Geometry per K (users; Eves 2 cm closer on the same angles, as in J Fig. 5 and 8).
USERS = {
    1: [(12.2, 0.2)],
    2: [(12.0, -0.6), (13.0, 0.6)],
    3: [(12.0, -0.6), (13.0, 0.6), (8.0, 0.1)],
    4: [(12.0, -0.7), (13.0, -0.6), (12.0, 0.5), (13.0, 0.6)],
}
K_OF_POINT = {"moderate": 2, "pt40-n200": 2, "hi-snr": 3, "lo-snr": 1, "mid-V1e3": 4}


def _closer(users, dr=0.02):
    return [(r - dr, psi) for r, psi in users]


def _cid(scheme, shaping, jamming):
    """``mrc``, ``svd-matched-jam_targeted``, ..."""
    return "-".join(x for x in (scheme, shaping, jamming and "jam_" + jamming) if x)


def _case(n_ant, users, eves, pt, noise, v, scheme, shaping=None, jamming=None, scoring="general",
          ue_dbm=None):
    return dict(n_ant=n_ant, users=[tuple(map(float, u)) for u in users],
                eves=[tuple(map(float, e)) for e in eves], pt=float(pt), noise=float(noise), v=int(v),
                scheme=scheme, shaping=shaping, jamming=jamming, scoring=scoring, ue_dbm=ue_dbm)


def run_case(c, method=None, verify=False):
    """Engine SKRs (float) and reference SKRs (mpf) of one case."""
    s = Scenario.from_dbm(ULA(c["n_ant"], CARRIER_GHZ * 1e9), users=c["users"], eves=c["eves"],
                          pt_dbm=c["pt"], ue_dbm=c["ue_dbm"], noise_dbm=c["noise"], pilot_length=c["v"])
    opts = {} if c["jamming"] is None else {"jamming": c["jamming"]}
    ev = evaluate(s, c["scheme"], shaping=c["shaping"], scoring=c["scoring"], **opts)
    shaping = c["shaping"] or ev.result.shaping or "isotropic"
    ref = mpref.skr_reference(
        c["n_ant"], CARRIER_GHZ, c["users"], c["eves"], c["pt"], c["noise"], c["v"], c["scheme"],
        p_s=np.asarray(ev.result.p_s).tolist(), p_n=np.asarray(ev.result.p_n).tolist(),
        shaping=shaping, jamming=c["jamming"] or "isotropic", scoring=c["scoring"],
        ue_dbm=c["ue_dbm"], method=method, verify=verify)
    return ev, np.asarray(ev.skr, dtype=float).reshape(-1), ref


def errors(skr, ref):
    """Per user: (reference, |error|, passes) with the module's tolerance."""
    out = []
    for a, b in zip(skr, ref):
        b = float(b)
        err = abs(float(a) - b) if math.isfinite(float(a)) else math.inf
        ok = err <= REL_TOL * abs(b) or (b < SMALL and err <= ABS_TOL)
        out.append((b, err, ok))
    return out


def assert_matches(c, skr, ref):
    bad = [(k, b, a, e) for k, ((b, e, ok), a) in enumerate(zip(errors(skr, ref), skr)) if not ok]
    assert not bad, "; ".join(
        f"user {k}: engine {a!r} vs reference {b!r} (abs err {e:.3g}, rel {e / max(abs(b), 1e-300):.3g})"
        for k, b, a, e in bad) + f"  [case {c}]"


def _check_fixed_split(c, ev):
    """ras/mrc/svd: the engine's power split is SPEC 5's fixed one (P_max/K; svd halves it)."""
    k, pmax = len(c["users"]), 10 ** ((c["pt"] - 30) / 10)
    p_s = np.asarray(ev.result.p_s, float).reshape(-1)
    want = pmax / k / (2 if c["scheme"] == "svd" else 1)
    np.testing.assert_allclose(p_s, want, rtol=1e-13)
    if c["scheme"] in ("ras", "mrc"):
        assert np.all(np.asarray(ev.result.p_n) == 0)


# ------------------------------------------------------------------ 1. operating grid
GRID = []
for _pname, (_pt, _noise, _v) in POINTS.items():
    _k = K_OF_POINT[_pname]
    _n = {1: 6, 2: 12, 3: 10, 4: 16}[_k]
    for _cfg in CONFIGS:
        for _scoring in ("general", "per-user"):
            GRID.append(pytest.param(
                _case(_n, USERS[_k], _closer(USERS[_k]), _pt, _noise, _v, *_cfg, scoring=_scoring),
                id=f"{_pname}-K{_k}-N{_n}-{_cid(*_cfg)}-{_scoring}"))


@pytest.mark.parametrize("c", GRID)
def test_grid(c):
    ev, skr, ref = run_case(c)
    if c["scheme"] != "svd-pa":
        _check_fixed_split(c, ev)
    assert_matches(c, skr, ref)


# ------------------------------------------------------------------ 2. Eve offsets
# Eve 1 of 2 (both Eves moved alike) at a radial offset dr [m] on the user's angle,
# or an angular offset of an arc length s [m] at the user's distance.
OFFSETS = [("radial", dr) for dr in (-1e-3, 1e-3, -2e-2, 1e-1, -1.0, 3.0)] + \
          [("arc", s) for s in (1e-3, -1e-2, 1.0)]
OFFSET_CONFIGS = [("mrc", None, None), ("svd", "isotropic", "isotropic"), ("svd-pa", "matched", "targeted")]
OFFSET_POINTS = ("moderate", "pt40-n200")


def _moved(users, kind, off):
    if kind == "radial":
        return [(r + off, psi) for r, psi in users]
    return [(r, psi + off / r) for r, psi in users]


OFFSET_CASES = [
    pytest.param(_case(12, USERS[2], _moved(USERS[2], kind, off), *POINTS[p], *cfg),
                 id=f"{p}-{kind}{off:+g}m-{_cid(*cfg)}")
    for p in OFFSET_POINTS for kind, off in OFFSETS for cfg in OFFSET_CONFIGS
]


@pytest.mark.parametrize("c", OFFSET_CASES)
def test_eve_offsets(c):
    _, skr, ref = run_case(c)
    assert_matches(c, skr, ref)


# ------------------------------------------------------------------ 3. K = 1..4, small and edge N
K_CASES = []
for _k in (1, 2, 3, 4):
    for _n in sorted({2 * _k - 1 if _k > 1 else 2, 2 * _k + 1, 24}):
        for _cfg in (("svd", "isotropic", "isotropic"), ("svd-pa", "isotropic", "isotropic"),
                     ("svd", "matched", "isotropic"), ("svd", "isotropic", "targeted"), ("mrc", None, None)):
            K_CASES.append(pytest.param(_case(_n, USERS[_k], _closer(USERS[_k]), 30.0, -105.0, 1, *_cfg),
                                        id=f"K{_k}-N{_n}-{_cid(*_cfg)}"))


@pytest.mark.parametrize("c", K_CASES)
def test_users_and_antennas(c):
    """N = 2K-1 leaves no jamming null space: nothing is radiated there (p_n = 0)."""
    ev, skr, ref = run_case(c)
    if c["n_ant"] == 2 * len(c["users"]) - 1 and c["scheme"].startswith("svd"):
        np.testing.assert_array_equal(np.asarray(ev.result.p_n), 0.0)
    assert_matches(c, skr, ref)


@pytest.mark.parametrize("ue_dbm", [-10.0, 50.0])
@pytest.mark.parametrize("cfg", [("mrc", None, None), ("svd-pa", "isotropic", "isotropic"),
                                 ("svd", "matched", "targeted")], ids=lambda x: _cid(*x))
def test_user_power_differs_from_bs_power(cfg, ue_dbm):
    """P_b != P_max (the BS noise after precoding scales with 1/P_b)."""
    c = _case(12, USERS[2], _closer(USERS[2]), 20.0, -105.0, 1, *cfg, ue_dbm=ue_dbm)
    _, skr, ref = run_case(c)
    assert_matches(c, skr, ref)


# ------------------------------------------------------------------ 4. the issue's case
J5_USERS = [(12.0, -0.6), (13.0, 0.6)]
J5_EVES = [(11.98, -0.6), (12.98, 0.6)]


@pytest.mark.parametrize("n_ant", [8, 16, 32])
@pytest.mark.parametrize("scheme", ["mrc", "ras"])
def test_issue_case_small_n(n_ant, scheme):
    """J5 geometry, 40 dBm, noise -200 dBm (the issue), at N small enough for mp matrices."""
    c = _case(n_ant, J5_USERS, J5_EVES, 40.0, -200.0, 1, scheme)
    _, skr, ref = run_case(c, method="matrix")
    assert_matches(c, skr, ref)


def test_issue_case_n256_reference_value():
    """The reference's own value at N = 256 (inner-product path): 55.39 bits sum for MRC."""
    ref = mpref.skr_reference(256, CARRIER_GHZ, J5_USERS, J5_EVES, 40.0, -200.0, 1, "mrc", method="inner")
    assert float(mp.fsum(ref)) == pytest.approx(55.3915, abs=5e-4)


@pytest.mark.parametrize("scoring", ["general", "per-user"])
@pytest.mark.parametrize("scheme", ["mrc", "ras"])
def test_issue_case_n256(scheme, scoring):
    """N = 256: engine against the inner-product reference (no N x N matrix)."""
    c = _case(256, J5_USERS, J5_EVES, 40.0, -200.0, 1, scheme, scoring=scoring)
    _, skr, ref = run_case(c, method="inner")
    assert_matches(c, skr, ref)


# ------------------------------------------------------------------ 5. seeded random sweep
def random_cases(seed: int, count: int, n_max: int = 20) -> list[dict]:
    """``count`` cases over the documented range, drawn with ``default_rng(seed)``."""
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(count):
        k = int(rng.integers(1, 5))
        n = int(rng.integers(max(6, 2 * k - 1), n_max + 1))
        scheme, shaping, jamming = CONFIGS[int(rng.integers(len(CONFIGS)))]
        scoring = ("general", "per-user")[int(rng.integers(2))]
        r = rng.uniform(3.0, 20.0, k)
        psi = rng.uniform(-1.2, 1.2, k)
        users = list(zip(r, psi))
        off = 10 ** rng.uniform(-3, math.log10(3.0), k) * rng.choice([-1, 1], k)
        eves = [(ri + o, p) if rng.random() < 0.5 else (ri, p + o / ri)
                for ri, p, o in zip(r, psi, off)]
        eves = [(max(re, 1.0), float(np.clip(pe, -1.5, 1.5))) for re, pe in eves]
        pt = float(rng.uniform(-50, 60))
        noise = float(rng.uniform(-200, -60))
        v = int(round(10 ** rng.uniform(0, 6)))
        cases.append(_case(n, users, eves, pt, noise, v, scheme, shaping, jamming, scoring))
    return cases


RANDOM_CASES = [
    pytest.param(c, id=f"seed{i:02d}-K{len(c['users'])}-N{c['n_ant']}-{_cid(c['scheme'], c['shaping'], c['jamming'])}"
                       f"-{c['scoring']}-pt{c['pt']:.0f}-n{c['noise']:.0f}-V{c['v']}")
    for i, c in enumerate(random_cases(20240601, 40))
]


@pytest.mark.parametrize("c", RANDOM_CASES)
def test_random_sweep(c):
    _, skr, ref = run_case(c)
    assert_matches(c, skr, ref)


# ------------------------------------------------------------------ 6. the reference itself
def test_reference_channel_matches_geometry_of_engine():
    """Conventions (array axis, delta_n, phase sign, beta0) agree with nfkg's channel."""
    ula = ULA(16, CARRIER_GHZ * 1e9)
    f = ula.channel(12.2, 0.2)
    with mp.workdps(40):
        lam = mpf(mpref.C_LIGHT) / (mpf(CARRIER_GHZ) * 10**9)
        g = mpref.channel(12.2, 0.2, 16, lam, lam / 2)
        np.testing.assert_allclose(f, np.array([complex(x) for x in g]), rtol=1e-11)


@pytest.mark.parametrize("scoring", ["general", "per-user"])
@pytest.mark.parametrize("scheme", ["ras", "mrc"])
def test_reference_matrix_and_inner_paths_agree(scheme, scoring):
    args = (12, CARRIER_GHZ, USERS[3], _closer(USERS[3], 1e-3), 60.0, -200.0, 10**6, scheme)
    a = mpref.skr_reference(*args, scoring=scoring, method="matrix")
    b = mpref.skr_reference(*args, scoring=scoring, method="inner")
    for x, y in zip(a, b):
        assert abs(x - y) <= mpf(10) ** -40 * max(1, abs(y))


@pytest.mark.parametrize("pt,noise,v", [(60.0, -200.0, 10**6), (-50.0, -60.0, 1)], ids=["hi-snr", "lo-snr"])
@pytest.mark.parametrize("cfg", [("svd", "isotropic", "targeted"), ("svd", "matched", "isotropic")],
                         ids=lambda x: _cid(*x))
def test_reference_converged(cfg, pt, noise, v):
    """Recomputed at 40 more digits, the reference does not move (hardest: 1 mm radial Eves)."""
    mpref.skr_reference(10, CARRIER_GHZ, USERS[3], _closer(USERS[3], 1e-3), pt, noise, v, cfg[0],
                        shaping=cfg[1], jamming=cfg[2], verify=True)


def test_reference_single_user_closed_form():
    """K = 1 SVD has no cross terms: the reference equals SPEC 4's closed form in alpha."""
    with mp.workdps(80):
        lam = mpf(mpref.C_LIGHT) / (mpf(CARRIER_GHZ) * 10**9)
        f = [mpref.channel(12.2, 0.2, 8, lam, lam / 2)]
        h = [mpref.channel(12.0, 0.21, 8, lam, lam / 2)]
        p, n0, vlen = mpf("0.3"), mpf(10) ** -15, mpf(7)
        var = (p * 2, n0, n0, n0, vlen)
        for shaping in ("matched", "isotropic"):
            covs, p_a = mpref.reference_covariances(f, h, "svd", [p / 4], [p * 3 / 4], var, shaping)
            c = covs[0]
            na, nb, ne = p_a[0] * n0 / (vlen * 2 * p), n0 / vlen, n0 / vlen
            sb, se, sae = c[1][1].real - nb, c[2][2].real - ne, c[1][2]
            assert abs(c[0][1] - sb) < mpf(10) ** -70 * sb  # z_a and z_b see the same signal
            alpha = sb - abs(sae) ** 2 / (se + ne)
            closed = mp.log(1 + alpha**2 / ((na + nb) * alpha + na * nb), 2)
            assert abs(mpref.skr_from_covariance(c) - closed) < mpf(10) ** -50


def test_reference_zero_power_user_has_zero_skr():
    ref = mpref.skr_reference(8, CARRIER_GHZ, USERS[2], _closer(USERS[2]), 20.0, -105.0, 1, "svd-pa",
                              p_s=[0.0, 0.05], p_n=[0.0, 0.0])
    assert ref[0] == 0 and ref[1] > 0
