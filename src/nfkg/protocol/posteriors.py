r"""Posteriors of the multilevel quantiser's levels given the decoder's soft observation.

The cell masses under the decoder's Gaussian (or robust mixture) conditional of the
reference's component, and from them :math:`P(B_i = 1 \mid \mu, B_0..B_{i-1})` for each sample
(:func:`level_posteriors`), as :mod:`nfkg.protocol.multilevel`'s multistage decoding and Eve's
decoder use them (the quantiser, the levels and the protocol are described there). Every mass
is a difference of two normal CDFs, each taken from the tail on its own side of the mean.

The work is in the normal CDF, so it is evaluated as few times as the results allow, with the
same numbers: consecutive candidate cells share their edges' values (:func:`_run_prob`),
several levels with the same known levels share their candidates' masses (:func:`_posteriors`),
and the multistage decoder keeps each level's masses for the next (``memo``). With numba (the
``fast`` extra) the loop over the samples runs compiled (``nfkg.protocol._ml_numba``), with
the same posteriors bit for bit.

Contents
--------
level_posteriors
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

__all__ = ["level_posteriors"]

#: Half-width of the posterior window, in conditional standard deviations (P beyond: 1e-15).
_WINDOW = 8.0
#: Most candidate cells per sample in one posterior evaluation (wider: the level is uniform).
_MAX_CANDIDATES = 512
#: Candidate cells per posterior evaluation (samples x candidates; small enough to stay in cache).
_CELLS = 1 << 16
#: Most candidates per sample whose masses the multistage decoder keeps for the next level.
_MEMO_CANDIDATES = 64


def _cell_prob(q: np.ndarray, mu: np.ndarray, s: float, quant) -> np.ndarray:
    r"""P(cell q) under N(mu, s^2) (normalised units), 0 outside [0, L).

    A difference of two normal CDFs, each from the tail on its own side of the mean
    (:math:`\Phi(z) = 1 - \Phi(-z)`): a cell's mass keeps full relative precision wherever
    both of its edges lie on one side of the mean, and an absolute error below 1e-16 where
    they straddle it (the mass is then at least :math:`\Phi(-\Delta/s)`-sized)."""
    from scipy.special import ndtr

    L, d = quant.levels, quant.step
    lo = np.where(q <= 0, -np.inf, (q - L / 2) * d)
    hi = np.where(q >= L - 1, np.inf, (q + 1 - L / 2) * d)
    za, zb = (lo - mu) / s, (hi - mu) / s
    right = za > 0                                   # the whole cell above the mean: upper tails
    np.negative(za, out=za, where=right)
    np.negative(zb, out=zb, where=right)
    fa, fb = ndtr(za), ndtr(zb)
    p = np.where(right, fa - fb, fb - fa)
    return np.where((q >= 0) & (q < L), p, 0.0)


def _run_prob(q0: np.ndarray, nk: int, mu: np.ndarray, s: float, quant) -> np.ndarray:
    r""":func:`_cell_prob` of the consecutive cells ``q0 + k``, ``k = 0..nk-1``: ``(n, nk)``.

    Adjacent cells share an edge, so the normal CDF is evaluated once per edge (``nk + 1`` per
    sample, and once more at the upper edge of the cell that straddles the mean) instead of
    twice per cell: each edge's :math:`\Phi(-|z|)` is the tail that both of its cells use,
    except at the straddling cell's upper edge, whose :math:`\Phi(z)` is evaluated directly.
    Every mass is the same difference of the same two numbers as in :func:`_cell_prob`, so
    the result is equal to it bit for bit (tested)."""
    from scipy.special import ndtr

    L, d = quant.levels, quant.step
    r = q0.astype(np.int64)[:, None] + np.arange(nk + 1)     # edge r: lower edge of cell r
    e = np.where(r <= 0, -np.inf, np.where(r >= L, np.inf, (r - L / 2) * d))
    z = (e - mu[:, None]) / s
    pos = z > 0
    a = ndtr(-np.abs(z))                       # the tail on each edge's own side of the mean
    upper = a[:, 1:].copy()                    # Phi(z) at each cell's upper edge ...
    strad = pos[:, 1:] & ~pos[:, :-1]          # ... evaluated where it lies above the mean
    upper[strad] = ndtr(z[:, 1:][strad])       # (below it, Phi(z) is the tail itself)
    p = np.where(pos[:, :-1], a[:, :-1] - a[:, 1:], upper - a[:, :-1])
    q = r[:, :-1]
    return np.where((q >= 0) & (q < L), p, 0.0)


def level_posteriors(mu: np.ndarray, s: float, lower: np.ndarray | None, level: int,
                     quant, tail: tuple[float, float] | None = None,
                     known: int | None = None, window: float | None = None) -> np.ndarray:
    r""":math:`P(B_i = 1 \mid \mu, B_0..B_{i-1})` for each sample (multistage decoding).

    Parameters
    ----------
    mu : ndarray ``(n,)``
        Conditional mean of the reference's normalised component given the decoder's observation.
    s : float
        Conditional standard deviation (normalised).
    lower : ndarray ``(n,)`` of int, optional
        The decoder's values of the levels below, :math:`q \bmod 2^i` (ignored for level 0).
    level : int
        :math:`i`.
    quant : nfkg.protocol.multilevel.UniformQuantizer
    tail : (eps, kappa), optional
        Posteriors of the mixture :math:`(1-\epsilon)\mathcal N(\mu, s^2) + \epsilon\mathcal N(\mu, \kappa^2 s^2)`
        instead of the Gaussian (:data:`~nfkg.protocol.multilevel.TAIL` for the legitimate decoder:
        see :mod:`nfkg.protocol.multilevel`).
    known : int, optional
        How many of the lowest levels ``lower`` fixes, :math:`j \le i` (default :math:`i`): the
        levels :math:`j..i-1` are then summed over (Eve, after a level she could not decode).
    window : float, optional
        Half-width of the candidates' window in (mixture) standard deviations (default 8:
        the mass beyond is 1e-15; Eve's diagnostic decoder uses :data:`~nfkg.protocol.multilevel.EVE_WINDOW`).

    Returns
    -------
    ndarray ``(n,)``: the probabilities. Candidates are the cells :math:`q \equiv` ``lower``
    :math:`\pmod{2^j}` within :math:`\pm 8s` of :math:`\mu`; when the spacing
    :math:`2^{i}\Delta` of the cells of one value of :math:`B_i` is below :math:`s/4` the
    level is uniform to double precision (Poisson summation: the deviation is about
    :math:`2e^{-2\pi^2 (s/2^{i+1}\Delta)^2}`) and 1/2 is returned.
    """
    i = int(level)
    i_known = i if known is None else min(max(int(known), 0), i)
    return _posteriors(mu, s, lower, (i,), quant, tail, i_known, window)[i]


def _posteriors(mu: np.ndarray, s: float, lower: np.ndarray | None, levels: tuple,
                quant, tail: tuple[float, float] | None, i_known: int,
                window: float | None, memo: dict | None = None) -> dict:
    r""":func:`level_posteriors` of several levels :math:`i \ge` ``i_known`` with the same known
    levels, ``{i: posteriors}``: the candidate cells and their masses depend on ``i_known``
    only, so they are computed once and each level only sums its own half of them (Eve, once
    she is stuck at a level, conditions every later level on the same ones).

    ``memo`` (a dict the caller keeps across the levels of one block) holds the candidates'
    masses of the previous call: the candidates of level :math:`i + 1` given the decoded
    :math:`B_i` are every other candidate of level :math:`i`, the same cells with the same
    masses, so only those outside the previous window are computed (the multistage decoder,
    level after level with the same ``s``, ``tail`` and ``window``)."""
    mu = np.asarray(mu, float)
    n = mu.size
    out: dict = {}
    shared = []
    period = (1 << i_known) * quant.step            # spacing of the candidate cells
    eps, kappa = (0.0, 1.0) if tail is None else (float(tail[0]), float(tail[1]))
    w = s * (kappa if eps > 0 else 1.0) * ((_WINDOW if window is None else float(window)) / _WINDOW)
    for i in levels:
        if 2.0 * (1 << i) * quant.step <= s / 4.0:
            out[i] = np.full(n, 0.5)
        elif i_known < i and 2.0 * period <= s / 4.0:
            # the known levels are uniform at this resolution (Poisson summation, as above): B_i is
            # the parity of the run of 2^i cells, i.e. level 0 of the quantiser with step 2^i Delta
            runs = replace(quant, step=(1 << i) * quant.step, bits=quant.bits - i)
            out[i] = level_posteriors(mu, s, None, 0, runs, tail, window=window)
        else:
            shared.append(i)
    if not shared:
        return out
    lower = np.zeros(n, np.int64) if (i_known == 0 or lower is None) else \
        np.asarray(lower, np.int64) & ((1 << i_known) - 1)
    L = quant.levels
    nk = int(math.ceil(2.0 * _WINDOW * w / period)) + 3
    nk = min(nk, _MAX_CANDIDATES, (L >> i_known) + 1)
    res = {i: np.empty(n) for i in shared}
    chunk = max(64, _CELLS // nk)
    setting = (n, float(s), eps, kappa, w, quant.step, quant.bits)
    prev = memo.get("masses") if memo is not None and memo.get("setting") == setting else None
    keep = memo is not None and nk <= _MEMO_CANDIDATES
    if keep:
        new_first, new_p = np.empty(n, np.int64), np.empty((n, nk))
    if _compiled():
        from . import _ml_numba

        levels_arr = np.array(shared, np.int64)
        res_all = np.empty((len(shared), n))
        use = prev is not None and prev[0] <= i_known
        none_i, none_f = np.zeros(0, np.int64), np.zeros((0, 1))
        _ml_numba.posteriors(np.ascontiguousarray(mu), np.ascontiguousarray(lower), float(s), eps, kappa * s,
                             _WINDOW * w, quant.step, L, i_known, nk, levels_arr, res_all,
                             prev[0] if use else -1, prev[1] if use else none_i, prev[2] if use else none_f,
                             keep, new_first if keep else none_i, new_p if keep else none_f)
        if memo is not None:
            memo["setting"] = setting
            memo["masses"] = (i_known, new_first, new_p) if keep else None
        out.update(zip(shared, res_all))
        return out
    for a in range(0, n, chunk):
        m = mu[a:a + chunk]
        c = lower[a:a + chunk]
        # lowest candidate k: cell c + k 2^i whose upper edge is above mu - W s
        q0 = np.floor((m - _WINDOW * w) / quant.step + L / 2)
        k0 = np.ceil((q0 - c) / (1 << i_known)) - 1
        k = k0[:, None] + np.arange(nk)[None, :]
        q = (c[:, None] + k * (1 << i_known)).astype(np.int64)
        if prev is not None and prev[0] <= i_known:
            p = _reuse_masses(q, m, s, quant, eps, kappa, prev, a)
        elif i_known == 0:                          # consecutive cells: shared edges
            p = _run_prob(q[:, 0], nk, m, s, quant)
            if eps > 0:
                p = (1.0 - eps) * p + eps * _run_prob(q[:, 0], nk, m, kappa * s, quant)
        else:
            p = _cell_prob(q, m[:, None], s, quant)
            if eps > 0:
                p = (1.0 - eps) * p + eps * _cell_prob(q, m[:, None], kappa * s, quant)
        if keep:
            new_first[a:a + chunk], new_p[a:a + chunk] = q[:, 0], p
        den = p.sum(axis=1)
        ok = den > 0
        safe = np.where(ok, den, 1.0)
        for i in shared:
            one = ((q >> i) & 1).astype(bool)
            num = np.where(one, p, 0.0).sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                res[i][a:a + chunk] = np.where(ok, num / safe, 0.5)
    if memo is not None:
        memo["setting"] = setting
        memo["masses"] = (i_known, new_first, new_p) if keep else None
    for i in shared:
        out[i] = np.clip(res[i], 0.0, 1.0)
    return out


def _reuse_masses(q: np.ndarray, m: np.ndarray, s: float, quant, eps: float, kappa: float,
                  prev: tuple, a: int) -> np.ndarray:
    """The masses of candidate cells ``q`` (rows ``a..`` of the block) taken from the previous
    call's (``prev``: its ``i_known``, each row's first candidate and their masses) where that
    computed them, computed (:func:`_cell_prob`, elementwise: the same numbers) elsewhere."""
    ik, first, masses = prev
    rows = q.shape[0]
    d = q - first[a:a + rows, None]
    idx = d >> ik
    have = (d >= 0) & (idx < masses.shape[1]) & ((d & ((1 << ik) - 1)) == 0)
    p = np.empty(q.shape)
    r, j = np.nonzero(have)
    p[r, j] = masses[a + r, idx[r, j]]
    r, j = np.nonzero(~have)
    if r.size:
        qm, mm = q[r, j], m[r]
        fresh = _cell_prob(qm, mm, s, quant)
        if eps > 0:
            fresh = (1.0 - eps) * fresh + eps * _cell_prob(qm, mm, kappa * s, quant)
        p[r, j] = fresh
    return p


def _compiled() -> bool:
    """Whether :func:`_posteriors` runs its compiled kernel (``nfkg.protocol._ml_numba``): numba
    installed (the ``fast`` extra) and ``NFKG_NO_NUMBA`` unset, as for the compiled decoder, and
    the kernel's module loads (it needs SciPy's C ``ndtr``)."""
    from .bp_kernel import available

    if not available():
        return False
    if "ok" not in _KERNEL:
        try:
            from . import _ml_numba  # noqa: F401
            _KERNEL["ok"] = True
        except Exception:  # pragma: no cover - a SciPy without the C entry point: NumPy runs
            _KERNEL["ok"] = False
    return _KERNEL["ok"]


_KERNEL: dict = {}
