r"""A deliberately naive reference implementation of the papers' formulas.

This module is the *slow, literal* counterpart of nfkg, written from the papers
(``C`` = single-user conference paper, ``J`` = multi-user journal paper) and
``SPEC.md`` only. It builds every covariance as an explicit ``N x N`` matrix and
evaluates every trace by explicit matrix products, exactly as the equations are
printed. It is used for two things:

* the benchmark baseline (``benchmarks/bench_core.py``): how much faster is nfkg's
  low-rank implementation than the form written in the papers;
* an independent cross-check of nfkg's secret key rates
  (``tests/test_naive_crosscheck.py``).

A second, *fairer* naive baseline lives at the end of the module
(:func:`naive_matvec_evaluate`): the same formulas, the same Dinkelbach /
water-filling / alternating optimisation and the same 3 x 3 determinant SKR, but every
covariance is applied to vectors instead of being formed. A null-space projector is
``P_perp x = x - U (U^H x)`` with ``U`` from a per-user thin SVD of the ``N x (2K-2)``
(``N x (2K-1)``) matrix ``R~_k`` (``R~_ek``), and every trace ``Tr(R A R B)`` etc. of
rank-one ``A``, ``B`` becomes a product of bilinear forms. No ``N x N`` matrix is
formed, so it costs ``O(N K^3)`` per scenario instead of ``O(N^3)``; it is what a
careful one-scenario-at-a-time implementation without nfkg's reduced coordinates
would cost.

Independence: the only part of nfkg used here is :mod:`nfkg.model.channel` (the channel
vectors f_k, h_k of C(2)-(3), J(1)-(3)). Null spaces, precoder covariances,
Dinkelbach, water-filling, the alternating optimisation and the secret key rate
are all re-implemented below without touching ``nfkg.engine.subspace``,
``nfkg.engine.secrecy``, ``nfkg.schemes.optimize``, ``nfkg.schemes.precoding`` or ``nfkg.model.scenario``.

What is implemented (SPEC 3-5, 9)
--------------------------------
* ``A_k = h_k h_k^H``, ``B_k = f_k f_k^H`` (``N x N``; SPEC 9: J(27)'s ``s_k`` is ``h_k``).
* Signal covariance ``R_k``:
  - ``isotropic`` (J(13)-(14)): ``P_perp(R~_k)/(N - r_k)``, the projector onto the
    null space of ``R~_k = [f_{i!=k}, h_{i!=k}]`` (``I_N/N`` for K = 1);
  - ``matched`` (C IV): ``u_s u_s^H`` with ``u_s = f/||f||`` for K = 1; for K > 1 the
    SPEC 8 generalisation ``v v^H``, ``v = P_perp(R~_k) f_k / ||.||``.
* Jamming covariance ``R_ek = P_perp(R~_ek)/(N - r_ek)``, ``R~_ek = [f_1..f_K, h_{i!=k}]``
  (J(15)-(16); C's ``U_n U_n^H/(N-1)`` for K = 1).
* Null spaces by :func:`scipy.linalg.null_space` (full SVD, default rank tolerance).
* The traces of C(28)-(29) / J(28)-(29) (``Tr(R A R B)``, ``Tr(R A)``, ``Tr(R B)``,
  ``Tr(R_e A R B)``, ``Tr(R_e A)``) by explicit ``N x N`` products.
* Dinkelbach exactly as C/J Algorithm 1 with SPEC 9's corrections (sub-problem
  ``m1 P^2 + m2 P - beta (m3 P + m4)``; the stationary point is a candidate only when
  ``m1 > 0`` and it lies in ``[0, P_a]``).
* K > 1: the alternating optimisation of J IV from ``P_{a,k} = P_max/K``, with the
  water-filling of J Algorithm 2 (outer bisection on the water level mu, inner
  bisection per user on the derivative J(37) of J(34), coefficients J(33), J(35)),
  ``eps_1 = eps_2 = 1e-10``, and the worst-case BS noise ``P_max sigma_a^2/(V P_b)``
  inside the optimiser (J III-D, SPEC 5/9).
* The SKR of every scheme from the general 3 x 3 covariance of SPEC 3, built from
  the full ``W = sum_i W_i`` and scored as
  ``log2(det K_ae det K_be / (var(z_e) det K_abe))`` with :func:`numpy.linalg.det`.

Choices where the papers leave a gap (documented, not hidden)
-------------------------------------------------------------
* Algorithm 1's stopping rule ``|y(P_t)| <= eps`` is made scale-free:
  ``|y(P_t)| <= DINKELBACH_RTOL * |beta_t| * (m3 P_t + m4)``, i.e. the Dinkelbach
  ratio has stopped changing to ``DINKELBACH_RTOL`` relative (the quantities are
  ~1e-20 W^2, so an absolute eps would be meaningless).
* Algorithm 2's lines 6-14 print the mu-update *inside* the per-user loop; read
  literally, the bracket is then updated from a sum of stale powers and can exclude
  the root. It is implemented as the text describes it: each outer step halves the
  mu bracket once, then every user's ``P_{a,k} = g_k(mu)`` is recomputed by the inner
  bisection. ``mu_min = 0``; ``mu_max = max_k y_k(P_{S,k})`` (at that level every user
  sits at its lower bound, as J asks). The search interval of user k is
  ``[P_{S,k}, P_max]``; a user whose derivative is already below mu at ``P_{S,k}``
  stays there, one whose derivative is above mu at ``P_max`` is capped there.
  Both bisections also stop when the bracket can no longer be halved in floating
  point (the eps are absolute: bits/W and W).
* The alternating optimisation stops when the optimiser's sum objective changes by
  less than ``AO_RTOL`` (relative) over one full iteration.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import scipy.linalg

from nfkg.model.channel import ULA

__all__ = [
    "NaiveScenario",
    "NaiveResult",
    "projector_onto_null_space",
    "svd_covariances",
    "traces",
    "dinkelbach",
    "waterfill_bisection",
    "alternating_optimisation",
    "skr_general",
    "naive_evaluate",
    "VecShape",
    "orthonormal_range",
    "svd_shapes_matvec",
    "traces_matvec",
    "skr_general_matvec",
    "naive_matvec_evaluate",
    "SCHEMES",
]

SCHEMES = ("ras", "mrc", "svd", "svd-pa")
EPS_1 = 1e-10  # J Alg. 2 inner tolerance |y_k - mu| (bits/W)
EPS_2 = 1e-10  # J Alg. 2 outer tolerance |sum P_a - P_max| (W)
DINKELBACH_RTOL = 1e-14
AO_RTOL = 1e-12
AO_MAXITER = 200
LN2 = math.log(2.0)


def dbm_to_w(dbm: float) -> float:
    """SPEC 1: W = 10**((dBm - 30)/10)."""
    return 10.0 ** ((float(dbm) - 30.0) / 10.0)


# --------------------------------------------------------------------------- scenario
@dataclass
class NaiveScenario:
    """One scenario, in the units of SPEC 1 (powers in W after conversion from dBm).

    ``users``/``eves``: sequences of ``(r [m], psi [rad])``; Eve k targets user k.
    """

    n_ant: int
    users: Sequence[tuple[float, float]]
    eves: Sequence[tuple[float, float]]
    pt_dbm: float = 20.0
    ue_dbm: float | None = None
    noise_dbm: float = -105.0
    carrier_hz: float = 30e9
    pilot_length: int = 1

    @property
    def k(self) -> int:
        return len(self.users)

    @property
    def p_max(self) -> float:
        return dbm_to_w(self.pt_dbm)

    @property
    def p_b(self) -> float:
        return dbm_to_w(self.pt_dbm if self.ue_dbm is None else self.ue_dbm)

    @property
    def sigma2(self) -> float:
        return dbm_to_w(self.noise_dbm)

    def channels(self) -> tuple[np.ndarray, np.ndarray]:
        """``f``, ``h`` of shape ``(K, N)`` from :mod:`nfkg.model.channel` (the one allowed import)."""
        ula = ULA(self.n_ant, self.carrier_hz)
        ub = np.asarray(self.users, dtype=float).reshape(-1, 2)
        ue = np.asarray(self.eves, dtype=float).reshape(-1, 2)
        return ula.channel(ub[:, 0], ub[:, 1]), ula.channel(ue[:, 0], ue[:, 1])


@dataclass
class NaiveResult:
    """Per-user SKR [bits/probing] and power split [W] of one scheme."""

    scheme: str
    shaping: str | None
    skr: np.ndarray
    p_s: np.ndarray
    p_n: np.ndarray
    cov: np.ndarray  # (K, 3, 3)
    ao_iterations: int = 0
    budget_met: bool = True  # J Alg. 2 reached |sum P_a - P_max| <= eps_2 (see waterfill_bisection)

    @property
    def sum_skr(self) -> float:
        return float(self.skr.sum())

    @property
    def p_a(self) -> np.ndarray:
        return self.p_s + self.p_n


# --------------------------------------------------------------------------- projectors
def projector_onto_null_space(cols: np.ndarray, n_ant: int) -> tuple[np.ndarray, int]:
    r"""``P_perp = V0 V0^H`` (``N x N``) onto the null space of ``cols^H``, and the rank r.

    ``cols`` is ``N x m`` (the columns of J(13) or J(15)); ``V0`` is the basis of
    J(14)/(16) (``\bar V^{(0)}``), from :func:`scipy.linalg.null_space` of ``cols^H``.
    """
    if cols.shape[1] == 0:
        return np.eye(n_ant, dtype=complex), 0
    v0 = scipy.linalg.null_space(cols.conj().T)  # N x (N - r)
    return v0 @ v0.conj().T, n_ant - v0.shape[1]


def svd_covariances(f: np.ndarray, h: np.ndarray, shaping: str) -> tuple[list[np.ndarray], list[np.ndarray]]:
    r"""The ``N x N`` unit-trace matrices ``R_k`` and ``R_ek`` of every user (J(13)-(16), C IV)."""
    n_users, n_ant = f.shape
    r_list, re_list = [], []
    for k in range(n_users):
        others = [i for i in range(n_users) if i != k]
        r_tilde = np.column_stack([f[i] for i in others] + [h[i] for i in others]) if others \
            else np.zeros((n_ant, 0), dtype=complex)
        r_tilde_e = np.column_stack([f[i] for i in range(n_users)] + [h[i] for i in others])
        p_k, r_k = projector_onto_null_space(r_tilde, n_ant)
        p_ek, r_ek = projector_onto_null_space(r_tilde_e, n_ant)
        if shaping == "isotropic":
            r_mat = p_k / (n_ant - r_k)
        elif shaping == "matched":
            v = p_k @ f[k]
            v = v / np.linalg.norm(v)
            r_mat = np.outer(v, v.conj())
        else:
            raise ValueError(f"unknown shaping {shaping!r}")
        re_mat = p_ek / (n_ant - r_ek) if n_ant > r_ek else np.zeros((n_ant, n_ant), dtype=complex)
        r_list.append(r_mat)
        re_list.append(re_mat)
    return r_list, re_list


def traces(r_mat: np.ndarray, re_mat: np.ndarray, a_mat: np.ndarray, b_mat: np.ndarray) -> dict[str, float]:
    r"""The traces of J(29) (= C(29) for K = 1) by explicit ``N x N`` products.

    ``RARB = Tr(R A R B)``, ``RA = Tr(R A)``, ``RB = Tr(R B)``, ``ReARB = Tr(R_e A R B)``,
    ``ReA = Tr(R_e A)`` (these are J(42)'s ``s1, s2, s5, s3, s4``).
    """
    ra = r_mat @ a_mat
    rar = ra @ r_mat
    rarb = rar @ b_mat
    rb = r_mat @ b_mat
    rea = re_mat @ a_mat
    rear = rea @ r_mat
    rearb = rear @ b_mat
    return {
        "RARB": float(np.trace(rarb).real),
        "RA": float(np.trace(ra).real),
        "RB": float(np.trace(rb).real),
        "ReARB": float(np.trace(rearb).real),
        "ReA": float(np.trace(rea).real),
    }


# --------------------------------------------------------------------------- Algorithm 1
def dinkelbach_coefficients(t: dict[str, float], p_a: float, var_e: float) -> tuple[float, float, float, float]:
    """m_{1..4} of C(29)/J(29)."""
    m1 = t["RARB"] - t["RA"] * t["RB"] + t["ReA"] * t["RB"] - t["ReARB"]
    m2 = p_a * t["ReARB"] - p_a * t["ReA"] * t["RB"] - var_e * t["RB"]
    m3 = t["RA"] - t["ReA"]
    m4 = p_a * t["ReA"] + var_e
    return m1, m2, m3, m4


def dinkelbach(m1: float, m2: float, m3: float, m4: float, p_a: float,
               rtol: float = DINKELBACH_RTOL, maxiter: int = 200) -> tuple[float, float, int]:
    r"""C Algorithm 1 / J Algorithm 1 with SPEC 9's corrections.

    Minimises ``(m1 P^2 + m2 P)/(m3 P + m4)`` on ``[0, P_a]``. Returns ``(P_S, beta, t)``.
    """
    def num(p):
        return m1 * p * p + m2 * p

    def den(p):
        return m3 * p + m4

    def y(p, beta):
        return m1 * p * p + (m2 - beta * m3) * p - beta * m4

    p_prev = p_a  # line 1: P_{S,0} = P_a
    t = 0
    while True:
        t += 1
        beta = num(p_prev) / den(p_prev)  # line 3
        cands = [0.0, p_a]  # line 4
        if m1 > 0:
            stat = (beta * m3 - m2) / (2.0 * m1)
            if 0.0 <= stat <= p_a:
                cands.append(stat)
        vals = [y(c, beta) for c in cands]
        p_t = cands[int(np.argmin(vals))]
        resid = num(p_t) - beta * den(p_t)  # line 2's test
        if abs(resid) <= rtol * abs(beta) * abs(den(p_t)) or resid == 0.0 or t >= maxiter:
            return p_t, beta, t
        p_prev = p_t


# --------------------------------------------------------------------------- Algorithm 2
def waterfill_y(t: dict[str, float], p_s: float, var_e: float) -> tuple[float, float, float, float]:
    """y_{1..4} of J(33)."""
    y1 = p_s * (t["ReARB"] - t["ReA"] * t["RB"])
    y2 = p_s**2 * (t["RARB"] - t["RA"] * t["RB"] + t["ReA"] * t["RB"] - t["ReARB"]) - p_s * var_e * t["RB"]
    y3 = t["ReA"]
    y4 = p_s * (t["RA"] - t["ReA"]) + var_e
    return y1, y2, y3, y4


def waterfill_z(y: tuple[float, float, float, float], var_a: float, var_b: float) -> tuple[float, ...]:
    """z_{1..6} of J(35)."""
    y1, y2, y3, y4 = y
    c, d = var_a + var_b, var_a * var_b
    z1 = -c * y1 * y3 + d * y3**2 + y1**2
    z2 = -c * (y1 * y4 + y2 * y3) + 2 * d * y3 * y4 + 2 * y1 * y2
    z3 = -c * y2 * y4 + d * y4**2 + y2**2
    z4 = -c * y1 * y3 + d * y3**2
    z5 = -c * (y1 * y4 + y2 * y3) + 2 * d * y3 * y4
    z6 = -c * y2 * y4 + d * y4**2
    return z1, z2, z3, z4, z5, z6


def objective_34(z: tuple[float, ...], p: float) -> float:
    """C_k(P_{a,k}) of J(34)."""
    z1, z2, z3, z4, z5, z6 = z
    return math.log2((z1 * p * p + z2 * p + z3) / (z4 * p * p + z5 * p + z6))


def derivative_37(z: tuple[float, ...], p: float) -> float:
    """dC_s/dP_{a,k} of J(37) (the 'increasing rate' y_k of J(40))."""
    z1, z2, z3, z4, z5, z6 = z
    return ((2 * z1 * p + z2) / (LN2 * (z1 * p * p + z2 * p + z3))
            - (2 * z4 * p + z5) / (LN2 * (z4 * p * p + z5 * p + z6)))


def _inner_bisection(z, mu: float, lo: float, hi: float, eps1: float) -> float:
    """Algorithm 2 line 3/13: P in [lo, hi] with |y_k(P) - mu| <= eps1 (y_k decreasing)."""
    if derivative_37(z, lo) <= mu:
        return lo
    if derivative_37(z, hi) >= mu:
        return hi
    a, b = lo, hi
    for _ in range(2000):
        mid = 0.5 * (a + b)
        val = derivative_37(z, mid)
        if abs(val - mu) <= eps1 or mid <= a or mid >= b:
            return mid
        if val > mu:
            a = mid
        else:
            b = mid
    return 0.5 * (a + b)


def waterfill_bisection(zs: list[tuple[float, ...]], p_s: np.ndarray, p_max: float,
                        eps1: float = EPS_1, eps2: float = EPS_2) -> tuple[np.ndarray, float, int]:
    r"""J Algorithm 2: two-level bisection for ``max sum C_k`` s.t. ``sum P_{a,k} = P_max``, ``P_{a,k} >= P_{S,k}``.

    J IV-B-1 asserts that every ``C_k`` is concave on ``[P_{S,k}, inf)`` so that ``y_k`` decreases
    and ``g_k(mu)`` is monotone. That is not true in general: at low SNR (``alpha_k`` small
    against the noise) ``C_k ~ alpha_k^2`` is convex near ``P_{S,k}`` and the slope first rises.
    Then ``g_k(mu)`` jumps, the outer bisection cannot meet ``eps_2`` and this literal
    algorithm returns an allocation that misses the budget (the caller reports it).

    Returns ``(P_a, mu, outer iterations)``.
    """
    n_users = len(zs)
    mu_min = 0.0
    mu_max = max(derivative_37(zs[k], p_s[k]) for k in range(n_users))
    if mu_max <= 0:  # no user gains from power: keep the lower bounds, spread the rest equally
        return p_s + (p_max - p_s.sum()) / n_users, 0.0, 0

    def alloc(mu):
        return np.array([_inner_bisection(zs[k], mu, p_s[k], p_max, eps1) for k in range(n_users)])

    mu = 0.5 * (mu_min + mu_max)  # line 1
    p_a = alloc(mu)  # lines 2-4
    it = 0
    while abs(p_a.sum() - p_max) > eps2:  # line 15
        it += 1
        if p_a.sum() < p_max:  # lines 7-11
            mu_max = mu
        else:
            mu_min = mu
        mu_new = 0.5 * (mu_min + mu_max)  # line 12
        if mu_new == mu or it > 5000:  # bracket exhausted in floating point
            break
        mu = mu_new
        p_a = alloc(mu)  # line 13
    return p_a, mu, it


# --------------------------------------------------------------------------- alternating optimisation (J IV)
def alpha_28(t: dict[str, float], p_s: float, p_a: float, var_e: float) -> float:
    r"""alpha_k from J(28) (minus the ratio), in watts."""
    p_n = p_a - p_s
    num = p_s**2 * t["RARB"] + p_s * p_n * t["ReARB"]
    den = p_s * t["RA"] + p_n * t["ReA"] + var_e
    return p_s * t["RB"] - num / den


def skr_alpha(a: float, var_a: float, var_b: float) -> float:
    """J(22)-(23) / C(23)-(24) as a function of alpha."""
    a = max(a, 0.0)
    return math.log2(1.0 + a * a / ((var_a + var_b) * a + var_a * var_b))


def alternating_optimisation(tr: list[dict[str, float]], p_max: float, var_a_worst: float, var_b: float,
                             var_e: float, rtol: float = AO_RTOL, maxiter: int = AO_MAXITER
                             ) -> tuple[np.ndarray, np.ndarray, int, bool]:
    """J IV: alternate (a) Dinkelbach per user at fixed P_{a,k}, (b) water-filling at fixed P_{S,k}.

    K = 1 is C's single-user Dinkelbach (P_a = P_max). Returns ``(P_S, P_a, iterations, budget_met)``;
    ``budget_met`` is False when the last water-filling missed the budget by more than
    ``max(eps_2, 1e-6 P_max)``,
    which happens where J's concavity premise (J IV-B-1) fails: see :func:`waterfill_bisection`.
    """
    n_users = len(tr)
    p_a = np.full(n_users, p_max / n_users)
    p_s = p_a / 2.0

    def total(p_s, p_a):
        return sum(skr_alpha(alpha_28(tr[k], p_s[k], p_a[k], var_e), var_a_worst, var_b) for k in range(n_users))

    prev = total(p_s, p_a)
    it = 0
    budget_met = True
    for it in range(1, maxiter + 1):
        # (a) Algorithm 1 per user.
        p_s = np.array([min(dinkelbach(*dinkelbach_coefficients(tr[k], p_a[k], var_e), p_a[k])[0], p_a[k])
                        for k in range(n_users)])
        # (b) Algorithm 2 across users.
        if n_users > 1:
            zs = [waterfill_z(waterfill_y(tr[k], p_s[k], var_e), var_a_worst, var_b) for k in range(n_users)]
            p_a_new, _, _ = waterfill_bisection(zs, p_s, p_max)
            # eps_2 itself may be out of reach once the mu bracket is exhausted in floating point
            # (a miss of ~1e-10 W); a gross miss is the failure this flag is for.
            budget_met = abs(p_a_new.sum() - p_max) <= max(EPS_2, 1e-6 * p_max)
            p_a = np.maximum(p_a_new, p_s)
        cur = total(p_s, p_a)
        if abs(cur - prev) <= rtol * abs(cur):
            break
        prev = cur
    return p_s, p_a, it, budget_met


# --------------------------------------------------------------------------- SKR engine (SPEC 3-4)
def _skr_of_upper(c: np.ndarray) -> float:
    """Complete the Hermitian 3 x 3 ``c`` from its upper triangle (in place) and return
    C(13)/J(18) literally: ``log2(det K_ae det K_be / (var(z_e) det K_abe))``."""
    c[1, 0], c[2, 0], c[2, 1] = c[0, 1].conj(), c[0, 2].conj(), c[1, 2].conj()
    k_ae = c[np.ix_([0, 2], [0, 2])]
    k_be = c[np.ix_([1, 2], [1, 2])]
    ratio = (np.linalg.det(k_ae).real * np.linalg.det(k_be).real
             / (c[2, 2].real * np.linalg.det(c).real))
    return math.log2(ratio)


def skr_general(f: np.ndarray, h: np.ndarray, w_list: list[np.ndarray], var_a_unit: float,
                var_b: float, var_e: float) -> tuple[np.ndarray, np.ndarray]:
    r"""SKR of every user from the general 3 x 3 covariance of SPEC 3, with full ``N x N`` matrices.

    ``var_a_unit = sigma_a^2/(V P_b)``; the BS noise of user k is ``tr(W_k)`` times it (J(11)).
    Returns ``(skr (K,), cov (K, 3, 3))``.
    """
    n_users = f.shape[0]
    w_tot = sum(w_list)
    g = f.sum(axis=0)
    skr = np.empty(n_users)
    covs = np.empty((n_users, 3, 3), dtype=complex)
    for k in range(n_users):
        wk = w_list[k]
        fk, hk = f[k], h[k]
        var_ak = np.trace(wk).real * var_a_unit
        c = np.empty((3, 3), dtype=complex)
        c[0, 0] = (g.conj() @ wk @ g).real + var_ak
        c[0, 1] = g.conj() @ wk @ fk
        c[0, 2] = g.conj() @ wk @ hk
        c[1, 1] = (fk.conj() @ w_tot @ fk).real + var_b
        c[1, 2] = fk.conj() @ w_tot @ hk
        c[2, 2] = (hk.conj() @ w_tot @ hk).real + var_e
        skr[k] = _skr_of_upper(c)
        covs[k] = c
    return skr, covs


# --------------------------------------------------------------------------- schemes
def naive_evaluate(sc: NaiveScenario, scheme: str, shaping: str | None = None) -> NaiveResult:
    """Score one scheme on one scenario the naive way. ``shaping`` defaults to the papers' rule."""
    f, h = sc.channels()
    n_users, n_ant = f.shape
    p_max, v = sc.p_max, sc.pilot_length
    var_a_unit = sc.sigma2 / (v * sc.p_b)
    var_b = var_e = sc.sigma2 / v
    p_eq = p_max / n_users
    zeros = np.zeros(n_users)

    if scheme == "ras":  # J VII-A(a): w_k = p_k 1/sqrt(N)
        ones = np.ones(n_ant, dtype=complex)
        w_list = [p_eq * np.outer(ones, ones) / n_ant for _ in range(n_users)]
        skr, cov = skr_general(f, h, w_list, var_a_unit, var_b, var_e)
        return NaiveResult(scheme, None, skr, np.full(n_users, p_eq), zeros, cov)
    if scheme == "mrc":  # C V-B, J VII-A(b): w_k = p_k f_k/||f_k||
        w_list = [p_eq * np.outer(f[k], f[k].conj()) / np.vdot(f[k], f[k]).real for k in range(n_users)]
        skr, cov = skr_general(f, h, w_list, var_a_unit, var_b, var_e)
        return NaiveResult(scheme, None, skr, np.full(n_users, p_eq), zeros, cov)
    if scheme not in ("svd", "svd-pa"):
        raise ValueError(f"unknown scheme {scheme!r}")

    if shaping is None:
        shaping = "matched" if n_users == 1 else "isotropic"
    if n_ant < 2 * n_users - 1:
        raise ValueError("N >= 2K - 1 required")
    r_list, re_list = svd_covariances(f, h, shaping)
    nit, budget_met = 0, True
    if scheme == "svd":
        p_s = np.full(n_users, p_eq / 2.0)
        p_a = np.full(n_users, p_eq)
    else:
        tr = [traces(r_list[k], re_list[k], np.outer(h[k], h[k].conj()), np.outer(f[k], f[k].conj()))
              for k in range(n_users)]
        var_a_worst = p_max * var_a_unit
        p_s, p_a, nit, budget_met = alternating_optimisation(tr, p_max, var_a_worst, var_b, var_e)
    p_n = p_a - p_s
    w_list = [p_s[k] * r_list[k] + p_n[k] * re_list[k] for k in range(n_users)]
    skr, cov = skr_general(f, h, w_list, var_a_unit, var_b, var_e)
    p_n_radiated = np.array([p_n[k] * np.trace(re_list[k]).real for k in range(n_users)])
    return NaiveResult(scheme, shaping, skr, p_s, p_n_radiated, cov, ao_iterations=nit, budget_met=budget_met)


# --------------------------------------------------------------------------- matrix-vector variant
# The "fairer naive": the formulas above, with every N x N matrix replaced by its action on
# vectors. Still one scenario at a time, one user at a time, per-user SVDs, Python loops.
class VecShape:
    r"""A covariance shape ``R`` (``N x N``, never formed) applied to vectors.

    ``kind = 'null'``: ``P_perp(cols)/(N - r)`` with ``P_perp x = x - U (U^H x)``, ``U`` the
    ``N x r`` orthonormal basis of the range of ``cols`` (J(14), J(16); the zero matrix when
    ``N = r``). ``kind = 'beam'``: ``v v^H`` for a unit vector ``v`` (C's ``u_s u_s^H``, the
    RAS and MRC beams, SPEC 8's matched shaping).
    """

    def __init__(self, kind: str, n_ant: int, basis: np.ndarray | None = None, beam: np.ndarray | None = None):
        self.kind, self.n_ant, self.basis, self.beam = kind, int(n_ant), basis, beam
        if kind == "null":
            self.rank = basis.shape[1]
            self.dim = self.n_ant - self.rank
        elif kind != "beam":
            raise ValueError(f"unknown shape kind {kind!r}")

    @property
    def trace(self) -> float:
        """``Tr R``: 1 for a non-empty shape, 0 for the empty null space."""
        return 1.0 if self.kind == "beam" or self.dim > 0 else 0.0

    def perp(self, x: np.ndarray) -> np.ndarray:
        """``P_perp x`` (``x``: ``(N,)`` or ``(N, m)``)."""
        return x - self.basis @ (self.basis.conj().T @ x)

    def apply(self, x: np.ndarray) -> np.ndarray:
        """``R x`` (``x``: ``(N,)`` or ``(N, m)``)."""
        if self.kind == "beam":
            return np.multiply.outer(self.beam, self.beam.conj() @ x) if x.ndim > 1 else \
                self.beam * (self.beam.conj() @ x)
        if self.dim == 0:
            return np.zeros_like(x)
        return self.perp(x) / self.dim


def orthonormal_range(cols: np.ndarray) -> np.ndarray:
    """``N x r`` orthonormal basis of the range of ``cols`` (``N x m``) by a thin SVD.

    Rank tolerance as :func:`scipy.linalg.null_space` (used by the ``N x N`` variant):
    singular values above ``max(N, m) * eps * s_max``.
    """
    n_ant, m = cols.shape
    if m == 0:
        return np.zeros((n_ant, 0), dtype=complex)
    u, sv, _ = np.linalg.svd(cols, full_matrices=False)
    tol = max(n_ant, m) * np.finfo(float).eps * (sv[0] if sv.size else 0.0)
    return u[:, : int(np.count_nonzero(sv > tol))]


def svd_shapes_matvec(f: np.ndarray, h: np.ndarray, shaping: str) -> tuple[list[VecShape], list[VecShape]]:
    r"""``R_k`` and ``R_ek`` of every user (J(13)-(16), C IV, SPEC 8) as :class:`VecShape`.

    Two thin SVDs per user: of ``R~_k = [f_{i!=k}, h_{i!=k}]`` (``N x (2K-2)``) and of
    ``R~_ek = [f_1..f_K, h_{i!=k}]`` (``N x (2K-1)``).
    """
    n_users, n_ant = f.shape
    r_list, re_list = [], []
    for k in range(n_users):
        others = [i for i in range(n_users) if i != k]
        r_tilde = np.column_stack([f[i] for i in others] + [h[i] for i in others]) if others \
            else np.zeros((n_ant, 0), dtype=complex)
        r_tilde_e = np.column_stack([f[i] for i in range(n_users)] + [h[i] for i in others])
        sig = VecShape("null", n_ant, basis=orthonormal_range(r_tilde))
        if shaping == "matched":
            v = sig.perp(f[k])
            sig = VecShape("beam", n_ant, beam=v / np.linalg.norm(v))
        elif shaping != "isotropic":
            raise ValueError(f"unknown shaping {shaping!r}")
        r_list.append(sig)
        re_list.append(VecShape("null", n_ant, basis=orthonormal_range(r_tilde_e)))
    return r_list, re_list


def traces_matvec(r: VecShape, re: VecShape, h: np.ndarray, f: np.ndarray) -> dict[str, float]:
    r"""The traces of :func:`traces` with ``A = h h^H``, ``B = f f^H`` as bilinear forms.

    ``Tr(R A R B) = |h^H R f|^2``, ``Tr(R A) = h^H R h``, ``Tr(R B) = f^H R f``,
    ``Tr(R_e A R B) = (f^H R_e h)(h^H R f)``, ``Tr(R_e A) = h^H R_e h``.
    """
    rf, rh, reh = r.apply(f), r.apply(h), re.apply(h)
    h_r_f = np.vdot(h, rf)
    return {
        "RARB": float((h_r_f * h_r_f.conjugate()).real),
        "RA": float(np.vdot(h, rh).real),
        "RB": float(np.vdot(f, rf).real),
        "ReARB": float((np.vdot(f, reh) * h_r_f).real),
        "ReA": float(np.vdot(h, reh).real),
    }


def skr_general_matvec(f: np.ndarray, h: np.ndarray, w_list: list[list[tuple[float, VecShape]]],
                       var_a_unit: float, var_b: float, var_e: float) -> tuple[np.ndarray, np.ndarray]:
    r""":func:`skr_general` with ``W_k = sum_j P_j R_j`` applied to the ``2K + 1`` vectors
    ``[g, f_1..f_K, h_1..h_K]`` (``g = sum_k f_k``) instead of being formed."""
    n_users = f.shape[0]
    g = f.sum(axis=0)
    y = np.column_stack([g, *f, *h])                                  # N x (2K+1)
    wy = [sum(p * sh.apply(y) for p, sh in wk) for wk in w_list]      # W_k y, K x (N x (2K+1))
    w_tot_y = sum(wy)
    skr = np.empty(n_users)
    covs = np.empty((n_users, 3, 3), dtype=complex)
    for k in range(n_users):
        fk, hk = f[k], h[k]
        jf, jh = 1 + k, 1 + n_users + k
        var_ak = sum(p * sh.trace for p, sh in w_list[k]) * var_a_unit
        c = np.empty((3, 3), dtype=complex)
        c[0, 0] = np.vdot(g, wy[k][:, 0]).real + var_ak
        c[0, 1] = np.vdot(g, wy[k][:, jf])
        c[0, 2] = np.vdot(g, wy[k][:, jh])
        c[1, 1] = np.vdot(fk, w_tot_y[:, jf]).real + var_b
        c[1, 2] = np.vdot(fk, w_tot_y[:, jh])
        c[2, 2] = np.vdot(hk, w_tot_y[:, jh]).real + var_e
        skr[k] = _skr_of_upper(c)
        covs[k] = c
    return skr, covs


def naive_matvec_evaluate(sc: NaiveScenario, scheme: str, shaping: str | None = None) -> NaiveResult:
    """:func:`naive_evaluate` without ``N x N`` matrices (same formulas, same optimiser)."""
    f, h = sc.channels()
    n_users, n_ant = f.shape
    p_max, v = sc.p_max, sc.pilot_length
    var_a_unit = sc.sigma2 / (v * sc.p_b)
    var_b = var_e = sc.sigma2 / v
    p_eq = p_max / n_users
    zeros = np.zeros(n_users)

    if scheme in ("ras", "mrc"):
        if scheme == "ras":  # w_k = p_k 1/sqrt(N)
            beams = [np.full(n_ant, 1.0 / math.sqrt(n_ant), dtype=complex)] * n_users
        else:  # w_k = p_k f_k/||f_k||
            beams = [f[k] / np.linalg.norm(f[k]) for k in range(n_users)]
        w_list = [[(p_eq, VecShape("beam", n_ant, beam=b))] for b in beams]
        skr, cov = skr_general_matvec(f, h, w_list, var_a_unit, var_b, var_e)
        return NaiveResult(scheme, None, skr, np.full(n_users, p_eq), zeros, cov)
    if scheme not in ("svd", "svd-pa"):
        raise ValueError(f"unknown scheme {scheme!r}")

    if shaping is None:
        shaping = "matched" if n_users == 1 else "isotropic"
    if n_ant < 2 * n_users - 1:
        raise ValueError("N >= 2K - 1 required")
    r_list, re_list = svd_shapes_matvec(f, h, shaping)
    nit, budget_met = 0, True
    if scheme == "svd":
        p_s = np.full(n_users, p_eq / 2.0)
        p_a = np.full(n_users, p_eq)
    else:
        tr = [traces_matvec(r_list[k], re_list[k], h[k], f[k]) for k in range(n_users)]
        var_a_worst = p_max * var_a_unit
        p_s, p_a, nit, budget_met = alternating_optimisation(tr, p_max, var_a_worst, var_b, var_e)
    p_n = p_a - p_s
    w_list = [[(p_s[k], r_list[k]), (p_n[k], re_list[k])] for k in range(n_users)]
    skr, cov = skr_general_matvec(f, h, w_list, var_a_unit, var_b, var_e)
    p_n_radiated = np.array([p_n[k] * re_list[k].trace for k in range(n_users)])
    return NaiveResult(scheme, shaping, skr, p_s, p_n_radiated, cov, ao_iterations=nit, budget_met=budget_met)
