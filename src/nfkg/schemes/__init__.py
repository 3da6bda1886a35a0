"""Precoding schemes: the registry, the baselines, SVD power allocation, the optimum,
fairness and KGSVD-Net (inference and training).

Modules
-------
precoding, optimize, optimum, fairness, dlpa, network, training
"""
