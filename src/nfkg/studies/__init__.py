"""The papers' figures and tables, their claims, the report, and the studies beyond the
papers (robustness, fairness, the key rate).

Modules
-------
experiments, claims, tables, plotting, report, beyond, robustness, robustness_figures, keyrate
"""
