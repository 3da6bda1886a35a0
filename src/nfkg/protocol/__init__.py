"""From probing to a verified key: probing, quantisation, reconciliation (binary and
multilevel), privacy amplification, information bounds, and the keygen pipeline.

Modules
-------
probing, quantization, reconciliation, multilevel, amplification, bounds, keygen
"""

#: The public modules (importing the subpackage alone loads none of them).
__all__ = ["probing", "quantization", "reconciliation", "multilevel", "amplification", "bounds", "keygen"]
