"""Own channels and planar arrays: what they cost. Not run by the tests.

Two targets (medians of ``--repeats`` runs, one process, after one warm-up run):

(a) ``own``: scoring given channels costs what scoring geometric ones costs. A batch of
    B = 200 scenarios, K = 6 users and Eves, N = 1024 (a ULA at 30 GHz; users at 5-25 m,
    |psi| <= 1 rad; each Eve within 0.5 m and 20 mrad of her user; P_t 0-30 dBm; seeded).
    ``own`` = ``Scenario.from_channels(f, h, ...)`` (its checks included) + ``evaluate``;
    ``geo - chan`` = ``Scenario.from_dbm`` (its checks included) + ``evaluate`` on the
    geometric scenario with its channels handed over ready-made (measured directly, not as a
    difference of two larger times, whose noise it would multiply). Also timed: ``geo``, the
    whole geometric ``evaluate``, and ``chan``, the generation of its channels
    (``ULA.channel`` on the 2 B K nodes). Target per scheme: ``own / (geo - chan) <= 1.2``.
(b) ``upa``: a 32 x 32 UPA (N = 1024), B = 200 batch of K = 6 nodes with elevations in
    +-0.5 rad: the channel generation and ``evaluate`` of the batch, beside the same for the
    1024-element ULA. Target: the UPA's ``evaluate`` within 3x of generating its channels,
    as the ULA's is; also reported: UPA / ULA channel generation.

Statistic: in each round every measurement of a case runs once, in a freshly shuffled order,
with the garbage collector off. Times are CPU seconds of the process (``time.process_time``;
with one BLAS thread they are the work done, and other users of the shared cores inflate them
far less than wall time); a ratio is the median over the rounds of the per-round ratio. The
ratio of the wall-time medians is printed beside it, and every time is kept in the JSON. BLAS runs on one thread (``OPENBLAS_NUM_THREADS=1`` etc., set here before
numpy is imported, unless already set): on this shared 2-core machine a threaded QR under
load ran 5-8x slower and swamped every ratio.

``.venv/bin/python benchmarks/bench_channels.py [--quick] [--repeats 7] [--json PATH]``
(writes ``out/channels.json``). ``--quick``: B = 50, 3 rounds.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import time
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
SCHEMES = ("ras", "mrc", "svd", "svd-pa", "svd-mf")


def _rounds(fns: dict, repeats: int) -> tuple[dict, dict, dict]:
    """CPU and wall seconds of every function per round, measured in interleaved shuffled rounds.

    Returns ``(cpu, wall, results)``: ``cpu[name]`` and ``wall[name]`` are arrays over the rounds
    (round i of every function ran in the same shuffled sweep, so ratios pair them per round).
    """
    out = {name: fn() for name, fn in fns.items()}  # warm-up, and the results
    cpu: dict[str, list[float]] = {name: [] for name in fns}
    wall: dict[str, list[float]] = {name: [] for name in fns}
    order = list(fns)
    rng = random.Random(19)
    for _ in range(repeats):
        rng.shuffle(order)
        for name in order:
            gc.disable()
            try:
                c0, t0 = time.process_time(), time.perf_counter()
                fns[name]()
                cpu[name].append(time.process_time() - c0)
                wall[name].append(time.perf_counter() - t0)
            finally:
                gc.enable()
    return ({k: np.array(v) for k, v in cpu.items()}, {k: np.array(v) for k, v in wall.items()}, out)


def _med(x) -> float:
    return float(np.median(x))


def _nodes(rng: np.random.Generator, batch: int, k: int, elevation: bool):
    r = rng.uniform(5.0, 25.0, (batch, k))
    psi = rng.uniform(-1.0, 1.0, (batch, k))
    r_e = r + rng.uniform(-0.5, 0.5, (batch, k))
    psi_e = psi + rng.uniform(-0.02, 0.02, (batch, k))
    cols = [r, psi], [r_e, psi_e]
    if elevation:
        el = rng.uniform(-0.5, 0.5, (batch, k))
        cols = [r, psi, el], [r_e, psi_e, el + rng.uniform(-0.02, 0.02, (batch, k))]
    return np.stack(cols[0], -1), np.stack(cols[1], -1)


def part_own(batch: int, repeats: int) -> dict:
    from nfkg import Scenario, ULA, evaluate

    rng = np.random.default_rng(19)
    k, n = 6, 1024
    ula = ULA(n, 30e9)
    users, eves = _nodes(rng, batch, k, False)
    pt = rng.uniform(0.0, 30.0, batch)
    f, h = Scenario.from_dbm(ula, users=users, eves=eves, pt_dbm=pt, noise_dbm=-100).channels()
    f, h = np.ascontiguousarray(f), np.ascontiguousarray(h)
    node_f = ula.channel(users[..., 0], users[..., 1])   # the geometric scenario's channels, made once
    node_h = ula.channel(eves[..., 0], eves[..., 1])

    def geo_without_channels():
        """The geometric scenario, built and validated as usual, handing its channels over ready-made."""
        s = Scenario.from_dbm(ula, users=users, eves=eves, pt_dbm=pt, noise_dbm=-100)
        object.__setattr__(s, "node_channels", lambda: (node_f, node_h))  # what the engine asks for
        return s

    fns = {"chan": lambda: (ula.channel(users[..., 0], users[..., 1]), ula.channel(eves[..., 0], eves[..., 1])),
           "from_channels": lambda: Scenario.from_channels(f, h, pt_dbm=pt, noise_dbm=-100)}
    for scheme in SCHEMES:
        fns[f"geo {scheme}"] = lambda scheme=scheme: evaluate(
            Scenario.from_dbm(ula, users=users, eves=eves, pt_dbm=pt, noise_dbm=-100), scheme).skr
        fns[f"geo-chan {scheme}"] = lambda scheme=scheme: evaluate(geo_without_channels(), scheme).skr
        fns[f"own {scheme}"] = lambda scheme=scheme: evaluate(
            Scenario.from_channels(f, h, pt_dbm=pt, noise_dbm=-100), scheme).skr
    cpu, wall, res = _rounds(fns, repeats)
    chan = cpu["chan"]
    out = {"B": batch, "K": k, "N": n, "cpu_s": {k_: v.tolist() for k_, v in cpu.items()},
           "wall_s": {k_: v.tolist() for k_, v in wall.items()}, "schemes": {}}
    print(f"own  B = {batch}, K = {k}, N = {n}: channels {_med(chan):.3f} s, from_channels "
          f"{_med(cpu['from_channels']):.3f} s (CPU medians)", flush=True)
    for scheme in SCHEMES:
        geo, own, rest = cpu[f"geo {scheme}"], cpu[f"own {scheme}"], cpu[f"geo-chan {scheme}"]
        diff = max(float(np.max(np.abs(res[f"own {scheme}"] - res[f"geo {scheme}"]))),
                   float(np.max(np.abs(res[f"geo-chan {scheme}"] - res[f"geo {scheme}"]))))
        ratio = _med(own / rest)                              # paired per round
        sub = _med(own / (geo - chan))
        wall_ratio = _med(wall[f"own {scheme}"]) / _med(wall[f"geo-chan {scheme}"])
        out["schemes"][scheme] = {"geo_s": _med(geo), "geo_minus_channels_s": _med(rest), "own_s": _med(own),
                                  "ratio": ratio, "ratio_by_subtraction": sub, "ratio_wall": wall_ratio,
                                  "max_abs_diff": diff}
        print(f"own  {scheme:8s} geo {_med(geo):7.3f} s  geo-chan {_med(rest):7.3f} s  own {_med(own):7.3f} s  "
              f"own/(geo-chan) {ratio:5.2f} (by subtraction {sub:.2f}; wall medians {wall_ratio:.2f})  "
              f"max |SKR diff| {diff:.1e}", flush=True)
    return out


def part_upa(batch: int, repeats: int) -> dict:
    from nfkg import Scenario, ULA, evaluate

    rng = np.random.default_rng(20)
    k = 6
    out = {"B": batch, "K": k, "N": 1024, "arrays": {}}
    for name, arr, elevation in (("ULA 1024", ULA(1024, 30e9), False),
                                 ("UPA 32x32", ULA(1024, 30e9, rows=32), True)):
        users, eves = _nodes(rng, batch, k, elevation)

        def el(a, elevation=elevation):
            return a[..., 2] if elevation else None

        fns = {"chan": lambda arr=arr, users=users, eves=eves, el=el: (
            arr.channel(users[..., 0], users[..., 1], el(users)), arr.channel(eves[..., 0], eves[..., 1], el(eves)))}
        for scheme in SCHEMES:
            fns[scheme] = lambda scheme=scheme, arr=arr, users=users, eves=eves: evaluate(
                Scenario.from_dbm(arr, users=users, eves=eves, pt_dbm=20.0, noise_dbm=-100), scheme).skr
        cpu, wall, res = _rounds(fns, repeats)
        chan = _med(cpu["chan"])
        row = {"channels_s": chan, "cpu_s": {k_: v.tolist() for k_, v in cpu.items()},
               "wall_s": {k_: v.tolist() for k_, v in wall.items()}, "schemes": {}}
        for scheme in SCHEMES:
            t = _med(cpu[scheme])
            ratio = _med(cpu[scheme] / cpu["chan"])
            wall_ratio = _med(wall[scheme]) / _med(wall["chan"])
            row["schemes"][scheme] = {"evaluate_s": t, "ratio": ratio, "ratio_wall": wall_ratio,
                                      "finite": bool(np.all(np.isfinite(res[scheme])))}
            print(f"upa  {name:9s} {scheme:8s} channels {chan:6.3f} s  evaluate {t:7.3f} s  ratio {ratio:5.2f} "
                  f"(wall medians {wall_ratio:.2f})", flush=True)
        out["arrays"][name] = row
    ula, upa = out["arrays"]["ULA 1024"], out["arrays"]["UPA 32x32"]
    out["upa_over_ula_channels"] = upa["channels_s"] / ula["channels_s"]  # CPU medians
    print(f"upa  channel generation UPA / ULA: {out['upa_over_ula_channels']:.2f}", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--json", type=Path, default=HERE / "out" / "channels.json")
    args = ap.parse_args()
    batch = 50 if args.quick else 200
    repeats = args.repeats or (3 if args.quick else 7)
    load = os.getloadavg()
    result = {"own": part_own(batch, repeats), "upa": part_upa(batch, repeats), "repeats": repeats,
              "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS"), "load_before": load,
              "load_after": os.getloadavg()}
    print(f"load average before {load[0]:.2f}, after {result['load_after'][0]:.2f} (2 cores)")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
