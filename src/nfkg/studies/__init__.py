"""The papers' figures and tables, their claims, the report, and the studies beyond the
papers (robustness, fairness, the key rate).

Modules
-------
experiments, claims, tables, plotting, report, beyond, robustness, robustness_figures, keyrate, rt_street
"""

#: The public modules (importing the subpackage alone loads none of them).
__all__ = ["experiments", "claims", "tables", "plotting", "report", "beyond", "robustness",
           "robustness_figures", "keyrate", "rt_street"]
