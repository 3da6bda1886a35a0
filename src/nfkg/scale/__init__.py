"""Scale: secrecy maps, sweeps over many scenarios, and the executors (local or Dask).

Modules
-------
maps, sweep, executor
"""
