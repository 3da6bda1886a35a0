r"""Independent high-precision reference of the secret key rate (SPEC 1-5, 9), in mpmath.

Written from ``SPEC.md`` alone; it shares no code with :mod:`nfkg` (and must never
import it), so that it can check the float64 engine, including at extreme SNR.

Everything is computed in :mod:`mpmath` at a working precision chosen from the
scenario (``dps = 60 + 2 * ceil(log10(SNR_max))``, at least 60 digits), because the
determinant of the 3 x 3 covariance of :math:`(z_a, z_b, z_e)` cancels about
``2 log10(SNR)`` digits (its signal part is low-rank):

* channels, SPEC 2: ULA on the x-axis, :math:`\delta_n = (2n-N+1)/2`,
  :math:`d = s\lambda`, :math:`\lambda = c/f_c` with exact ``c = 299792458``,
  :math:`\beta_0 = (\lambda/4\pi)^2`, :math:`d_0 = 1` m,
  :math:`f[n] = \sqrt{\beta^{(n)}} e^{-j 2\pi (r^{(n)} - r)/\lambda}`;
* precoder covariances :math:`W_k`, SPEC 5 and 8, as explicit ``N x N`` mp matrices
  (``method='matrix'``): ``ras`` :math:`(P_{\max}/K)\,\mathbf{1}\mathbf{1}^H/N`, ``mrc``
  :math:`(P_{\max}/K) f_k f_k^H/\|f_k\|^2`, and the SVD family
  :math:`p_{s,k} R_k + p_{n,k} R_{ek}` with projectors built from an mp orthonormal
  basis (modified Gram-Schmidt, orthogonalised twice);
  for ``ras``/``mrc`` at large N (``method='inner'``) only the inner products
  :math:`u_k^H x` of the rank-one beams are formed, no ``N x N`` matrix;
* the covariance of SPEC 3 for each user (``scoring='general'``: :math:`W = \sum_i W_i`
  in :math:`z_b, z_e`; ``'per-user'``: :math:`W_k`), with noise
  :math:`p_{a,k}\sigma_a^2/(VP_b)`, :math:`\sigma_b^2/V`, :math:`\sigma_e^2/V`;
* :math:`\mathrm{SKR}_k = \log_2\big(\det K_{ae}\det K_{be} / (K_{ee}\det K_{abe})\big)`
  (SPEC 4), 0 when :math:`p_{a,k} = 0`.

The power split of the SVD schemes is an input (the reference checks the engine for
a given split, not the optimiser). Floats given as inputs (distances, angles, powers)
are converted to mp exactly.

Contents
--------
C_LIGHT, dbm_to_watt, channel, orthonormal_basis, precoder_covariances,
reference_covariances, skr_from_covariance, skr_reference, skr_reference_channels
"""

from __future__ import annotations

import math
from typing import Sequence

import mpmath
from mpmath import mp, mpf, mpc

__all__ = [
    "C_LIGHT",
    "SCHEMES",
    "dbm_to_watt",
    "channel",
    "orthonormal_basis",
    "precoder_covariances",
    "reference_covariances",
    "skr_from_covariance",
    "skr_reference",
    "skr_reference_channels",
    "auto_dps",
]

C_LIGHT = 299792458  # m/s, exact (SI)
SCHEMES = ("ras", "mrc", "svd", "svd-pa")
MIN_DPS = 60


# ----------------------------------------------------------------------------- helpers
def dbm_to_watt(dbm) -> mpf:
    """:math:`10^{(P_\\mathrm{dBm} - 30)/10}` in mp."""
    return mpf(10) ** ((mpf(dbm) - 30) / 10)


def _dot_h(x, y):
    r""":math:`x^H y = \sum_i \bar x_i y_i`."""
    return mpmath.fdot(y, x, conjugate=True)


def _norm(x) -> mpf:
    return mp.sqrt(mpmath.fsum(abs(v) ** 2 for v in x))


def _matvec(a, x):
    return [mpmath.fdot(row, x) for row in a]


def _form(a, x, y):
    r""":math:`x^H A y`."""
    return _dot_h(x, _matvec(a, y))


def _zeros(n):
    return [[mpf(0)] * n for _ in range(n)]


def _outer(u, v, scale=1):
    r"""``scale * u v^H`` as a list of rows."""
    vc = [mp.conj(b) for b in v]
    return [[scale * a * b for b in vc] for a in u]


def _axpy(acc, a, scale):
    """``acc += scale * a`` for N x N lists (in place)."""
    for ra, rb in zip(acc, a):
        for j, b in enumerate(rb):
            ra[j] += scale * b


# ----------------------------------------------------------------------------- channel
def channel(r, psi, n_ant: int, wavelength, spacing, pathloss_exponent=2, d0=1) -> list:
    r"""Near-field channel of SPEC 2 (C(2)-(3), J(1)-(3)) as a list of N ``mpc``.

    .. math::
        r^{(n)} = \sqrt{r^2 + d^2\delta_n^2 - 2 r \sin\psi\, d \delta_n},\quad
        f[n] = \sqrt{\beta_0 (d_0/r^{(n)})^{\epsilon}}\; e^{-j\frac{2\pi}{\lambda}(r^{(n)} - r)}

    Evaluated at the current ``mp.dps``.
    """
    r, theta = mpf(r), mp.sin(mpf(psi))
    wavelength, spacing = mpf(wavelength), mpf(spacing)
    eps, d0 = mpf(pathloss_exponent), mpf(d0)
    beta0 = (wavelength / (4 * mp.pi)) ** 2
    k0 = 2 * mp.pi / wavelength
    out = []
    for n in range(int(n_ant)):
        x = spacing * mpf(2 * n - n_ant + 1) / 2
        rn = mp.sqrt(r * r + x * x - 2 * r * theta * x)
        out.append(mp.sqrt(beta0 * (d0 / rn) ** eps) * mp.expj(-k0 * (rn - r)))
    return out


# ------------------------------------------------------------------------ subspaces
def orthonormal_basis(cols: Sequence[Sequence], rel_tol=None) -> list:
    """Orthonormal basis of the span of ``cols`` (each a list of N mp numbers).

    Modified Gram-Schmidt, every vector orthogonalised twice; a vector whose
    residual is below ``rel_tol`` (default ``10**(-dps/2)``) times its norm is
    taken as dependent and dropped. Returns the list of basis vectors (the rank is
    its length).
    """
    rel_tol = mpf(10) ** (-mp.dps // 2) if rel_tol is None else mpf(rel_tol)
    basis: list = []
    for a in cols:
        v = list(a)
        n0 = _norm(v)
        if n0 == 0:
            continue
        for _ in range(2):
            for q in basis:
                c = _dot_h(q, v)
                v = [vi - c * qi for vi, qi in zip(v, q)]
        nv = _norm(v)
        if nv <= rel_tol * n0:
            continue
        basis.append([vi / nv for vi in v])
    return basis


def _complement_projector(basis, n):
    r""":math:`I - QQ^H` as an explicit N x N list."""
    p = _zeros(n)
    for i in range(n):
        p[i][i] = mpf(1)
    for q in basis:
        _axpy(p, _outer(q, q), -1)
    return p


# ------------------------------------------------------------------------ precoders
def _check_scheme(scheme, shaping, jamming, scoring):
    if scheme not in SCHEMES:
        raise ValueError(f"scheme: one of {SCHEMES}, got {scheme!r}")
    if shaping not in (None, "matched", "isotropic"):
        raise ValueError(f"shaping: 'matched' or 'isotropic', got {shaping!r}")
    if jamming not in ("isotropic", "targeted"):
        raise ValueError(f"jamming: 'isotropic' or 'targeted', got {jamming!r}")
    if scoring not in ("general", "per-user"):
        raise ValueError(f"scoring: 'general' or 'per-user', got {scoring!r}")


def _powers(scheme, n_users, p_max, p_s, p_n):
    """Per-user ``(p_s, p_n)`` in mp: defaults for ras/mrc/svd, required for svd-pa."""
    if p_s is None or p_n is None:
        if scheme in ("ras", "mrc"):
            return [p_max / n_users] * n_users, [mpf(0)] * n_users
        if scheme == "svd":
            half = p_max / (2 * n_users)
            return [half] * n_users, [half] * n_users
        raise ValueError("p_s, p_n: required for scheme 'svd-pa' (the reference takes the split as input)")
    p_s, p_n = [mpf(float(x)) for x in p_s], [mpf(float(x)) for x in p_n]
    if len(p_s) != n_users or len(p_n) != n_users:
        raise ValueError(f"p_s, p_n: need {n_users} values each")
    return p_s, p_n


def precoder_covariances(f, h, scheme, p_s, p_n, shaping="isotropic", jamming="isotropic"):
    r"""Explicit ``N x N`` covariances :math:`W_k` (list of K lists of rows) and traces.

    Parameters
    ----------
    f, h : list of K lists of N mpc
        Users' and Eves' channels.
    scheme : {'ras', 'mrc', 'svd', 'svd-pa'}
    p_s, p_n : list of K mpf
        Power on the signal shape and on the jamming shape (ras/mrc: ``p_n = 0``).
    shaping : {'isotropic', 'matched'}
        SVD signal shape: :math:`P_\perp(\tilde R_k)/(N - r_k)` (J(13)-(14)) or
        :math:`vv^H`, :math:`v = P_\perp f_k/\|P_\perp f_k\|` (C IV, SPEC 8).
    jamming : {'isotropic', 'targeted'}
        SVD jamming shape: :math:`P_\perp(\tilde R_{ek})/(N - r_{ek})` (J(15)-(16)) or
        :math:`qq^H`, :math:`q = P_\perp h_k/\|P_\perp h_k\|` (SPEC 8).

    Returns
    -------
    w : list of K N x N lists
    p_a : list of K mpf, :math:`\mathrm{tr}\, W_k`
    """
    k_users, n = len(f), len(f[0])
    ws, traces = [], []
    for k in range(k_users):
        w = _zeros(n)
        tr = mpf(0)
        if scheme == "ras":
            _axpy(w, _outer([mpf(1)] * n, [mpf(1)] * n), p_s[k] / n)
            tr = p_s[k]
        elif scheme == "mrc":
            _axpy(w, _outer(f[k], f[k]), p_s[k] / _norm(f[k]) ** 2)
            tr = p_s[k]
        else:
            if n < 2 * k_users - 1:
                raise ValueError(f"SVD precoding needs N >= 2K-1, got N={n}, K={k_users}")
            others = [i for i in range(k_users) if i != k]
            q_sig = orthonormal_basis([f[i] for i in others] + [h[i] for i in others])
            q_jam = orthonormal_basis(list(f) + [h[i] for i in others])
            # signal shape R_k
            if shaping == "matched":
                v = f[k]
                for q in q_sig:
                    v = [a - _dot_h(q, v) * b for a, b in zip(v, q)]
                nv = _norm(v)
                if nv > 0 and p_s[k] != 0:
                    _axpy(w, _outer(v, v), p_s[k] / nv ** 2)
                    tr += p_s[k]
            else:
                dim = n - len(q_sig)
                if dim > 0 and p_s[k] != 0:
                    _axpy(w, _complement_projector(q_sig, n), p_s[k] / dim)
                    tr += p_s[k]
            # jamming shape R_ek
            if jamming == "targeted":
                v = h[k]
                for q in q_jam:
                    v = [a - _dot_h(q, v) * b for a, b in zip(v, q)]
                nv = _norm(v)
                if len(q_jam) < n and nv > 0 and p_n[k] != 0:
                    _axpy(w, _outer(v, v), p_n[k] / nv ** 2)
                    tr += p_n[k]
            else:
                dim = n - len(q_jam)
                if dim > 0 and p_n[k] != 0:
                    _axpy(w, _complement_projector(q_jam, n), p_n[k] / dim)
                    tr += p_n[k]
        ws.append(w)
        traces.append(tr)
    return ws, traces


# ------------------------------------------------------------------------ covariance
def _cov_from_forms(aa, ab, ae, bb, be, ee, var_na, var_nb, var_ne):
    return [[aa + var_na, ab, ae],
            [mp.conj(ab), bb + var_nb, be],
            [mp.conj(ae), mp.conj(be), ee + var_ne]]


def skr_from_covariance(c) -> mpf:
    r""":math:`\log_2\big(\det K_{ae}\det K_{be}/(K_{ee}\det K_{abe})\big)` of a 3 x 3
    Hermitian covariance of :math:`(z_a, z_b, z_e)`, SPEC 4, with exact 2x2/3x3 formulas."""
    kaa, kbb, kee = mp.re(c[0][0]), mp.re(c[1][1]), mp.re(c[2][2])
    kab, kae, kbe = c[0][1], c[0][2], c[1][2]
    det_ae = kaa * kee - abs(kae) ** 2
    det_be = kbb * kee - abs(kbe) ** 2
    det_abe = (kaa * kbb * kee + 2 * mp.re(kab * kbe * mp.conj(kae))
               - kaa * abs(kbe) ** 2 - kbb * abs(kae) ** 2 - kee * abs(kab) ** 2)
    if det_abe <= 0:
        raise ArithmeticError(f"det K_abe = {mpmath.nstr(det_abe, 5)} <= 0: raise the precision")
    val = mp.log(det_ae * det_be / (kee * det_abe), 2)
    return val


def _noise(n_users, p_a, p_b, s2a, s2b, s2e, v):
    return ([p * s2a / (v * p_b) for p in p_a], s2b / v, s2e / v)


def reference_covariances(f, h, scheme, p_s, p_n, var, shaping="isotropic", jamming="isotropic",
                          scoring="general", method="matrix"):
    """Per-user 3 x 3 covariances of SPEC 3 and the traces :math:`p_{a,k}`.

    ``var = (p_b, sigma2_a, sigma2_b, sigma2_e, V)`` in mp. ``method='matrix'`` forms
    every :math:`W_k` as an N x N matrix; ``'inner'`` (ras/mrc only) uses the rank-one
    factors :math:`W_k = P_k u_k u_k^H` through the inner products :math:`u_k^H x`.
    """
    k_users, n = len(f), len(f[0])
    g = [mpmath.fsum(col) for col in zip(*f)]
    p_b, s2a, s2b, s2e, v = var
    covs = []
    if method == "inner":
        if scheme not in ("ras", "mrc"):
            raise ValueError("method='inner' is only for the rank-one schemes ras and mrc")
        if scheme == "ras":
            u = [[mpf(1) / mp.sqrt(n)] * n for _ in range(k_users)]
        else:
            u = [[x / _norm(fk) for x in fk] for fk in f]
        p_a = list(p_s)
        # c[i][x] = u_i^H x, x in (g, f_k, h_k); x^H W_i y = p_i conj(c[i][x]) c[i][y]
        cg = [_dot_h(u[i], g) for i in range(k_users)]
        cf = [[_dot_h(u[i], f[k]) for k in range(k_users)] for i in range(k_users)]
        ch = [[_dot_h(u[i], h[k]) for k in range(k_users)] for i in range(k_users)]
        var_na, var_nb, var_ne = _noise(k_users, p_a, p_b, s2a, s2b, s2e, v)
        for k in range(k_users):
            pk = p_s[k]
            aa = pk * abs(cg[k]) ** 2
            ab = pk * mp.conj(cg[k]) * cf[k][k]
            ae = pk * mp.conj(cg[k]) * ch[k][k]
            users = range(k_users) if scoring == "general" else (k,)
            bb = mpmath.fsum(p_s[i] * abs(cf[i][k]) ** 2 for i in users)
            be = mpmath.fsum(p_s[i] * mp.conj(cf[i][k]) * ch[i][k] for i in users)
            ee = mpmath.fsum(p_s[i] * abs(ch[i][k]) ** 2 for i in users)
            covs.append(_cov_from_forms(aa, ab, ae, bb, be, ee, var_na[k], var_nb, var_ne))
        return covs, p_a
    ws, p_a = precoder_covariances(f, h, scheme, p_s, p_n, shaping, jamming)
    var_na, var_nb, var_ne = _noise(k_users, p_a, p_b, s2a, s2b, s2e, v)
    w_sum = None
    if scoring == "general":
        w_sum = _zeros(n)
        for w in ws:
            _axpy(w_sum, w, 1)
    for k in range(k_users):
        wk = ws[k]
        w = w_sum if scoring == "general" else wk
        wg = _matvec(wk, g)
        wf, wh = _matvec(w, f[k]), _matvec(w, h[k])
        aa = mp.re(_dot_h(g, wg))
        ab = _dot_h(wg, f[k])  # g^H W_k f_k = (W_k g)^H f_k, W_k Hermitian
        ae = _dot_h(wg, h[k])
        bb = mp.re(_dot_h(f[k], wf))
        be = _dot_h(f[k], wh)
        ee = mp.re(_dot_h(h[k], wh))
        covs.append(_cov_from_forms(aa, ab, ae, bb, be, ee, var_na[k], var_nb, var_ne))
    return covs, p_a


def _skrs(covs, p_a):
    out = []
    for c, pa in zip(covs, p_a):
        out.append(mpf(0) if pa == 0 else skr_from_covariance(c))
    return out


# ------------------------------------------------------------------------ precision
def auto_dps(n_ant, wavelength, spacing, nodes, pt_dbm, ue_dbm, noise_dbm, pilot_length,
             pathloss_exponent=2.0, n_users=1) -> int:
    """Working precision: ``60 + 2 * ceil(log10 SNR_max)`` digits.

    ``SNR_max = max(P_max, P_b) V K^2 N beta_max / sigma^2`` bounds every signal-to-noise
    ratio in the covariance; the determinant of the 3 x 3 covariance loses about
    twice its digits, near-parallel user and Eve channels a few tens more (covered by
    the 60 base digits; :func:`skr_reference` with ``verify=True`` checks it).
    """
    # a lower bound on the distance from any node to any antenna, in floats (only sizes matter)
    half = spacing * (n_ant - 1) / 2.0
    r_min = min(max(abs(float(r)) - half, 1e-3) for r, _ in nodes)
    for r, psi in nodes:
        for n in (0, n_ant - 1):
            x = spacing * (2 * n - n_ant + 1) / 2.0
            r_min = min(r_min, math.sqrt(max(r * r + x * x - 2 * r * math.sin(psi) * x, 1e-30)))
    beta_max = (wavelength / (4 * math.pi)) ** 2 * r_min ** (-pathloss_exponent)
    p_big = 10 ** ((max(pt_dbm, ue_dbm) - 30) / 10)
    snr = p_big * pilot_length * n_users ** 2 * n_ant * beta_max / 10 ** ((noise_dbm - 30) / 10)
    digits = max(0.0, math.log10(snr))
    return MIN_DPS + 2 * int(math.ceil(digits))


# ----------------------------------------------------------------------------- API
def skr_reference_channels(f, h, scheme, p_s, p_n, p_max, p_b, sigma2, pilot_length,
                           shaping="isotropic", jamming="isotropic", scoring="general",
                           method="matrix", dps=80) -> list:
    """SKR per user from given channels (e.g. the engine's float64 vectors, converted
    exactly), with every other step in mp at ``dps`` digits.

    ``sigma2`` is the common noise power [W] or a triple ``(sigma_a^2, sigma_b^2, sigma_e^2)``.
    Used to separate the error of the channel generation from that of the engine.
    """
    _check_scheme(scheme, shaping, jamming, scoring)
    with mp.workdps(dps):
        f = [[mpc(complex(x)) if not isinstance(x, mpc) else x for x in row] for row in f]
        h = [[mpc(complex(x)) if not isinstance(x, mpc) else x for x in row] for row in h]
        k = len(f)
        p_max, p_b = mpf(p_max), mpf(p_b)
        s2 = [mpf(x) for x in sigma2] if isinstance(sigma2, (tuple, list)) else [mpf(sigma2)] * 3
        ps, pn = _powers(scheme, k, p_max, p_s, p_n)
        covs, p_a = reference_covariances(f, h, scheme, ps, pn, (p_b, *s2, mpf(pilot_length)),
                                          shaping, jamming, scoring, method)
        return [+x for x in _skrs(covs, p_a)]


def skr_reference(n_ant, carrier_ghz, users, eves, pt_dbm, noise_dbm, pilot_length, scheme,
                  p_s=None, p_n=None, shaping="isotropic", jamming="isotropic", scoring="general",
                  spacing_wavelengths=0.5, pathloss_exponent=2.0, ue_dbm=None, method=None,
                  dps=None, verify=False) -> list:
    r"""High-precision SKR of every user from geometry and powers (SPEC 2-5).

    Parameters
    ----------
    n_ant : int
        N.
    carrier_ghz : float
        :math:`f_c` [GHz].
    users, eves : sequence of ``(r [m], psi [rad])``
        K users and their K eavesdroppers (Eve k targets user k).
    pt_dbm, noise_dbm : float
        :math:`P_{\max}` (and :math:`P_b` unless ``ue_dbm``) and the common noise
        power :math:`\sigma_a^2 = \sigma_b^2 = \sigma_e^2` [dBm].
    pilot_length : int
        V.
    scheme : {'ras', 'mrc', 'svd', 'svd-pa'}
    p_s, p_n : sequence of K floats, optional
        Power split [W] (the power on the signal shape and the power radiated on the
        jamming shape). Required for ``svd-pa``; defaults: ``P_max/K, 0`` (ras, mrc),
        ``P_max/(2K)`` each (svd).
    shaping, jamming, scoring : str
        See :func:`precoder_covariances`; ``scoring`` is ``'general'`` (SPEC 3) or
        ``'per-user'`` (J(19): :math:`W \to W_k` in :math:`z_b, z_e`).
    method : {'matrix', 'inner'}, optional
        ``'matrix'`` (explicit N x N :math:`W_k`, default for N <= 64) or ``'inner'``
        (ras/mrc only, any N; default for N > 64).
    dps : int, optional
        Working decimal digits; :func:`auto_dps` by default.
    verify : bool
        Recompute at ``dps + 40`` digits and raise ``ArithmeticError`` unless the two
        agree to ``1e-30`` (relative, or absolute below 1 bit).

    Returns
    -------
    list of K mpf
        SKR [bits per probing], at the working precision.
    """
    _check_scheme(scheme, shaping, jamming, scoring)
    users, eves = [tuple(map(float, u)) for u in users], [tuple(map(float, e)) for e in eves]
    if len(users) != len(eves) or not users:
        raise ValueError("users, eves: need K >= 1 users and one Eve per user")
    ue_dbm = pt_dbm if ue_dbm is None else ue_dbm
    if method is None:
        method = "matrix" if n_ant <= 64 or scheme not in ("ras", "mrc") else "inner"
    if dps is None:
        lam = C_LIGHT / (float(carrier_ghz) * 1e9)
        dps = auto_dps(n_ant, lam, spacing_wavelengths * lam, users + eves, float(pt_dbm),
                       float(ue_dbm), float(noise_dbm), int(pilot_length), pathloss_exponent,
                       len(users))

    def run(digits):
        with mp.workdps(digits):
            lam = mpf(C_LIGHT) / (mpf(carrier_ghz) * 10 ** 9)
            d = mpf(spacing_wavelengths) * lam
            f = [channel(r, psi, n_ant, lam, d, pathloss_exponent) for r, psi in users]
            h = [channel(r, psi, n_ant, lam, d, pathloss_exponent) for r, psi in eves]
            p_max, p_b, s2 = dbm_to_watt(pt_dbm), dbm_to_watt(ue_dbm), dbm_to_watt(noise_dbm)
            ps, pn = _powers(scheme, len(users), p_max, p_s, p_n)
            covs, p_a = reference_covariances(f, h, scheme, ps, pn, (p_b, s2, s2, s2, mpf(pilot_length)),
                                              shaping, jamming, scoring, method)
            return _skrs(covs, p_a)

    out = run(dps)
    if verify:
        hi = run(dps + 40)
        with mp.workdps(dps + 40):
            for a, b in zip(out, hi):
                if abs(a - b) > mpf(10) ** -30 * max(1, abs(b)):
                    raise ArithmeticError(f"reference not converged at dps={dps}: {a} vs {b}")
    return out
