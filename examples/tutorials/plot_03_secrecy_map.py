"""
A secrecy map: where is a user safe?
====================================

Fix the users and move one Eve over a grid in front of the array: at every point, the SKR
that her user keeps. :func:`nfkg.scale.maps.secrecy_map` does it without recomputing what
does not move (the other 2K - 1 channels are reduced once, each point costs its own channel
and two small products). Here a 120 x 90 grid (10,800 points, under a second per scheme);
``nfkg map examples/two_users.toml --scheme svd,svd-pa --user 1 --out maps/`` draws the
default 400 x 400 one.
"""

import matplotlib.pyplot as plt
import numpy as np

import nfkg
from nfkg.scale import maps

# %%
# The scenario of ``examples/two_users.toml`` (two users, Eves 2 cm in front of them), at
# a smaller array so that the grid sees the near field: N = 128 at 30 GHz.
scenario = nfkg.parse_scenario({
    "antennas": 128, "pt_dbm": 20,
    "users": [{"r": 12.0, "psi": -0.6}, {"r": 13.0, "psi": 0.6}],
    "eves": [{"r": 11.98, "psi": -0.6}, {"r": 12.98, "psi": 0.6}],
})

# %%
# Map user 1's SKR while Eve 1 moves, for two schemes; x runs along the array, y broadside
# [m].
spec = maps.MapSpec(scenario, schemes=("svd", "svd-pa"), user=1, moving="eve")
x, y = maps.map_grid((-16, 4, 1, 16), (120, 90))
result = maps.secrecy_map(spec, x, y)
print(f"{x.size * y.size:,} points, {len(spec.schemes)} schemes in {result.seconds:.2f} s")
for name in spec.schemes:
    skr = result.user_skr(name)
    print(f"{name:7s} user 1's SKR: median {np.median(skr):.2f}, lowest {skr.min():.3f} bits/probing")

# %%
# The figure of ``nfkg map``: one panel per scheme, the array, the nodes, the Rayleigh and
# reactive-field boundaries. Dark is where Eve 1 leaves user 1 no key.
fig = maps.plot_map(result, log=True)
plt.show()

# %%
# The same numbers as an :class:`xarray.Dataset` (``nfkg map`` writes it as ``map.nc``).
ds = maps.to_dataset(result)
print(ds)
