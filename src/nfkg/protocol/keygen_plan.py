r"""What one user of :func:`nfkg.protocol.keygen.keygen` runs, and the key length it allows.

The plan (:class:`_Plan`) fixes, from the model's covariance of :math:`(z_a, z_b, z_e)`, the
reference and the other side (the direction), the quantiser (for ``'multilevel'`` the uniform
quantiser of :func:`nfkg.protocol.multilevel.design_quantizer`) and the entropies per real sample
that bound the key: :math:`H(Q\mid\text{side})`, :math:`H(Q\mid z_e)` and Eve's conditional Renyi
entropies (:mod:`nfkg.protocol.bounds`). :func:`_length` turns them into the leftover-hash-lemma
length of :func:`nfkg.protocol.amplification.key_length` with the finite-size term chosen
(``'renyi'``, ``'aep'`` or ``'none'``); the Renyi bound is taken at the best of a grid of
:math:`\alpha` (:func:`_renyi_alphas`).

Internal to :mod:`nfkg.protocol.keygen`, which re-exports these names.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .amplification import key_length
from .bounds import _renyi_entropies, _thresholds_of, conditional_entropy, correlation

#: No public names: the plan and the key length are :func:`nfkg.protocol.keygen.keygen`'s internals.
__all__: list[str] = []

#: Reference and other-side indices of (z_a, z_b, z_e) per direction; Eve is index 2.
_ROLES = {"bs": (0, 1), "user": (1, 0)}


@dataclass
class _Plan:
    """What one user runs: direction, quantiser, and the model's entropies per real sample."""

    direction: str
    ref: int
    side: int
    bound: float                 # 2 [H(Q|e) - H(Q|side)]^+ per probing
    h_side: float                # H(Q|side) per real sample
    h_eve: float                 # H(Q|e) per real sample
    rho_side: float
    rho_eve: float
    bits: int
    quant: Any = None            # UniformQuantizer (multilevel)
    _h_alpha: dict = field(default_factory=dict, repr=False)

    @property
    def thresholds(self):
        return None if self.quant is None else self.quant.thresholds

    def h_alpha(self, alpha: float) -> float:
        """Eve's conditional Renyi entropy H_alpha(Q | z_e) per real sample (cached: the key
        lengths take the best of a few alphas, :func:`_renyi_alphas`)."""
        a = float(alpha)
        if a not in self._h_alpha:
            self.h_alphas((a,))
        return self._h_alpha[a]

    def h_alphas(self, alphas) -> None:
        """Fill the cache of :meth:`h_alpha` for ``alphas`` (in ``(1, 2]``) from one quadrature
        of Eve's cell masses (the values :func:`~nfkg.protocol.bounds.conditional_renyi_entropy`
        gives one by one)."""
        todo = tuple(dict.fromkeys(float(a) for a in alphas if float(a) not in self._h_alpha))
        if todo:
            tau = _thresholds_of(self.bits, None if self.quant is None else self.quant.thresholds)
            self._h_alpha.update(zip(todo, (float(v) for v in _renyi_entropies(self.rho_eve, todo, tau))))


def _plan(c: np.ndarray, direction: str, quantizer: str, bits: int, step: float) -> _Plan:
    from .multilevel import design_quantizer

    ref, side = _ROLES[direction]
    c_rr = float(c[ref, ref].real)
    rho_s = float(correlation(c_rr, float(c[side, side].real), c[ref, side]))
    rho_e = float(correlation(c_rr, float(c[2, 2].real), c[ref, 2]))
    if quantizer == "multilevel":
        quant = design_quantizer(rho_s, math.sqrt(c_rr / 2.0), step)
        th, b = quant.thresholds, quant.bits
        h_s = conditional_entropy(rho_s, thresholds=th)
        h_e = conditional_entropy(rho_e, thresholds=th)
    else:
        quant, b = None, bits
        h_s, h_e = conditional_entropy(rho_s, b), conditional_entropy(rho_e, b)
    return _Plan(direction, ref, side, 2.0 * max(h_e - h_s, 0.0), float(h_s), float(h_e), rho_s, rho_e, b, quant)


#: Renyi length: a coarse grid of alpha (alpha - 1 = 1e-5 .. 1, one per decade), then eight
#: points per decade within half a decade of the best (:func:`_renyi_alphas`).
_COARSE_ALPHAS = tuple(1.0 + 10.0 ** np.arange(-5.0, 0.5))


def _renyi_alphas(plan: _Plan, n_sym: int, eps_smooth: float) -> list[float]:
    """Alphas for :func:`~nfkg.protocol.amplification.key_length`: the coarse grid's best and its
    neighbours at 10^(1/8) (the penalty is flat near its optimum: within 1 % of the searched
    one), all from the plan's cache of H_alpha; any alpha gives a valid length."""
    from .amplification import renyi_min_entropy

    plan.h_alphas(_COARSE_ALPHAS)
    a0 = renyi_min_entropy(n_sym, plan.h_alpha, eps_smooth, alphas=_COARSE_ALPHAS)[1]
    fine = [1.0 + (a0 - 1.0) * 10.0 ** (k / 8.0) for k in range(-4, 5)]
    alphas = sorted({a for a in (*_COARSE_ALPHAS, *fine) if 1.0 < a <= 2.0})
    plan.h_alphas(alphas)
    return alphas


def _length(plan: _Plan, n_sym: int, leaked: int, eps_pa: float, eps_smooth: float, method: str) -> int:
    if method == "renyi":
        return key_length(n_sym, plan.h_eve, leaked, eps_pa, eps_smooth, 2 ** plan.bits, True, method="renyi",
                          h_alpha=plan.h_alpha, alphas=_renyi_alphas(plan, n_sym, eps_smooth))
    return key_length(n_sym, plan.h_eve, leaked, eps_pa, eps_smooth, 2 ** plan.bits, method == "aep")
