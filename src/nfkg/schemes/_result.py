"""The result object of nfkg's solvers, after :class:`scipy.optimize.OptimizeResult`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["OptimizeResult"]


@dataclass(frozen=True)
class OptimizeResult:
    """Outcome of an nfkg solver (after :class:`scipy.optimize.OptimizeResult`).

    Attributes
    ----------
    x : ndarray
        The solution (its meaning is given by each solver).
    fun : ndarray
        Objective value at ``x``.
    success : bool
        Whether every batch element met the tolerance.
    message : str
        Plain-language status.
    nit : int
        Iterations used (the maximum over the batch).
    history : ndarray
        Objective after each iteration, shape ``(nit + 1, ...)`` (first row: start).
    extra : dict
        Solver-specific by-products (e.g. ``beta``, ``mu``, ``p_s``).
    """

    x: np.ndarray
    fun: np.ndarray
    success: bool
    message: str
    nit: int
    history: np.ndarray
    extra: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        extra = object.__getattribute__(self, "extra")
        if name in extra:
            return extra[name]
        raise AttributeError(name)
