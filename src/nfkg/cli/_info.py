"""``nfkg schemes`` and ``nfkg info``: the scheme registry and a scenario's description."""

from __future__ import annotations

import math
from collections.abc import Sequence

import click

from ._common import (_load)

__all__ = ["schemes", "info"]


@click.command()
def schemes() -> None:
    """List the registered precoding schemes and what they do (plug-ins with their package)."""
    from ..schemes.precoding import get_scheme, scheme_names

    names = scheme_names()
    width = max((len(n) for n in names), default=0)
    for name in names:
        spec = get_scheme(name)
        import inspect

        opts = (["--shaping"] if spec.uses_shaping else []) + (
            ["--jamming"] if "jamming" in inspect.signature(spec.func).parameters else [])
        note = f"  [{', '.join(opts)}]" if opts else ""
        origin = f"  (plug-in: package {spec.package})" if spec.plugin else ""
        click.echo(f"{name.ljust(width)}  {spec.description}{note}{origin}")
    from ..schemes.registry import plugin_failures

    for message in plugin_failures().values():
        click.echo(f"nfkg: warning: {message}", err=True)



def _metres(v: float) -> str:
    """A length for `nfkg info`: 3 decimals, or 3 significant digits below 0.1 m (0.5 mm is '0.0005', not '0.001')."""
    v = float(v)
    return f"{v:.3f}" if v == 0 or abs(v) >= 0.1 else f"{v:.3g}"


@click.command(short_help="Describe a scenario file: array, near field, nodes.")
@click.argument("scenario", type=click.Path(dir_okay=True, path_type=str))
def info(scenario: str) -> None:
    """Describe the scenario file SCENARIO: array, near-field boundaries and nodes.

    A node is in the radiative near field when it lies between the reactive
    distance 0.62 sqrt(D^3/lambda) and the Rayleigh distance 2 D^2/lambda, with
    the aperture D = (N-1) d (J convention); for a planar array (array_rows > 1)
    D is the aperture's diagonal.
    """
    from ..model.channel import node_position

    cfg, scen = _load(scenario)
    ula = scen.ula
    lam = ula.wavelength
    ray_j, ray_c = ula.rayleigh_distance("J"), ula.rayleigh_distance("C")
    reactive = ula.reactive_distance("J")
    click.echo(f"scenario: {scenario}")
    if cfg.channels is not None:
        click.echo(f"channels:            {cfg.channels} (K = {scen.n_users} users and Eves, N = {ula.n_ant}; "
                   f"the array below describes them, positions are for information)")
    click.echo(f"antennas N:          {ula.n_ant}" + (f" ({ula.rows} rows x {ula.cols} columns, a planar array "
                                                       f"in the x-z plane)" if ula.planar else ""))
    click.echo(f"carrier:             {cfg.carrier_ghz:g} GHz (wavelength {lam * 1e3:.4f} mm)")
    click.echo(f"spacing d:           {ula.spacing * 1e3:.4f} mm ({ula.spacing_wavelengths:g} wavelengths)")
    if ula.planar:
        click.echo(f"aperture D:          {ula.aperture('J'):.4f} m (diagonal d sqrt((C-1)^2+(R-1)^2), J), "
                   f"{ula.aperture('C'):.4f} m (d sqrt(C^2+R^2), C)")
    else:
        click.echo(f"aperture D:          {(ula.n_ant - 1) * ula.spacing:.4f} m ((N-1)d, J), "
                   f"{ula.n_ant * ula.spacing:.4f} m (Nd, C)")
    click.echo(f"Rayleigh distance:   {ray_j:.3f} m (J), {ray_c:.3f} m (C)")
    click.echo(f"reactive distance:   {reactive:.3f} m (J)")
    click.echo(f"P_max / P_b:         {cfg.pt_dbm:g} dBm / {cfg.p_b_dbm:g} dBm")
    noise = [cfg.noise_dbm if v is None else v for v in (cfg.noise_a_dbm, cfg.noise_b_dbm, cfg.noise_e_dbm)]
    click.echo(f"noise BS/user/Eve:   {noise[0]:g} / {noise[1]:g} / {noise[2]:g} dBm, "
               f"pilot length V = {cfg.pilot_length}")
    if cfg.users is None and cfg.eves is None:
        click.echo("nodes:               positions not given (the channels are)")
        return
    elevated = any(n.el != 0.0 for n in (*(cfg.users or ()), *(cfg.eves or ())))
    cols = ("node", "r [m]", "psi [rad]", "x [m]", "y [m]", "radiative NF", "region")
    widths = (6, 9, 9, 9, 9, 12, 0)
    if elevated:  # nodes off the x-y plane: their elevation and height too
        cols = ("node", "r [m]", "psi [rad]", "el [rad]", "x [m]", "y [m]", "z [m]", "radiative NF", "region")
        widths = (6, 9, 9, 9, 9, 9, 9, 12, 0)

    def row(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else (c.rjust(w) if w else c)
                         for i, (c, w) in enumerate(zip(cells, widths)))

    click.echo(row(cols))
    for who, nodes in (("user", cfg.users or ()), ("eve", cfg.eves or ())):
        for k, node in enumerate(nodes, start=1):
            x, y = (float(v) for v in node_position(node.r * math.cos(node.el), node.psi))
            if node.r < reactive:
                region = "reactive near field"
            elif node.r < ray_j:
                region = "radiative near field"
            else:
                region = "far field"
            cells = (f"{who} {k}", _metres(node.r), f"{node.psi:.4f}", _metres(x), _metres(y),
                     "yes" if region == "radiative near field" else "no", region)
            if elevated:
                cells = (*cells[:3], f"{node.el:.4f}", *cells[3:5], _metres(node.r * math.sin(node.el)), *cells[5:])
            click.echo(row(cells))
