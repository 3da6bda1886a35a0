"""Run independent jobs in worker processes, for ``nfkg reproduce --jobs``.

Each worker is a fresh interpreter started as ``python -c`` with the same ``nfkg`` on its
path; it never imports the caller's ``__main__``, so :func:`nfkg.reproduce` may be called
from a script without an ``if __name__ == "__main__":`` guard. Jobs and results travel as
pickles over the worker's stdin and a duplicate of its stdout (the worker's own stdout is
sent to stderr, so nothing it prints can corrupt the stream). Workers run their numerical
libraries single-threaded (``OMP_NUM_THREADS=1`` and the like, unless already set): one
process per core, not several threads per process fighting for the same cores.

Contents
--------
default_jobs
    How many workers ``jobs=None`` starts.
run_jobs
    Run ``(key, "module:function", args)`` jobs on ``jobs`` workers, longest first.
"""

from __future__ import annotations

import os
import pickle
import queue
import subprocess
import sys
import threading
import traceback
from pathlib import Path
from typing import Any, Callable, Sequence

__all__ = ["default_jobs", "run_jobs", "WorkerError", "MAX_AUTO_JOBS"]

#: The most workers ``jobs=None`` starts (each imports NumPy, SciPy and matplotlib once).
MAX_AUTO_JOBS = 4
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
                "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")
_BOOT = "import sys; sys.path.insert(0, {path!r}); from nfkg.studies.pool import _worker_main; _worker_main()"


class WorkerError(RuntimeError):
    """A job failed in a worker; the message carries the worker's traceback."""


def default_jobs(n_jobs: int) -> int:
    """Workers for ``n_jobs`` jobs: the usable cores, at most :data:`MAX_AUTO_JOBS` and ``n_jobs``.

    >>> default_jobs(1)
    1
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_AUTO_JOBS, int(n_jobs)))


def _call(target: str, args: tuple) -> Any:
    import importlib

    module, func = target.split(":")
    return getattr(importlib.import_module(module), func)(*args)


def _worker_main() -> None:
    """The worker's loop: read ``(target, args)`` pickles until ``None``, answer each."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C: the caller stops the workers (one message)
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)                       # anything printed goes to stderr, not into the stream
    sys.stdout = sys.stderr
    inp = sys.stdin.buffer
    while True:
        try:
            job = pickle.load(inp)
        except EOFError:
            return
        if job is None:
            return
        try:
            reply = ("ok", _call(*job))
        except BaseException as e:  # noqa: BLE001 - sent back to the caller, who raises it
            text = "".join(traceback.format_exception(e))
            try:
                pickle.dumps(e)
                reply = ("error", e, text)
            except Exception:  # an exception that does not pickle: its text only
                reply = ("error", None, text)
        pickle.dump(reply, out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()


def _start_worker() -> subprocess.Popen:
    import nfkg

    env = dict(os.environ)
    for var in _THREAD_VARS:
        env.setdefault(var, "1")
    root = str(Path(nfkg.__file__).resolve().parent.parent)
    return subprocess.Popen([sys.executable, "-c", _BOOT.format(path=root)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, env=env)


def _serve(proc: subprocess.Popen, todo: "queue.Queue", done: "queue.Queue") -> None:
    """Feed one worker jobs from ``todo`` until it is empty; put ``(key, reply)`` on ``done``."""
    try:
        while True:
            try:
                key, target, args = todo.get_nowait()
            except queue.Empty:
                break
            try:
                pickle.dump((target, args), proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
                proc.stdin.flush()
                reply = pickle.load(proc.stdout)
            except (EOFError, OSError, pickle.UnpicklingError) as e:
                code = proc.poll()
                reply = ("error", None, f"the worker process ended (exit code {code}) while running {key!r}: {e}")
            done.put((key, reply))
            if reply[0] != "ok":
                break
    finally:
        try:
            pickle.dump(None, proc.stdin)
            proc.stdin.close()
        except OSError:
            pass


def run_jobs(jobs: Sequence[tuple[Any, str, tuple]], n_workers: int,
             on_done: Callable[[Any, Any], None] | None = None) -> dict[Any, Any]:
    """Run ``jobs`` on ``n_workers`` worker processes and return ``{key: result}``.

    Parameters
    ----------
    jobs : sequence of (key, target, args)
        ``target`` is ``"package.module:function"``, called as ``function(*args)`` in a
        worker; ``args`` and the result must pickle. Jobs start in the order given (put
        the longest first).
    n_workers : int
        Worker processes (>= 1; at most one per job is started).
    on_done : callable, optional
        Called as ``on_done(key, result)`` in the calling thread as each job finishes.

    Raises
    ------
    WorkerError
        When a job raised (chained to the original exception, when it pickles) or a worker
        died; the other workers are stopped.
    """
    jobs = list(jobs)
    if not jobs:
        return {}
    todo: queue.Queue = queue.Queue()
    for job in jobs:
        todo.put(job)
    done: queue.Queue = queue.Queue()
    procs = [_start_worker() for _ in range(max(1, min(int(n_workers), len(jobs))))]
    threads = [threading.Thread(target=_serve, args=(p, todo, done), daemon=True) for p in procs]
    for t in threads:
        t.start()
    results: dict[Any, Any] = {}
    try:
        while len(results) < len(jobs):
            try:
                key, reply = done.get(timeout=0.2)
            except queue.Empty:
                if not any(t.is_alive() for t in threads) and done.empty():
                    missing = [k for k, _, _ in jobs if k not in results]
                    raise WorkerError(f"the workers stopped before running {', '.join(map(str, missing))}")
                continue
            if reply[0] != "ok":
                _, exc, text = reply
                if isinstance(exc, ValueError):  # bad input: its one line, as in this process
                    raise exc
                raise WorkerError(f"{key}: failed in a worker process:\n{text}") from exc
            results[key] = reply[1]
            if on_done is not None:
                on_done(key, reply[1])
    finally:
        while True:  # nothing more to start
            try:
                todo.get_nowait()
            except queue.Empty:
                break
        for p in procs:
            if len(results) < len(jobs) and p.poll() is None:
                p.kill()
        for t in threads:
            t.join(timeout=5)
        for p in procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
            for stream in (p.stdin, p.stdout):
                try:
                    stream.close()
                except OSError:
                    pass
    return results
