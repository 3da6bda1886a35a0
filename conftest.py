"""Collection for the doctests of src/nfkg (pytest's ``--doctest-modules``).

nfkg.schemes.network is KGSVD-Net in torch (the 'train' extra): its doctests are collected
only where torch is installed, so that the light install (``make check-light``) collects too.
"""

import importlib.util

collect_ignore = [] if importlib.util.find_spec("torch") else ["src/nfkg/schemes/network.py"]
