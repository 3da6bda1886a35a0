"""Scale: secrecy maps, sweeps over many scenarios, and the executors (local or Dask).

Modules
-------
maps, sweep, executor
"""

#: The public modules (importing the subpackage alone loads none of them).
__all__ = ["maps", "sweep", "sweep_spec", "sweep_store", "executor"]
