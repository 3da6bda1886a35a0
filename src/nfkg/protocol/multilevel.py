r"""Multilevel (sliced) reconciliation of a fine uniform quantiser: multistage decoding.

At the SNRs of near-field probing the mutual information between the BS's and the user's
measurements is about 12 bits per probing: one or two bits per real component throw the
secret away (Eve knows the coarse bits; the secret is in the fine ones). The reference
party (the BS for direct, the user for reverse reconciliation, :mod:`nfkg.protocol.keygen`) therefore
quantises each real component of its measurement finely and the other side recovers the
index level by level.

Quantiser
    Uniform with step :math:`\Delta` (in units of the reference's real-component standard
    deviation :math:`\sigma_r = \sqrt{C_{rr}/2}`) and :math:`L = 2^b` cells, thresholds
    :math:`t_j = (j - L/2)\Delta`, :math:`j = 1..L-1` (the end cells are open). The step is
    chosen from the model: :math:`\Delta = c\,s`, with :math:`s = \sqrt{1 - \rho^2}` the
    conditional standard deviation of the reference given the other side (normalised, :math:`\rho`
    their correlation, :mod:`nfkg.protocol.bounds`) and ``c`` = :data:`STEP` by default; :math:`L` is the
    smallest power of two whose cells cover :math:`\pm 7\sigma_r`.

Levels (slices)
    The cell index :math:`q` is written in natural binary, bit :math:`B_i` (level :math:`i`),
    least significant first. By the chain rule :math:`H(Q|Y) = \sum_i H(B_i|Y, B_0..B_{i-1})`:
    the fine levels are almost uniform given the other side (:math:`H \approx 1`), the coarse ones
    almost determined by it and by the levels below (:math:`H \approx 0`), one or two in between.
    This is the sliced error correction of Van Assche, Cardinal and Cerf [1]_ with multistage
    decoding (Wachsmann, Fischer, Huber [2]_), as used in continuous-variable QKD [3]_.

Per block of samples and per level, least significant first, the decoder computes the
posterior of :math:`B_i` from its own Gaussian conditional (:math:`\mathcal N(\mu, s^2)` of the
reference's component, :func:`level_posteriors`) and the levels already decoded, and the level
is handled by the mean binary entropy :math:`\hat h` of those posteriors (the rate the
Slepian-Wolf bound asks for, with soft information):

* :math:`\hat h \ge` :data:`DISCLOSE_H` -- **disclosed** whole (``n`` bits leaked): a code
  would leak :math:`f n \hat h \ge n` anyway;
* expected errors :math:`\sum_i \min(p_i, 1 - p_i) <` :data:`SKIP_ERRORS` -- **nothing sent**
  (the block's confirmation tag catches the rare error, and the block is then discarded and
  counted);
* otherwise **coded**: LDPC syndromes, rate-adaptive, from :func:`nfkg.protocol.reconciliation.reconcile`
  with the posteriors as the channel: its first syndrome is :math:`f_0 n\hat h` and further
  rows are revealed while belief propagation fails, so each level's rate fits its own
  conditional entropy.

Eve runs the same multistage decoding on her own soft observation with everything public:
disclosed levels are hers, coded levels are decoded with every syndrome bit revealed.

References
----------
.. [1] G. Van Assche, J. Cardinal, N. J. Cerf, "Reconciliation of a quantum-distributed
   Gaussian key", IEEE Trans. Inf. Theory 50(2), 394-400, 2004.
.. [2] U. Wachsmann, R. F. H. Fischer, J. B. Huber, "Multilevel codes: theoretical concepts and
   practical design rules", IEEE Trans. Inf. Theory 45(5), 1361-1391, 1999.
.. [3] P. Jouguet, S. Kunz-Jacques, A. Leverrier, "Long-distance continuous-variable quantum
   key distribution with a Gaussian modulation", Phys. Rev. A 84, 062317, 2011.

Contents
--------
UniformQuantizer, design_quantizer, level_posteriors, LevelOutcome, BlockOutcome,
reconcile_block, eve_block
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .posteriors import (_CELLS, _MAX_CANDIDATES, _MEMO_CANDIDATES, _WINDOW, _cell_prob, _compiled,  # noqa: F401
                         _posteriors, _reuse_masses, _run_prob, level_posteriors)

__all__ = ["STEP", "TAIL", "EVE_WINDOW", "DISCLOSE_H", "SKIP_ERRORS", "UniformQuantizer", "design_quantizer", "level_posteriors",
           "LevelOutcome", "BlockOutcome", "reconcile_block", "eve_block"]

#: Default step in units of the reference's conditional standard deviation given the other side.
#: The level entropies depend on the step only (in these units, up to a factor 2 that shifts
#: them by one level), and so does the reconciliation's waste
#: :math:`\sum_i \min(1 - h_i, (f - 1)h_i)`: 0.070 / 0.094 / 0.106 / 0.068 bit per sample at
#: steps 0.4 / 0.45 / 0.5 / 0.8 with f = 1.1 (levels 1, 1, 0.971, 0.402, 0.006 at 0.4), while the
#: quantiser's own loss grows with the step: 0.4.
STEP = 0.4
#: Half-width of the range the cells cover, in reference standard deviations.
RANGE_SIGMA = 7.0
#: Most bits per real sample (65,536 cells).
MAX_BITS = 16
#: A level whose posteriors' mean binary entropy is at least this is disclosed whole.
DISCLOSE_H = 0.87
#: A level whose expected number of errors in the block is below this is not sent at all.
SKIP_ERRORS = 1e-4
#: Levels whose model entropy is below this get the robust (:data:`TAIL`) posteriors.
TAIL_H = 0.05
#: The legitimate decoder's residual model: a mixture (1 - eps) N(0, s^2) + eps N(0, (kappa s)^2).
#: z_a is a Gaussian scale mixture, so the reference given the other side has heavier tails
#: than the Gaussian model's (svd-mf on J5: ``P(|e| > 4s)`` = 4.5e-4 and ``P(|e| > 5s)`` = 2.8e-5 against
#: 6.3e-5 and 5.7e-7); posteriors that ignore it are over-confident exactly where the coarse
#: levels' rare errors are, and belief propagation then cannot correct them. This mixture
#: matches those tails (4.4e-4, 4.3e-5) and costs little where the tails are Gaussian.
TAIL = (0.05, 1.5)
#: Eve's window (P beyond: 4e-8, below the 1e-7 floor of belief propagation's inputs): her
#: conditional spread is wide, her candidate cells many.
EVE_WINDOW = 5.5


@dataclass(frozen=True)
class UniformQuantizer:
    r"""A uniform quantiser of the reference's real components.

    Attributes
    ----------
    step : float
        :math:`\Delta`, in units of :math:`\sigma_r`.
    bits : int
        :math:`b`; :math:`L = 2^b` cells.
    sigma : float
        :math:`\sigma_r` [the measurement's unit], to normalise samples.
    """

    step: float
    bits: int
    sigma: float

    @property
    def levels(self) -> int:
        """Number of cells :math:`L`."""
        return 1 << int(self.bits)

    @property
    def thresholds(self) -> np.ndarray:
        r"""Normalised thresholds :math:`t_j = (j - L/2)\Delta`, ``(L - 1,)``."""
        return (np.arange(1, self.levels) - self.levels / 2) * self.step

    def index(self, x: np.ndarray) -> np.ndarray:
        """Cell index of each real sample ``x`` (unnormalised), int64 in ``[0, L)``."""
        u = np.asarray(x, float) / self.sigma
        q = np.floor(u / self.step + self.levels / 2)
        return np.clip(q, 0, self.levels - 1).astype(np.int64)

    def level_bits(self, q: np.ndarray, level: int) -> np.ndarray:
        """Bit ``level`` (0: least significant) of each index, uint8."""
        return ((np.asarray(q, np.int64) >> int(level)) & 1).astype(np.uint8)


def design_quantizer(rho_side: float, sigma: float, step: float = STEP) -> UniformQuantizer:
    r"""The model's quantiser: :math:`\Delta = c\sqrt{1-\rho^2}`, cells covering :math:`\pm 7\sigma_r`.

    Parameters
    ----------
    rho_side : float
        Correlation of the reference with the other legitimate side's observation.
    sigma : float
        :math:`\sigma_r`.
    step : float
        ``c``, the step in conditional standard deviations.

    Examples
    --------
    >>> q = design_quantizer(0.9999, 1.0)
    >>> q.bits, round(q.step, 5)
    (12, 0.00566)
    """
    if not (math.isfinite(step) and step > 0):
        raise ValueError(f"step: must be a positive number of conditional standard deviations, got {step}")
    rho = min(max(float(rho_side), 0.0), 1.0)
    s = math.sqrt(max(1.0 - rho * rho, 0.0))
    delta = max(step * s, 2.0 * RANGE_SIGMA / (1 << MAX_BITS))
    bits = max(1, math.ceil(math.log2(2.0 * RANGE_SIGMA / delta) - 1e-12))
    bits = min(bits, MAX_BITS)
    return UniformQuantizer(step=float(delta), bits=int(bits), sigma=float(sigma))


def _h2_mean(p_err: np.ndarray) -> float:
    from .reconciliation import binary_entropy

    return float(np.mean(binary_entropy(p_err))) if p_err.size else 0.0


@dataclass
class LevelOutcome:
    """One level of one block: ``action`` 'disclosed', 'coded' or 'skipped', bits leaked, the
    posteriors' mean entropy ``h`` and, for coded levels, the reconciliation result."""

    level: int
    action: str
    leaked_bits: int
    h: float
    errors_before: int
    success: bool = True
    rec: object = field(default=None, repr=False)
    #: mean :math:`-\log_2 P(\text{true bit})` under the posteriors (``None`` where none were
    #: computed): the cross-entropy, an estimate from above of the level's true conditional
    #: entropy when the model's Gaussian posteriors are not exact.
    ce: float | None = None


@dataclass
class BlockOutcome:
    """The decoder's indices ``q_hat`` of one block, success, the leak and the per-level record."""

    q_hat: np.ndarray
    success: bool
    leaked_bits: int
    levels: list


def reconcile_block(q_ref: np.ndarray, mu: np.ndarray, s: float, quant: UniformQuantizer, seed: int,
                    options: dict, h_model: np.ndarray | None = None,
                    tail: tuple[float, float] | None = TAIL, f_start: dict | None = None) -> BlockOutcome:
    r"""Multistage reconciliation of one block of reference indices onto the decoder.

    Parameters
    ----------
    q_ref : ndarray ``(n,)`` of int
        The reference's cell indices (only syndromes of its levels, or whole disclosed
        levels, leave the reference).
    mu, s
        The decoder's conditional mean (normalised, ``(n,)``) and standard deviation.
    quant : UniformQuantizer
    seed : int
        Public seed of the block's codes (level ``i`` uses ``seed + i``).
    options : dict
        Keywords of :func:`nfkg.protocol.reconciliation.reconcile` (rate schedule, iterations).
    h_model : ndarray ``(b,)``, optional
        The model's level entropies (:func:`nfkg.protocol.bounds.level_entropies`): levels at or above
        :data:`DISCLOSE_H` are disclosed without computing posteriors, and levels below
        ``TAIL_H`` get the robust posteriors. Default: decided on the posteriors alone.
    tail : (eps, kappa), optional
        The decoder's residual mixture for the coarse levels (:data:`TAIL`); ``None``: Gaussian.
    f_start : dict, optional
        Per level, the first syndrome in units of :math:`n\hat h` (overrides
        ``options['f_start']``; e.g. just below where the previous block decoded).

    Returns
    -------
    BlockOutcome
        ``success`` is False as soon as one coded level fails to decode (the later levels
        are then not attempted; the block is discarded by the caller).
    """
    from .reconciliation import reconcile

    n = q_ref.size
    q_hat = np.zeros(n, np.int64)
    leaked = 0
    rec_levels = []
    ok = True
    memo: dict = {}                    # candidates' masses, from one level to the next
    for i in range(quant.bits):
        truth = quant.level_bits(q_ref, i)
        if h_model is not None and h_model[i] >= DISCLOSE_H:
            leaked += n
            rec_levels.append(LevelOutcome(i, "disclosed", n, float(h_model[i]), -1, True, None))
            q_hat |= truth.astype(np.int64) << i
            continue
        robust = tail if (h_model is None or h_model[i] < TAIL_H) else None
        p1 = _posteriors(mu, s, q_hat & ((1 << i) - 1), (i,), quant, robust, i, None, memo)[i]
        guess = (p1 > 0.5).astype(np.uint8)
        p_err = np.minimum(p1, 1.0 - p1)
        h = _h2_mean(p_err)
        wrong = guess != truth
        errs = int(np.count_nonzero(wrong))
        ce = float(np.mean(-np.log2(np.maximum(np.where(wrong, p_err, 1.0 - p_err), 1e-300))))
        if h >= DISCLOSE_H:
            bits, action, leak, succ, rec = truth, "disclosed", n, True, None
        elif float(p_err.sum()) < SKIP_ERRORS:
            bits, action, leak, succ, rec = guess, "skipped", 0, True, None
        else:
            opts = dict(options) if not f_start or i not in f_start else {**options, "f_start": f_start[i]}
            rec = reconcile(truth, guess, p_err, int(seed) + i, **opts)
            bits, action, leak, succ = rec.bits, "coded", int(rec.leaked_bits), bool(rec.success)
        leaked += leak
        rec_levels.append(LevelOutcome(i, action, leak, h, errs, succ, rec, ce))
        q_hat |= bits.astype(np.int64) << i
        if not succ:
            ok = False
            break
    return BlockOutcome(q_hat, ok, leaked, rec_levels)


def eve_block(q_ref: np.ndarray, mu: np.ndarray, s: float, quant: UniformQuantizer,
              outcome: BlockOutcome, options: dict | None = None) -> np.ndarray:
    r"""Eve's multistage estimate of the reference's indices from everything public.

    Disclosed levels are copied, coded levels decoded by belief propagation with every
    syndrome bit that was revealed for the legitimate decoder, skipped levels guessed (MAP).
    Eve conditions each level only on the levels below it that she *knows*: disclosed, or
    decoded onto the public syndrome, or guessed with fewer than :data:`SKIP_ERRORS` expected
    errors; from the first level she cannot confirm on, the levels above are computed with that
    one and every later unconfirmed one summed over (``known`` of :func:`level_posteriors`),
    not on her wrong guesses (which would make her confidently wrong). Belief propagation is
    run only where the syndrome is at least as long as the Slepian-Wolf rate of her own
    posteriors, :math:`\sum_i h_2(p_i)`: below it no decoder recovers the block (its error
    probability tends to 1), and her MAP bits stand (a wrong bit anywhere already makes her
    hashed key a coin flip per bit). ``options`` (the legitimate decoder's keywords of
    :func:`nfkg.protocol.reconciliation.reconcile`) give her the same decoder: schedule,
    iterations; she stops when the unsatisfied checks stop falling, as it does.
    """
    from .reconciliation import decode

    opts = dict(options or {})
    dec = {k: opts[k] for k in ("max_iter", "bp_method", "ms_scaling_factor", "schedule", "decoder") if k in opts}
    n = q_ref.size
    q_e = np.zeros(n, np.int64)
    known = 0                          # Eve knows levels 0..known-1
    ahead: dict = {}                   # posteriors of this and later levels given levels 0..known-1
    for lev in outcome.levels:
        i = lev.level
        truth = quant.level_bits(q_ref, i)
        if lev.action == "disclosed":
            bits, sure = truth, True
        else:
            if i not in ahead:
                # the candidates' masses depend on the known levels only: one evaluation serves
                # this level and, should she not confirm it (known then stays below every later
                # level), all later ones; not where the later levels would be computed from runs
                # of cells instead (the known levels uniform at their resolution)
                rest = tuple(v.level for v in outcome.levels if v.level >= i and v.action != "disclosed")
                if known == i and 2.0 * (1 << i) * quant.step <= s / 4.0:
                    rest = (i,)
                ahead = _posteriors(mu, s, q_e, rest, quant, None, known, EVE_WINDOW)
            p1 = ahead.pop(i)
            guess = (p1 > 0.5).astype(np.uint8)
            p_err = np.minimum(p1, 1.0 - p1)
            code = None if lev.action != "coded" else lev.rec.code
            bits, sure = guess, lev.action == "skipped" and float(p_err.sum()) < SKIP_ERRORS
            if code is not None and code.m >= _h2_mean(p_err) * n:
                syn = code.syndrome(truth)
                bits = decode(code, syn, guess, p_err, patience=20, **dec)
                sure = bool(np.array_equal(code.syndrome(bits), syn))
        q_e |= np.asarray(bits, np.int64) << i
        if sure and known == i:
            known = i + 1
            ahead = {}                 # computed given fewer levels than she now knows
    return q_e
