"""From probing to a verified key: probing, quantisation, reconciliation (binary and
multilevel), privacy amplification, information bounds, and the keygen pipeline.

Modules
-------
probing, quantization, reconciliation (with ldpc_codes, ldpc_graph, bp, bp_kernel), multilevel (with posteriors),
amplification, bounds (with gaussian_bounds, cell_quadrature), keygen (with keygen_plan, keygen_blocks), warmup
"""

#: The public modules (importing the subpackage alone loads none of them).
__all__ = ["probing", "quantization", "reconciliation", "ldpc_codes", "ldpc_graph", "bp", "bp_kernel",
           "multilevel", "posteriors",
           "amplification", "gaussian_bounds", "cell_quadrature", "bounds", "keygen_plan", "keygen_blocks",
           "keygen", "warmup"]
