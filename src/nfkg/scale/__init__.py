"""Scale: secrecy maps, sweeps over many scenarios, and the executors (local or Dask).

Computing a map and validating a sweep need only the core install; writing a map (NetCDF),
running a sweep (Parquet) and the Dask executors need the ``scale`` extra
(``pip install 'nfkg[scale]'``).

Modules
-------
maps, sweep (sweep_spec: the file and its points; sweep_store: chunk files and the table), executor
"""

__all__ = ["maps", "sweep", "sweep_spec", "sweep_store", "executor"]
