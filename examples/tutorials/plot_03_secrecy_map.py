"""
A secrecy map: where can a user get keys?
=========================================

Fix the eavesdroppers and move one user over a grid in front of the array: at every point, the
SKR that user keeps. :func:`nfkg.scale.maps.secrecy_map` does it without recomputing what does
not move (the other 2K - 1 channels are reduced once; each point costs its own channel and two
small products). Here a 160 x 100 grid (16,000 points, about a second per scheme);
``nfkg map examples/two_users.toml --scheme svd,svd-pa --user 1 --user-moves --out maps/``
draws the default 400 x 400 map and writes the figure and a NetCDF file.
"""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm

import nfkg
from nfkg.scale import maps

# %%
# The scenario of ``examples/two_users.toml`` (two users, Eves 2 cm in front of them), with
# N = 128 antennas at 30 GHz.
scenario = nfkg.parse_scenario({
    "antennas": 128, "pt_dbm": 20,
    "users": [{"r": 12.0, "psi": -0.6}, {"r": 13.0, "psi": 0.6}],
    "eves": [{"r": 11.98, "psi": -0.6}, {"r": 12.98, "psi": 0.6}],
})

# %%
# User 1 moves (``moving="user"``), every Eve stays; x runs along the array, y broadside [m].
spec = maps.MapSpec(scenario, schemes=("svd", "svd-pa"), user=1, moving="user")
x, y = maps.map_grid((-16, 16, 0.5, 20), (160, 100))
result = maps.secrecy_map(spec, x, y)
print(f"{x.size * y.size:,} points, {len(spec.schemes)} schemes in {result.seconds:.2f} s")
for name in spec.schemes:
    skr = result.user_skr(name)
    print(f"{name:7s} user 1's SKR: median {np.median(skr):.2f}, lowest {skr.min():.4f} bits/probing")

# %%
# The key rate is high almost everywhere and collapses only on thin streaks through the Eves:
# there the user's channel is nearly collinear with an Eve's, and no precoder can tell them
# apart. Near the array the streaks fade, as the spherical wavefronts separate directions
# that a far-field (planar) model would confuse.
fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True, layout="constrained")
eves = np.array([(r * np.sin(p), r * np.cos(p)) for r, p in zip(scenario.r_e, scenario.psi_e)])
for ax, name in zip(axes, spec.schemes):
    mesh = ax.pcolormesh(x, y, np.maximum(result.user_skr(name), 1e-2), shading="auto",
                         norm=LogNorm(1e-2, 25), cmap="viridis", rasterized=True)
    ax.plot(*eves.T, "rx", ms=8, mew=2, label="Eves")
    ax.plot([-1, 1], [0, 0], "k", lw=4, label="array")
    ax.set_title(name)
    ax.set_xlabel("x along the array [m]")
axes[0].set_ylabel("y broadside [m]")
axes[0].legend(loc="lower left")
fig.colorbar(mesh, ax=axes, label="SKR of user 1 [bits/probing]")
plt.show()

# %%
# :func:`~nfkg.scale.maps.plot_map` draws the figure of ``nfkg map`` (with the Rayleigh and
# reactive-field boundaries) and :func:`~nfkg.scale.maps.save_map` writes it with the data; the
# data alone is an :class:`xarray.Dataset`:
ds = maps.to_dataset(result)
for name in spec.schemes:
    at = ds.skr.sel(scheme=name).sel(x=0.0, y=10.0, method="nearest")
    print(f"{name:7s} user 1 at (0, 10) m: {float(at):.2f} bits/probing")
