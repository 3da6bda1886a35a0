"""``nfkg rt``: trace a scene with Sionna RT into a channel file (the ``rt`` extra).

``nfkg rt SCENE --users R,PSI[,EL] ... --eves R,PSI[,EL] ... --out ch.npz`` places nfkg's
base-station array (a ULA, or a planar array with ``--rows``) in a Sionna RT scene, traces
every user's and Eve's channel with one ray source per element
(:func:`nfkg.model.rt.trace_channels`) and writes them as a channel file: arrays ``f``
(users) and ``h`` (Eves) of shape ``(K, N)`` plus the metadata of the trace, ready for
``channels = "ch.npz"`` in a scenario file (``--scenario`` writes one) or
:meth:`nfkg.model.scenario.Scenario.from_channels`.

Node positions are given in the array frame, as everywhere in nfkg: ``(r [m], psi [rad],
el [rad])``, broadside ``psi = 0``; ``--position`` and ``--yaw`` place that frame in the
scene.

Contents
--------
rt
    The click command (registered on the ``nfkg`` group).
"""

from __future__ import annotations

import math
from pathlib import Path

import click
import numpy as np

__all__ = ["rt"]

#: SCENE values that mean an empty scene (free space, line of sight only).
FREE_SPACE = ("free-space", "empty")


def _nodes(values: tuple[str, ...], hint: str) -> np.ndarray:
    """``(K, 3)`` rows ``(r, psi, el)`` from ``R,PSI[,EL]`` texts (repeated, or ``;``-separated)."""
    from ..model.limits import check

    parts = [p.strip() for v in values for p in v.split(";") if p.strip()]
    if not parts:
        raise click.BadParameter("give at least one node as R,PSI[,EL]", param_hint=hint)
    rows = []
    for k, part in enumerate(parts):
        try:
            nums = [float(x) for x in part.split(",")]
        except ValueError:
            nums = []
        if len(nums) not in (2, 3):
            raise click.BadParameter(f"node {k + 1}: must be R,PSI or R,PSI,EL (metres, radians), got {part!r}",
                                     param_hint=hint)
        r, psi, el = (*nums, 0.0)[:3]
        name = f"{hint.strip(chr(39))}[{k + 1}]"
        rows.append((check("r", r, f"{name}.r"), check("psi", psi, f"{name}.psi"), check("el", el, f"{name}.el")))
    if len(rows) > 64:
        raise click.BadParameter(f"at most 64 nodes, got {len(rows)}", param_hint=hint)
    return np.array(rows, dtype=float)


def _position(text: str) -> tuple[float, float, float]:
    try:
        xyz = [float(x) for x in text.split(",")]
    except ValueError:
        xyz = []
    if len(xyz) != 3 or not all(math.isfinite(v) for v in xyz):
        raise click.BadParameter(f"must be X,Y,Z in metres (three finite numbers), got {text!r}",
                                 param_hint="'--position'")
    return xyz[0], xyz[1], xyz[2]


def _scene(text: str):
    """``None`` (free space), a built-in scene's name, or an existing scene file."""
    from ..model.rt import BUILTIN_SCENES

    if text.lower() in FREE_SPACE:
        return None
    if text in BUILTIN_SCENES:
        return text
    path = Path(text)
    if path.is_file():
        return str(path)
    raise click.BadParameter(f"{text!r} is neither a scene file nor a Sionna built-in scene (one of "
                             f"{', '.join(BUILTIN_SCENES)}; or 'free-space')", param_hint="'SCENE'")


def _scenario_text(out: Path, scenario: Path, meta: dict) -> str:
    """A scenario file naming the channel file (path relative to the scenario file)."""
    import os

    rel = os.path.relpath(out.resolve(), scenario.resolve().parent).replace(os.sep, "/")

    def node(row) -> str:
        r, psi, el = (float(v) for v in row)
        return f"{{r = {r!r}, psi = {psi!r}" + (f", el = {el!r}" if el else "") + "}"

    lines = [
        f"# Channels traced by `nfkg rt` in {meta['scene']} (Sionna RT {meta['sionna_rt']}, max depth "
        f"{meta['max_depth']}).",
        "# The positions below are those of the trace, for information: the channels come from the file.",
        f"channels = {rel!r}".replace("'", '"'),
        f"carrier_ghz = {meta['frequency'] / 1e9!r}",
        f"spacing_wavelengths = {meta['spacing_wavelengths']!r}",
        f"array_rows = {meta['rows']}",
        "pt_dbm = 20.0       # edit: BS power P_max",
        "noise_dbm = -105.0  # edit: noise power",
        f"users = [{', '.join(node(r) for r in meta['users'])}]",
        f"eves = [{', '.join(node(r) for r in meta['eves'])}]",
    ]
    return "\n".join(lines) + "\n"


@click.command(short_help="Trace channels in a Sionna RT scene into a channel file (needs nfkg[rt]).")
@click.argument("scene", metavar="SCENE")
@click.option("--users", "-u", "users", multiple=True, required=True, metavar="R,PSI[,EL]",
              help="A user at distance R [m], azimuth PSI [rad] and elevation EL [rad, default 0] in the "
                   "array frame; repeat the option (or separate nodes with ';') for K users.")
@click.option("--eves", "-e", "eves", multiple=True, required=True, metavar="R,PSI[,EL]",
              help="The Eves, as --users; Eve k targets user k (give as many Eves as users).")
@click.option("--out", "-o", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Channel file to write (.npz: arrays f, h of shape (K, N) and the trace's metadata).")
@click.option("--antennas", "-n", default=256, show_default=True, type=int,
              help="Number of antennas N (a multiple of --rows).")
@click.option("--rows", default=1, show_default=True, type=int,
              help="Rows R of a planar array in the x-z plane of the array frame (1: a ULA along x).")
@click.option("--carrier-ghz", default=30.0, show_default=True, type=float, help="Carrier frequency [GHz].")
@click.option("--spacing-wavelengths", default=0.5, show_default=True, type=float,
              help="Element spacing d in wavelengths (along rows and columns).")
@click.option("--max-depth", default=2, show_default=True, type=click.IntRange(0, 10),
              help="Most interactions (reflections, refractions) per path; 0: line of sight only.")
@click.option("--position", default="0,0,0", show_default=True, metavar="X,Y,Z",
              help="The array centre in scene coordinates [m].")
@click.option("--yaw", default=0.0, show_default=True, type=float,
              help="Rotation of the array frame about the scene's z axis [rad, counter-clockwise from "
                   "above]: 0 keeps broadside along the scene's +y, -1.5708 turns it to +x.")
@click.option("--samples", default=100_000, show_default=True, type=click.IntRange(100, 10**8),
              help="Rays shot per source (Sionna's samples_per_src).")
@click.option("--seed", default=42, show_default=True, type=click.IntRange(0, 2**31 - 1),
              help="Seed of Sionna's ray sampling (same seed, same channels).")
@click.option("--scenario", "scenario", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="Also write a scenario file (TOML) naming the channel file, for `nfkg evaluate`, "
                   "`nfkg keygen`, `nfkg info`.")
def rt(scene: str, users: tuple[str, ...], eves: tuple[str, ...], out: Path, antennas: int, rows: int,
       carrier_ghz: float, spacing_wavelengths: float, max_depth: int, position: str, yaw: float,
       samples: int, seed: int, scenario: Path | None) -> None:
    """Trace the channels of users and Eves to the BS array in the Sionna RT scene SCENE.

    SCENE is the name of a scene that ships with Sionna RT (e.g. simple_street_canyon,
    munich), a scene file (Mitsuba XML), or 'free-space' (an empty scene: line of sight
    only, where the channels equal nfkg's near-field model up to Sionna's float32
    precision). Each element is its own ray source (its own spherical wavefront); the
    channels are scaled and phased as nfkg's model (f[n] = lambda/(4 pi r_n)
    exp(-j 2 pi (r_n - r)/lambda) in free space).

    Writes OUT (arrays f and h of shape (K, N), complex64, and the trace's parameters)
    and prints per node the number of paths, its power relative to line of sight alone
    and its correlation with nfkg's line-of-sight channel. Needs the 'rt' extra (pip
    install 'nfkg[rt]') and, on the CPU, LLVM 19 (Debian: apt-get install libllvm19).
    """
    from ..model.channel import ULA
    from ..model.limits import check, check_rows
    from ..model.rt import RTUnavailable, import_sionna, save_channels, trace_channels

    n_ant = check("antennas", antennas, "--antennas")
    n_rows = check_rows(rows, n_ant, "--rows")
    carrier = check("carrier_ghz", carrier_ghz, "--carrier-ghz")
    spacing_w = check("spacing_wavelengths", spacing_wavelengths, "--spacing-wavelengths")
    if not math.isfinite(yaw):
        raise click.BadParameter(f"must be a finite angle in radians, got {yaw!r}", param_hint="'--yaw'")
    u, e = _nodes(users, "'--users'"), _nodes(eves, "'--eves'")
    if len(u) != len(e):
        raise click.BadParameter(f"give one Eve per user: {len(u)} user(s), {len(e)} Eve(s)", param_hint="'--eves'")
    centre = _position(position)
    where = _scene(scene)
    if out.suffix.lower() != ".npz":
        raise click.BadParameter(f"must end in .npz, got {str(out)!r}", param_hint="'--out'")
    try:
        rtm = import_sionna()
    except RTUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    if where is not None:
        try:
            where = rtm.load_scene(getattr(rtm.scene, where) if where in dir(rtm.scene) else where)
        except Exception as exc:  # noqa: BLE001 - Mitsuba's parser errors: one line naming SCENE
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise click.BadParameter(f"Sionna RT could not load {scene!r}: {first}", param_hint="'SCENE'") from None
    ula = ULA(n_ant, carrier * 1e9, spacing_w, rows=n_rows)
    info: dict = {}
    f, h = trace_channels(where, users=u, eves=e, rows=n_rows, antennas=n_ant, frequency=carrier * 1e9,
                          spacing=ula.spacing, position=centre, yaw=yaw, max_depth=max_depth,
                          samples_per_src=samples, seed=seed, info=info)
    nodes = np.concatenate([u, e])
    got = np.concatenate([f, h])
    if not np.all(np.isfinite(got)):
        raise click.ClickException("the trace gave non-finite channels")
    dark = [k for k in range(len(nodes)) if not np.any(got[k])]
    if dark:
        who = ", ".join(f"user {k + 1}" if k < len(u) else f"eve {k - len(u) + 1}" for k in dark)
        raise click.ClickException(f"no path reaches {who} (every element's channel is zero: the node is "
                                   f"inside an object or shadowed with --max-depth {max_depth}); move it")
    meta = dict(scene=str(scene), sionna_rt=str(rtm.__version__), frequency=carrier * 1e9, n_ant=n_ant,
                rows=n_rows, spacing=ula.spacing, spacing_wavelengths=spacing_w, users=u, eves=e,
                bs_position=np.array(centre), yaw=float(yaw), max_depth=int(max_depth), samples_per_src=int(samples),
                seed=int(seed),
                convention="f users, h Eves, (K, N); element m*C + n at (delta_n d, 0, delta_m d) in the array "
                           "frame; phase referred to the array centre; nfkg scaling (LoS = nfkg's channel)")
    out.parent.mkdir(parents=True, exist_ok=True)
    save_channels(out, f.astype(np.complex64), h.astype(np.complex64), **meta)
    los = ula.channel(nodes[:, 0], nodes[:, 1], el=nodes[:, 2])
    gain = np.linalg.norm(got, axis=1) ** 2 / np.linalg.norm(los, axis=1) ** 2
    corr = np.abs(np.sum(got.conj() * los, 1)) / np.linalg.norm(got, axis=1) / np.linalg.norm(los, axis=1)
    click.echo(f"scene {scene}: N = {n_ant}" + (f" ({n_rows} x {n_ant // n_rows})" if n_rows > 1 else "")
               + f", {carrier:g} GHz, max depth {max_depth}; traced in {info['seconds']:.2f} s")
    click.echo("node     r [m]  psi [rad]  el [rad]  paths  power/LoS  |corr with LoS|")
    for k, (r, psi, el) in enumerate(nodes):
        name = f"user {k + 1}" if k < len(u) else f"eve {k - len(u) + 1}"
        click.echo(f"{name:<7}{r:7.3f}  {psi:9.4f}  {el:8.4f}  {int(info['paths'][k]):5d}  {gain[k]:9.4f}  "
                   f"{corr[k]:15.4f}")
    click.echo(f"wrote {out}")
    if scenario is not None:
        scenario.parent.mkdir(parents=True, exist_ok=True)
        scenario.write_text(_scenario_text(out, scenario, meta), encoding="utf-8")
        click.echo(f"wrote {scenario} (channels = {out.name})")
