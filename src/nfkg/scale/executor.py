"""Executors: one interface to run independent chunks in process or on a Dask cluster.

Maps (:mod:`nfkg.scale.maps`) and sweeps (:mod:`nfkg.scale.sweep`) split their work into chunks,
each a pure function call ``fn(task)``, and consume the results as they finish. An
executor only decides *where* the calls run; the results never depend on it.

``InProcess``
    Runs the chunks one after the other in this process (the default: nothing to start).
``DaskExecutor``
    Submits the chunks to a Dask cluster (:mod:`dask.distributed`): a local cluster of
    ``workers`` single-threaded worker processes started here, or an existing cluster at
    ``scheduler`` (``tcp://HOST:PORT``), which must answer within a timeout (10 s by default,
    ``--connect-timeout``): an address where nothing, or something other than Dask, answers
    fails with one line naming it. The results come back to this process as each
    chunk finishes (:func:`distributed.as_completed`), so the caller writes them at once;
    a worker that dies loses only the chunks it was running, which the scheduler runs
    again on another worker (``distributed.scheduler.allowed-failures``).

Dask is the tool made for this (task scheduling, worker supervision, retries, remote
clusters); nfkg adds nothing but the interface and imports Dask only when asked to. Dask
is part of the ``scale`` extra (``pip install 'nfkg[scale]'``); without it a
:class:`DaskExecutor` fails with one line saying so.

Contents
--------
Executor, InProcess, DaskExecutor, get_executor, probe_scheduler, CONNECT_TIMEOUT
"""

from __future__ import annotations

from typing import Any, Callable, Iterator, Protocol, Sequence

from .._extras import load as _load_extra

__all__ = ["Executor", "InProcess", "DaskExecutor", "get_executor", "local_cluster", "probe_scheduler",
           "CONNECT_TIMEOUT"]


class Executor(Protocol):
    """Runs ``fn`` on every task; yields ``(index, result)`` as each call finishes."""

    def run(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[tuple[int, Any]]: ...

    def close(self) -> None: ...


class InProcess:
    """Run the tasks in order, here. ``workers`` is 1."""

    workers = 1

    def run(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        for i, task in enumerate(tasks):
            yield i, fn(task)

    def close(self) -> None:
        pass

    def __enter__(self) -> "InProcess":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return "InProcess()"


class DaskExecutor:
    """Run the tasks on a Dask cluster.

    Parameters
    ----------
    workers : int, optional
        Start a :class:`distributed.LocalCluster` with this many worker processes, one
        thread each, on the loopback interface (no dashboard).
    scheduler : str, optional
        Address of a running scheduler, e.g. ``tcp://10.0.0.5:8786``. Exactly one of
        ``workers`` and ``scheduler`` is given.
    client : distributed.Client, optional
        Use this client instead (for tests and notebooks); it is not closed here.
    timeout : float
        Seconds to wait for ``scheduler`` to answer (:func:`probe_scheduler`; ``--connect-timeout``).
    """

    def __init__(self, workers: int | None = None, scheduler: str | None = None, client: Any = None,
                 timeout: float = 10.0) -> None:
        if sum(v is not None for v in (workers, scheduler, client)) != 1:
            raise ValueError("executor: give exactly one of --workers and --scheduler")
        Client = _load_extra("distributed", "scale", _WHAT).Client
        self._cluster = None
        self._own_client = client is None
        if client is not None:
            self.client = client
        elif workers is not None:
            if int(workers) < 1:
                raise ValueError(f"workers: must be at least 1, got {workers}")
            self._cluster = local_cluster(int(workers))
            self.client = Client(self._cluster)
        else:
            probe_scheduler(scheduler, timeout)
            try:
                self.client = _bounded(lambda: Client(scheduler, timeout=f"{float(timeout)}s"), 2 * float(timeout),
                                       f"scheduler: {scheduler} did not complete the Dask connection within "
                                       f"{2 * float(timeout):g} s")
            except (OSError, TimeoutError, ValueError) as e:
                raise ValueError(f"scheduler: cannot connect to {scheduler!r} ({_one_line(e)})") from None

    @property
    def workers(self) -> int:
        """Number of workers the scheduler knows now."""
        return len(self.client.scheduler_info().get("workers", {}))

    def run(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        from distributed import as_completed

        futures = [self.client.submit(fn, task, pure=False) for task in tasks]
        index = {f.key: i for i, f in enumerate(futures)}
        try:
            for fut, result in as_completed(futures, with_results=True):
                yield index[fut.key], result
        finally:
            for f in futures:
                f.release()

    def close(self) -> None:
        if self._own_client:
            self.client.close()
        if self._cluster is not None:
            self._cluster.close()

    def __enter__(self) -> "DaskExecutor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"DaskExecutor({self.client.scheduler.address if self.client.scheduler else '?'})"


_WHAT = "running chunks on Dask (--workers, --scheduler)"

#: Seconds `--scheduler` waits for a Dask scheduler to answer (``--connect-timeout``).
CONNECT_TIMEOUT = 10.0


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


def _bounded(fn: Callable[[], Any], seconds: float, message: str) -> Any:
    """``fn()`` in a helper thread, ``TimeoutError(message)`` when it takes longer than ``seconds``."""
    import threading

    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - handed back to the caller
            box["error"] = e

    t = threading.Thread(target=target, name="nfkg-connect", daemon=True)
    t.start()
    t.join(seconds)
    if t.is_alive():
        raise TimeoutError(message)
    if "error" in box:
        raise box["error"]
    return box["value"]


def probe_scheduler(address: str, timeout: float = CONNECT_TIMEOUT) -> None:
    """Check within ``timeout`` seconds that a Dask scheduler answers at ``address``.

    Dask's own connection waits without limit for the handshake of a server that accepts
    the connection but never speaks Dask (an HTTP server on the port, say). This opens one
    Dask connection (:func:`distributed.comm.connect`: the server sends its handshake
    first) under a deadline, then closes it.

    Raises
    ------
    ValueError
        One line naming the address: nothing listens there, or what listens is not a Dask
        scheduler (no handshake within ``timeout``).
    """
    import asyncio

    connect = _load_extra("distributed.comm", "scale", _WHAT).connect

    timeout = float(timeout)
    if not timeout > 0:
        raise ValueError(f"connect timeout: must be > 0 seconds, got {timeout:g}")

    async def attempt() -> None:
        # Dask's connect retries a refused connection for `timeout` seconds and then says so
        # (OSError); the deadline beyond it catches a listener that never sends the handshake.
        comm = await asyncio.wait_for(connect(address, timeout=timeout), 1.2 * timeout + 0.5)
        await comm.close()

    try:
        _bounded(lambda: asyncio.run(attempt()), 1.2 * timeout + 5.0, "no answer")
    except (asyncio.TimeoutError, TimeoutError):
        raise ValueError(f"scheduler: no Dask scheduler answered at {address} within {timeout:g} s (something "
                         "may listen there but does not speak Dask; --connect-timeout sets the wait)") from None
    except (OSError, ValueError, TypeError) as e:
        raise ValueError(f"scheduler: cannot connect to {address} ({_one_line(e)})") from None


def _blas_threads() -> int:
    from threadpoolctl import threadpool_info

    counts = [int(i.get("num_threads", 1)) for i in threadpool_info() if i.get("user_api") == "blas"]
    return max(counts, default=1)


def local_cluster(workers: int):
    """A :class:`distributed.LocalCluster`: ``workers`` processes of one thread, loopback, no dashboard.

    Its worker processes start their BLAS with this process's BLAS thread count (Dask
    would start them with one): OpenBLAS's results can depend, in the last digit, on the
    thread count it starts with, and an optimiser (svd-opt's SLSQP) can carry that into
    its result. With the same start the workers compute exactly what this process
    computes, so a Dask run equals the in-process run bit for bit (tested). A remote
    cluster (``--scheduler``) gives the same bits when its workers' BLAS starts alike
    (e.g. ``OPENBLAS_NUM_THREADS`` set the same on both sides).
    """
    import logging

    dask = _load_extra("dask", "scale", _WHAT)
    LocalCluster = _load_extra("distributed", "scale", _WHAT).LocalCluster

    n = str(_blas_threads())
    env = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}) or {})
    env.update({k: n for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")})
    with dask.config.set({"distributed.nanny.pre-spawn-environ": env}):
        return LocalCluster(n_workers=int(workers), threads_per_worker=1, processes=True, host="127.0.0.1",
                            dashboard_address=None, silence_logs=logging.ERROR)


def get_executor(workers: int | None = None, scheduler: str | None = None, timeout: float = CONNECT_TIMEOUT):
    """``InProcess()`` when neither is given, else a :class:`DaskExecutor` (a context manager).

    ``timeout``: seconds to wait for ``scheduler`` to answer (default :data:`CONNECT_TIMEOUT`).
    """
    if workers is None and scheduler is None:
        return InProcess()
    return DaskExecutor(workers=workers, scheduler=scheduler, timeout=timeout)
