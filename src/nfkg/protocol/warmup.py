"""Compile the protocol's numba kernels once, ahead of use (``make install`` runs it).

The kernels of the ``fast`` extra (belief propagation, :mod:`nfkg.protocol.bp_kernel`; the level
posteriors, :mod:`nfkg.protocol.posteriors`; the LDPC construction's 4-cycle search,
:mod:`nfkg.protocol.ldpc_graph`) are compiled on first use and cached on disk next to their
source: about 6-7 s of CPU, paid by every worker process that starts before the cache exists.
:func:`warm` runs a small key generation that calls each of them, so that ``make install``
pays it once and the first ``nfkg reproduce`` finds them compiled. Without numba it does nothing.

Contents
--------
warm
"""

from __future__ import annotations

import time

__all__ = ["warm"]


def warm() -> float:
    """Compile (or load from the disk cache) every numba kernel of the protocol; the seconds it took
    (0.0 without numba).

    A two-user key on the J5 geometry at 20 dBm with 3,000 probings: the multilevel quantiser
    codes its levels (the posteriors, the codes' 4-cycle search, belief propagation).
    """
    from . import bp_kernel

    if not bp_kernel.available():
        return 0.0
    from ..model.channel import ULA
    from ..model.scenario import Scenario
    from .keygen import keygen

    t0 = time.perf_counter()
    s = Scenario.from_dbm(ULA(64, 30e9), users=[(12.0, -0.6), (13.0, 0.6)], eves=[(11.98, -0.6), (12.98, 0.6)],
                          pt_dbm=20.0)
    keygen(s, "svd-opt", rounds=3000, seed=0, workers=1)
    return time.perf_counter() - t0


if __name__ == "__main__":  # pragma: no cover - `python -m nfkg.protocol.warmup` (make install)
    print(f"nfkg: numba kernels ready ({warm():.1f} s)")
