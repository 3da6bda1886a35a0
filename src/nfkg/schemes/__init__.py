"""Precoding schemes: the registry, the baselines, SVD power allocation, the optimum,
fairness and KGSVD-Net (inference and training).

Modules
-------
precoding (re-exports registry, baselines, svd), registry, baselines, svd, optimize, optimum,
fairness, dlpa (dlpa_features: its input), network, training
"""

#: The public modules (importing the subpackage alone loads none of them).
__all__ = ["precoding", "registry", "baselines", "svd", "optimize", "optimum", "fairness", "dlpa", "dlpa_features", "network", "training"]
