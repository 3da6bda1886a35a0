"""Optional dependencies (the package's extras), imported only when a feature needs them.

``pip install nfkg`` installs what evaluating every scheme and reproducing the papers
needs. Four features need more (or run faster with it), each an extra:

=========  ==============================================  ==========================================
extra      packages                                        needed by
=========  ==============================================  ==========================================
``train``  torch                                           ``nfkg train`` (training KGSVD-Net), and
                                                           reading a model that has only its ``.pt``
``scale``  dask, distributed, xarray, pyarrow, pandas      ``nfkg sweep`` (Parquet), ``nfkg map``
                                                           (NetCDF), ``--workers``/``--scheduler``
``rt``     sionna-rt                                       ray-traced channels (:mod:`nfkg.model.rt`)
``fast``   numba                                           compiled kernels of the key protocol
                                                           (NumPy fallback without it)
=========  ==============================================  ==========================================

Every such import goes through :func:`load` (or :func:`require`), which raises
:class:`MissingExtra` with one line naming the extra, e.g. ``nfkg sweep needs the 'scale'
extra: pip install 'nfkg[scale]'``.

Contents
--------
EXTRAS, MissingExtra, load, require, available
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["EXTRAS", "MissingExtra", "load", "require", "available"]

#: The modules each extra provides (the first is the one a feature needs most).
EXTRAS: dict[str, tuple[str, ...]] = {
    "train": ("torch",),
    "scale": ("pyarrow", "xarray", "dask", "distributed", "pandas"),
    "rt": ("sionna.rt",),
    "fast": ("numba",),
}


class MissingExtra(ImportError):
    """An optional dependency is missing: one line naming the extra that installs it.

    Parameters
    ----------
    extra : str
        The extra's name (a key of :data:`EXTRAS`).
    what : str
        What needs it (``"nfkg sweep"``, ``"reading the PyTorch file X"``).
    """

    def __init__(self, extra: str, what: str) -> None:
        self.extra, self.what = extra, what
        super().__init__(f"{what} needs the '{extra}' extra: pip install 'nfkg[{extra}]'")


def load(module: str, extra: str, what: str) -> ModuleType:
    """Import ``module`` (part of ``extra``); :class:`MissingExtra` naming ``what`` when it fails.

    >>> load("numpy", "scale", "this example").__name__
    'numpy'
    >>> load("nfkg_no_such_module", "scale", "nfkg sweep")
    Traceback (most recent call last):
    ...
    nfkg._extras.MissingExtra: nfkg sweep needs the 'scale' extra: pip install 'nfkg[scale]'
    """
    if extra not in EXTRAS:
        raise ValueError(f"extra: must be one of {', '.join(EXTRAS)}, got {extra!r}")
    try:
        return importlib.import_module(module)
    except MissingExtra:
        raise
    except ImportError as e:  # absent, or present but unusable: the extra's install fixes both
        raise MissingExtra(extra, what) from e


def require(extra: str, what: str, modules: tuple[str, ...] | None = None) -> None:
    """Import ``modules`` (default: every module of ``extra``), or raise :class:`MissingExtra`."""
    for module in EXTRAS[extra] if modules is None else modules:
        load(module, extra, what)


def available(extra: str) -> bool:
    """Whether every module of ``extra`` imports."""
    try:
        require(extra, extra)
    except MissingExtra:
        return False
    return True
