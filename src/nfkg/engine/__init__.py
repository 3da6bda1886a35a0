"""The numerical engine: reduced (2K-dimensional) coordinates, subspaces, the SKR and
mismatch scoring. Imports nothing else of nfkg.

Modules
-------
reduced, subspace, secrecy, mismatch
"""

#: The public modules (importing the subpackage alone loads none of them).
__all__ = ["reduced", "subspace", "secrecy", "mismatch"]
