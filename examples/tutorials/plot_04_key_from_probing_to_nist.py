"""
A key, from probing to NIST
===========================

The papers stop at the secret key rate, an upper bound. nfkg runs the whole protocol:
Monte Carlo probing, quantisation, reconciliation with LDPC codes, confirmation and privacy
amplification, then tests the key with NIST SP 800-22. First the papers' own steps by hand
(probing, one-bit quantisation J(45), the key disagreement rate J(46)), then the whole
protocol with :func:`nfkg.protocol.keygen.keygen`. Sizes: 10,000 probings (a few seconds in
all); ``nfkg keygen examples/two_users.toml --scheme svd-mf --rounds 1000000`` is the
full-size run.
"""

import matplotlib.pyplot as plt
import numpy as np

import nfkg
from nfkg import randomness
from nfkg.protocol import keygen, probing, quantization

# %%
# One user 12.2 m away, Eve 20 cm in front of her (the single-user paper's geometry), 30 dBm.
scenario = nfkg.parse_scenario({
    "pt_dbm": 30,
    "users": [{"r": 12.2, "psi": 0.2}],
    "eves": [{"r": 12.0, "psi": 0.2}],
})

# %%
# Probing: T rounds of random precoders; each gives the BS, the user and Eve one complex
# observation (z_a, z_b, z_e). Seeded: the same seed gives the same samples.
p = probing.probe(scenario, "svd-pa", rounds=10_000, seed=1)
print(p.z_a.shape, "samples per side")

# Both the user and Eve, 20 cm in front of her, see the BS's randomness almost exactly: their
# real parts against the BS's, normalised, with the correlation coefficient of each.
fig, axes = plt.subplots(1, 2, figsize=(8, 3.6), sharey=True, layout="constrained")
s = slice(0, 2000)
za = p.z_a[s, 0].real / np.std(p.z_a.real)
for ax, z, who in zip(axes, (p.z_b, p.z_e), ("user: Re z_b", "Eve: Re z_e")):
    rho = np.corrcoef(p.z_a[:, 0].real, z[:, 0].real)[0, 1]
    ax.scatter(za, z[s, 0].real / np.std(z.real), s=2, alpha=0.5)
    ax.set_title(f"{who}, correlation {rho:.4f}")
    ax.set_xlabel("BS: Re z_a (normalised)")
axes[0].set_ylabel("normalised")
plt.show()

# %%
# One-bit quantisation (J(45)): the signs of the real and imaginary parts, 2T bits, and the
# key disagreement rate J(46). Eve, 20 cm from the user, disagrees more often than the user but
# far less than 1/2: her observation is strongly correlated with the user's, and one bit per
# sample keeps almost none of the secret. It lies in the fine bits.
ka, kb, ke = (quantization.one_bit(z[:, 0]) for z in (p.z_a, p.z_b, p.z_e))
print(f"KDR user {quantization.kdr(ka, kb):.4f}, Eve {quantization.kdr(ka, ke):.4f}")

# %%
# The whole protocol. ``direction='auto'`` picks, per user, whether the BS's or the user's
# observation is the reference; the multilevel quantiser and LDPC reconciliation keep the
# fine bits where the secret lies; Toeplitz hashing removes what Eve and the public
# discussion know. Beside the key: the SKR and the one-way bounds it is measured against.
res = keygen.keygen(scenario, "svd-pa", rounds=10_000, seed=1)
u = res.users[0]
print(f"direction {u.direction}, {u.bits_per_sample} bits per sample, KDR {u.kdr:.3g}")
print(f"key {u.key_bits} bits, keys match: {u.keys_match}, Eve agrees on {u.eve_agreement:.3f}")
print(f"{u.bits_per_probing:.3f} bit/probing = {100 * u.fraction_of_bound:.0f} % of the quantiser's "
      f"bound {u.one_way_bound:.3f}; SKR {u.analytic_skr:.3f}")

# %%
# The key against NIST SP 800-22: every test that applies at this length, and one verdict
# (Bonferroni over all their P-values).
suite = randomness.run_all(u.key)
print(suite.summary())
verdict, detail = randomness.key_verdict(u.key)
print("verdict:", verdict)
