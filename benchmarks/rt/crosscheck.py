"""Sionna RT free-space cross-check of nfkg's near-field channel, and the cost of ``rt-street``.

1. In an empty scene (line of sight only), Sionna RT's per-element channels of an N = 64 ULA
   and an 8 x 8 UPA against nfkg's spherical-wave model (``near_field_channel``,
   ``planar_near_field_channel``): the common constant c (least squares over all entries of
   a case) and the max relative error per element, by distance. Target: max error <= 2e-3
   (Sionna traces in float32), |c| within 1e-6 of 1.
2. ``nfkg figure rt-street``: compute time (median of 3; target < 3 s) and save time.

Usage::

    python benchmarks/rt/crosscheck.py

Needs the ``rt`` extra (``pip install nfkg[rt]``) and LLVM 19 (see nfkg.model.rt) for part 1.
"""

from __future__ import annotations

import statistics
import tempfile
import time

import numpy as np

from nfkg.model.channel import near_field_channel, planar_near_field_channel
from nfkg.model.rt import trace_channels
from nfkg.model.units import SPEED_OF_LIGHT

FC = 30e9
LAM = SPEED_OF_LIGHT / FC
ANGLES = (-1.0, -0.6, -0.2, 0.0, 0.3, 0.7, 1.2)
DISTANCES = (2.0, 5.0, 12.0, 20.0, 50.0)


def _compare(got: np.ndarray, ref: np.ndarray) -> tuple[complex, float]:
    c = np.vdot(ref, got) / np.vdot(ref, ref)
    return c, float(np.max(np.abs(got - c * ref) / np.abs(c * ref)))


def crosscheck() -> None:
    print("free space, LoS only: Sionna RT (float32) against nfkg's near-field model")
    print(f"{'array':<8}{'r [m]':>7}  {'max rel err':>11}  {'|c| - 1':>9}  {'arg c [rad]':>11}  {'trace [s]':>9}")
    for name, rows in (("ULA 64", 1), ("UPA 8x8", 8)):
        for r in DISTANCES:
            el = np.zeros(len(ANGLES)) if rows == 1 else np.linspace(-0.8, 0.8, len(ANGLES))
            nodes = np.stack([np.full(len(ANGLES), r), np.array(ANGLES), el], -1)
            info: dict = {}
            f, h = trace_channels(None, users=nodes[:4], eves=nodes[4:], rows=rows, antennas=64, frequency=FC,
                                  max_depth=0, samples_per_src=1000, info=info)
            got = np.concatenate([f, h])
            if rows == 1:
                ref = near_field_channel(nodes[:, 0], nodes[:, 1], 64, LAM)
            else:
                ref = planar_near_field_channel(nodes[:, 0], nodes[:, 1], nodes[:, 2], 8, 8, LAM)
            c, err = _compare(got, ref)
            print(f"{name:<8}{r:7.1f}  {err:11.2e}  {abs(c) - 1:9.1e}  {np.angle(c):11.1e}  {info['seconds']:9.2f}")


def rt_street_cost() -> None:
    from nfkg.studies.tables import run_table, save_table

    run_table("rt-street")  # imports, shipped model files
    runs = []
    for _ in range(3):
        t0 = time.perf_counter()
        data = run_table("rt-street")
        runs.append(time.perf_counter() - t0)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        save_table(data, tmp)
        saved = time.perf_counter() - t0
    print(f"rt-street: compute {statistics.median(runs):.2f} s (median of 3; target < 3 s), "
          f"save PNG + PDF + CSV {saved:.2f} s")


if __name__ == "__main__":
    crosscheck()
    rt_street_cost()
