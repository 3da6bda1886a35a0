"""
Compare schemes on your own scenario
====================================

A scenario is an array, K users and one eavesdropper per user (Eve k targets user k), the
transmit power and the noise. Write it as a TOML file (the :doc:`scenario file guide
</guides/scenario-files>` lists every key) or as a Python mapping with the same keys, and
score every registered scheme on it with :func:`nfkg.evaluate`. One :class:`nfkg.Scenario`
can hold a whole sweep: here 31 transmit powers, evaluated in one batched call per scheme
(all schemes together take about a second).
"""

import matplotlib.pyplot as plt
import numpy as np

import nfkg

# %%
# Two users 12 and 13 m from a 256-antenna array at 30 GHz, each with an Eve 5 cm closer
# at the same angle. The mapping has the keys of a scenario file; ``parse_scenario``
# validates it (a bad key or value raises :class:`nfkg.ScenarioError` naming the key).
config = {
    "carrier_ghz": 30, "antennas": 256, "pt_dbm": 20, "noise_dbm": -105,
    "users": [{"r": 12.0, "psi": -0.6}, {"r": 13.0, "psi": 0.6}],
    "eves": [{"r": 11.95, "psi": -0.6}, {"r": 12.95, "psi": 0.6}],
}
base = nfkg.parse_scenario(config)
print(f"N = {base.n_ant} antennas at {base.ula.carrier_hz / 1e9:g} GHz, {base.n_users} users")

# %%
# Sweep the transmit power: the same nodes, 31 powers (a batch of 31 scenarios).
pt_dbm = np.arange(0, 31)
users = [(u["r"], u["psi"]) for u in config["users"]]
eves = [(e["r"], e["psi"]) for e in config["eves"]]
sweep = nfkg.Scenario.from_dbm(base.ula, users=users, eves=eves, pt_dbm=pt_dbm, noise_dbm=-105)

# %%
# Every registered scheme (``nfkg schemes`` lists them); the network scheme svd-dlpa uses the
# model shipped for K = 2.
fig, ax = plt.subplots(figsize=(6.4, 4.2))
for scheme in nfkg.scheme_names():
    ev = nfkg.evaluate(sweep, scheme)
    ax.plot(pt_dbm, ev.sum_skr, label=scheme)
    print(f"{scheme:10s} sum SKR at 0 / 15 / 30 dBm: "
          + " / ".join(f"{v:.3f}" for v in ev.sum_skr[[0, 15, 30]]))
ax.set_xlabel("$P_t$ [dBm]")
ax.set_ylabel("sum SKR [bits/probing]")
ax.legend(ncol=2, fontsize="small")
ax.grid(alpha=0.3)
plt.show()

# %%
# The two scoring conventions. The general engine (default) counts what the other users'
# random precoders leak through the shared pilot; ``scoring="per-user"`` drops it, as the
# journal paper's J(19) does. They agree for the SVD schemes (their precoders null the
# other users) and differ for MRC and RAS.
for scheme in ("mrc", "svd"):
    g = nfkg.evaluate(base, scheme).sum_skr
    p = nfkg.evaluate(base, scheme, scoring="per-user").sum_skr
    print(f"{scheme:4s} general {float(g):.4f}  per-user {float(p):.4f}")

# %%
# The power split behind a number: per user the BS's total random power P_a, and its signal
# and jamming parts P_S, P_N [W].
ev = nfkg.evaluate(base, "svd-opt")
print("SKR per user", ev.skr, "P_S", ev.result.p_s, "P_N", ev.result.p_n)
