"""From probing to a verified key: probing, quantisation, reconciliation (binary and
multilevel), privacy amplification, information bounds, and the keygen pipeline.

Modules
-------
probing, quantization, reconciliation, multilevel, amplification, bounds, keygen
"""
