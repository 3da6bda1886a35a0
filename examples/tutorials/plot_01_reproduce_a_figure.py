"""
Reproduce a figure of the papers
================================

Every figure of the two papers is a *preset*: a geometry, a swept parameter and the schemes
to compare. :func:`nfkg.run_figure` computes one preset's curves and
:func:`nfkg.studies.plotting.plot_figure` draws them as the paper does. Here: the
single-user paper's Fig. 3, SKR against the transmit power P_t with Eve 20 cm in front of
the user, on 9 powers instead of the preset's 41 (the command ``nfkg figure c3 --out DIR``
runs the full grid, in about a second).
"""

import matplotlib.pyplot as plt

import nfkg
from nfkg.studies import claims, experiments, plotting

# %%
# The preset: its parameters, and the overrides accepted (the same keys as
# ``nfkg figure c3 --param KEY=VALUE``).
preset = experiments.get_preset("c3")
print(preset.paper_ref, "-", preset.title)
for key, value in experiments.resolve_params("c3", {"pt_dbm": [0, 5, 10, 15, 20, 25, 30, 35, 40]}).items():
    print(f"{key:20s} {value}")

# %%
# Compute the curves: one batched evaluation per scheme over all the powers.
data = nfkg.run_figure("c3", {"pt_dbm": [0, 5, 10, 15, 20, 25, 30, 35, 40]})
for name, y in data.curves.items():
    print(f"{name:24s}", " ".join(f"{v:6.2f}" for v in y))

# %%
# Draw it as the paper does (the same function writes ``c3.png`` / ``c3.pdf`` for
# ``nfkg figure``).
fig, ax = plt.subplots(figsize=(6, 4))
plotting.plot_figure(data, ax=ax)
plt.show()

# %%
# The paper's claims about this figure, checked on the curves just computed (the report of
# ``nfkg reproduce`` prints the same table for every figure, under both scoring conventions).
for c in claims.check_claims(data):
    print(f"{c.status:12s} {c.text}")
