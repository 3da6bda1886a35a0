"""Ray-traced J5 channels in Sionna RT's ``simple_street_canyon`` (issue 19 item 3).

Writes ``src/nfkg/data/rt_street.npz`` (arrays ``f``: users, ``h``: Eves, shape
``(2, 256)``, complex64, in nfkg's convention; see :mod:`nfkg.model.rt`) and prints the
trace time and, per node, the channel power and the correlation with nfkg's LoS
near-field model.

Scenario (J5): N = 256 half-wavelength ULA at 30 GHz; users at (r, psi) = (12.0 m,
-0.6 rad) and (13.0 m, +0.6 rad); each Eve 2 cm closer to its user on the same ray
(r - 0.02, same psi). Specular reflections up to ``--depth`` (2 by default), LoS,
refraction; no diffuse scattering or diffraction.

Placement (the choice made here). The scene's main street runs along x between
building walls at y = -8.61 m and y = +9.57 m (measured with ray casts at z = 1.5 m);
the central building blocks on both sides span x = -16 ... +16 m, with cross streets
beyond. The BS array centre is at (x, y, z) = (-12.0, 0.5, 1.5) m, i.e. on the
street's centre line 4 m inside the central block, its broadside looking down the
street along +x (``yaw = -pi/2``: the array runs across the street, along y, 1.28 m
long). Users and Eves are at the same height as the array (elevation 0, as in nfkg's
planar model), so the LoS part of every channel is exactly nfkg's J5 channel. The
users then stand at (x, y) = (-2.10, 7.28) m and (-1.27, -6.84) m, inside the street
between the walls of the central block (2.3 m and 1.8 m from the walls). Height
1.5 m (a roadside unit at user-equipment height); change it with ``--height``.

Usage::

    python benchmarks/rt/trace_street.py            # writes src/nfkg/data/rt_street.npz
    python benchmarks/rt/trace_street.py --depth 3 --out /tmp/street3.npz

Needs the ``rt`` extra (``pip install nfkg[rt]``) and LLVM 19 (see nfkg.model.rt).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from nfkg.model.channel import near_field_channel
from nfkg.model.rt import import_sionna, save_channels, trace_channels
from nfkg.model.units import SPEED_OF_LIGHT

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "src" / "nfkg" / "data" / "rt_street.npz"

N_ANT = 256
CARRIER = 30e9
USERS = [(12.0, -0.6), (13.0, 0.6)]
EVES = [(r - 0.02, psi) for r, psi in USERS]
BS_XY = (-12.0, 0.5)
YAW = -np.pi / 2


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--depth", type=int, default=2, help="max reflections (>= 2)")
    ap.add_argument("--height", type=float, default=1.5, help="height of the array and nodes [m]")
    ap.add_argument("--samples", type=int, default=100_000, help="rays per source")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    if args.depth < 2:
        ap.error("--depth must be >= 2")

    rt = import_sionna()
    t0 = time.perf_counter()
    scene = rt.load_scene(rt.scene.simple_street_canyon)
    t_load = time.perf_counter() - t0
    position = (BS_XY[0], BS_XY[1], args.height)
    info: dict = {}
    t0 = time.perf_counter()
    f, h = trace_channels(scene, users=USERS, eves=EVES, antennas=N_ANT, frequency=CARRIER,
                          position=position, yaw=YAW, max_depth=args.depth,
                          samples_per_src=args.samples, info=info)
    t_trace = time.perf_counter() - t0

    wavelength = SPEED_OF_LIGHT / CARRIER
    nodes = np.array(USERS + EVES)
    los = near_field_channel(nodes[:, 0], nodes[:, 1], N_ANT, wavelength)
    got = np.concatenate([f, h])
    corr = np.abs(np.sum(got.conj() * los, 1)) / np.linalg.norm(got, axis=1) / np.linalg.norm(los, axis=1)
    gain = np.linalg.norm(got, axis=1) ** 2 / np.linalg.norm(los, axis=1) ** 2
    fu, fe = got[:2], got[2:]
    ue = np.abs(np.sum(fu.conj() * fe, 1)) / np.linalg.norm(fu, axis=1) / np.linalg.norm(fe, axis=1)
    print(f"scene load {t_load:.2f} s, trace {t_trace:.2f} s (solver {info['seconds']:.2f} s), "
          f"N = {N_ANT}, depth {args.depth}, paths per node {info['paths'].tolist()}")
    for k, (name, (r, psi)) in enumerate(zip(["user 0", "user 1", "eve 0", "eve 1"], nodes)):
        print(f"  {name}: r = {r:.2f} m psi = {psi:+.2f} rad: power / LoS power {gain[k]:.3f}, "
              f"|corr with nfkg LoS| {corr[k]:.4f}")
    print(f"  |corr user k, eve k|: {np.round(ue, 4).tolist()}")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_channels(args.out, f.astype(np.complex64), h.astype(np.complex64),
                  scene="simple_street_canyon", sionna_rt=rt.__version__,
                  frequency=CARRIER, n_ant=N_ANT, rows=1, spacing=wavelength / 2,
                  users=np.array(USERS), eves=np.array(EVES),
                  bs_position=np.array(position), yaw=YAW, max_depth=args.depth,
                  samples_per_src=args.samples,
                  convention="f users, h Eves, (K, N); element n at delta_n d along the array; "
                             "phase referred to the array centre; nfkg scaling (LoS = near_field_channel)")
    print(f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out} "
          f"({args.out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
