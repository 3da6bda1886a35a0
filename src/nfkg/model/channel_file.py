r"""Channels one already has: the checks of the arrays and the channel files (.npz, .mat).

The users' channels ``f`` and the Eves' channels ``h`` are arrays of shape ``(..., K, N)``:
row k holds the N complex antenna gains between the base station and user k (``f``) or
Eve k (``h``), on the scale of C(2)/J(1) (:math:`|f_k[n]|^2` is antenna n's power gain).
:meth:`nfkg.model.scenario.Scenario.from_channels` builds a scenario on them; a scenario
file names a channel file with its ``channels`` key.

A channel file holds two arrays ``f`` and ``h`` of shape ``(K, N)``: a NumPy ``.npz``
(``numpy.savez(path, f=f, h=h)``, read without pickle) or a MATLAB ``.mat`` up to v7
(``save(path, "f", "h", "-v7")``, read with :func:`scipy.io.loadmat`); other arrays in it
are ignored.

Contents
--------
check_channels
    Type, shape, finiteness and size of ``f`` and ``h``: one line naming the array.
read_channels
    ``f`` and ``h`` of a ``.npz`` or ``.mat`` file, checked and cached.
MAX_CHANNEL_ABS, MIN_CHANNEL_NORM, MAX_CHANNEL_FILE_BYTES
    The limits.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

from .limits import LIMITS, LimitError, _fmt, _index_name, check_count

__all__ = ["MAX_CHANNEL_ABS", "MIN_CHANNEL_NORM", "MAX_CHANNEL_FILE_BYTES", "check_channels", "read_channels"]


def _one_line(text: str) -> str:
    return " ".join(line.strip() for line in str(text).splitlines() if line.strip())


# --------------------------------------------------------------------------- the arrays
#: Largest magnitude accepted in a user-supplied channel array (a passive channel has ``|x| <= 1``;
#: normalised measurements are O(1); the margin keeps every ``power x |x|^2 / noise`` finite).
MAX_CHANNEL_ABS = 1e10
#: Smallest norm of one node's channel vector: below it the vector is treated as all-zero.
MIN_CHANNEL_NORM = 1e-150


def _channel_array(value: Any, name: str) -> np.ndarray:
    """One channel array as complex128, type and shape checked (``LimitError`` naming ``name``)."""
    if isinstance(value, (list, tuple)):
        try:
            value = np.array(value)
        except (ValueError, TypeError):
            raise LimitError("must be a rectangular array of complex numbers, shape (..., K, N)", name) from None
    arr = np.asarray(value) if not isinstance(value, np.ndarray) else value
    kind = arr.dtype.kind
    if kind == "b":
        raise LimitError("must hold complex numbers, not booleans", name)
    if kind not in "iufc":
        raise LimitError(f"must hold complex numbers (got an array of {arr.dtype})", name)
    if arr.ndim < 2:
        raise LimitError(f"must have shape (..., K, N): one row of N antenna gains per node (got shape "
                         f"{arr.shape})", name)
    return np.asarray(arr, dtype=complex)


def check_channels(f: Any, h: Any, names: tuple[str, str] = ("f", "h")) -> tuple[np.ndarray, np.ndarray, tuple]:
    r"""Check the users' and Eves' channel arrays of :meth:`~nfkg.model.scenario.Scenario.from_channels`.

    Both must be numeric (real or complex), of shape ``(..., K, N)`` with the same ``K``
    (1 ... 64) and ``N`` (1 ... 65,536) and broadcastable batch axes, finite, with
    :math:`|x| \le` :data:`MAX_CHANNEL_ABS`, and no node's vector may be all zero.

    Returns
    -------
    f, h : ndarray of complex128
    batch : tuple
        The broadcast batch shape of the two arrays.

    Raises
    ------
    LimitError
        One line naming the array (``f``, ``h``, ``h[0, 2]`` ...).

    Examples
    --------
    >>> check_channels([[1, 0]], [[0, 0]])
    Traceback (most recent call last):
    ...
    nfkg.model.limits.LimitError: h[0]: the channel of Eve 0 is all zero (largest |x| 0); every node needs a nonzero channel
    """
    nf, nh = names
    f = _channel_array(f, nf)
    h = _channel_array(h, nh)
    k, n = f.shape[-2:]
    check_count(k, nf, "user")
    if h.shape[-2] != k:
        raise LimitError(f"need exactly one Eve per user: {nh} has {h.shape[-2]} row(s) (Eves), {nf} has {k} "
                         f"(users); both arrays are (..., K, N)", nh)
    if h.shape[-1] != n:
        raise LimitError(f"has N = {h.shape[-1]} antennas (last axis), {nf} has N = {n}", nh)
    lim = LIMITS["antennas"]
    if not lim.lo <= n <= lim.hi:
        raise LimitError(f"must have between {_fmt(lim.lo)} and {_fmt(lim.hi)} antennas on its last axis "
                         f"(got N = {n})", nf)
    try:
        batch = np.broadcast_shapes(f.shape[:-2], h.shape[:-2])
    except ValueError:
        raise LimitError(f"batch axes {h.shape[:-2]} do not broadcast with {nf}'s {f.shape[:-2]}", nh) from None
    for name, arr, who in ((nf, f, "user"), (nh, h, "Eve")):
        # two cheap reductions without temporaries: the largest and smallest real and imaginary
        # part of every row (NaN propagates through max and min); the exact checks below run only
        # when they flag something
        if arr.flags.c_contiguous:
            parts = arr.view(float)
            top, bottom = parts.max(axis=-1), parts.min(axis=-1)
        else:
            top = np.maximum(arr.real.max(axis=-1), arr.imag.max(axis=-1))
            bottom = np.minimum(arr.real.min(axis=-1), arr.imag.min(axis=-1))
        peak = np.maximum(top, -bottom)
        suspect = ~((peak >= MIN_CHANNEL_NORM) & (peak <= MAX_CHANNEL_ABS / math.sqrt(2.0)))
        if not np.any(suspect):
            continue
        bad = ~np.isfinite(arr)
        if np.any(bad):
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            raise LimitError(f"must be finite (got {arr[idx]} at antenna {idx[-1]})", _index_name(name, idx[:-1]))
        big = np.abs(arr) > MAX_CHANNEL_ABS
        if np.any(big):
            idx = tuple(int(i) for i in np.argwhere(big)[0])
            raise LimitError(f"|x| must be <= {MAX_CHANNEL_ABS:g} (got {abs(arr[idx]):.3g} at antenna {idx[-1]}); "
                             f"rescale the channels and the noise powers together", _index_name(name, idx[:-1]))
        zero = ~(np.abs(arr).max(axis=-1) >= MIN_CHANNEL_NORM)
        if np.any(zero):
            idx = tuple(int(i) for i in np.argwhere(zero)[0])
            raise LimitError(f"the channel of {who} {idx[-1]} is all zero (largest |x| "
                             f"{float(np.abs(arr[idx]).max()):.3g}); every node needs a nonzero channel",
                             _index_name(name, idx))
    return f, h, tuple(batch)


# --------------------------------------------------------------------------- channel files
#: Most bytes of a channel file and of each array in it (160 MiB: the largest valid pair,
#: 64 users x 65,536 antennas of complex128 for ``f`` and ``h``, is 128 MiB).
MAX_CHANNEL_FILE_BYTES = 160 * 2**20

_CHANNEL_CACHE: dict[tuple, tuple] = {}


def _column_hint(shape: tuple) -> str:
    if len(shape) == 2 and shape[0] > shape[1]:
        return " (one row per node: a file holds (K, N) arrays; transpose column vectors)"
    return ""


def _npz_arrays(path: str) -> dict:
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            sizes = {info.filename: info.file_size for info in zf.infolist()}
    except zipfile.BadZipFile:
        raise ValueError("not a .npz file (numpy.savez / savez_compressed writes them)") from None
    out = {}
    with np.load(path, allow_pickle=False) as data:
        for name in ("f", "h"):
            if name not in data.files:
                raise ValueError(f"has no array {name!r} (it holds {', '.join(map(repr, data.files)) or 'none'}); "
                                 f"a channel file holds f (users) and h (Eves), each (K, N)")
            if sizes.get(f"{name}.npy", 0) > MAX_CHANNEL_FILE_BYTES:
                raise ValueError(f"array {name!r} is larger than {MAX_CHANNEL_FILE_BYTES / 2**20:g} MiB uncompressed, "
                                 f"the most a channel file may hold")
            try:
                out[name] = data[name]
            except ValueError as e:  # object arrays (pickles) are refused
                raise ValueError(f"array {name!r} cannot be read without pickle ({_one_line(str(e))})") from None
    return out


def _mat_arrays(path: str) -> dict:
    import scipy.io

    try:
        listed = {name: (shape, cls) for name, shape, cls in scipy.io.whosmat(path)}
    except NotImplementedError:
        raise ValueError("MATLAB v7.3 (HDF5) files are not read; save with save(..., '-v7')") from None
    except Exception as e:  # scipy raises several types for a file that is not MATLAB's
        raise ValueError(f"not a MATLAB .mat file ({_one_line(str(e)) or type(e).__name__})") from None
    for name in ("f", "h"):
        if name not in listed:
            raise ValueError(f"has no variable {name!r} (it holds {', '.join(map(repr, listed)) or 'none'}); "
                             f"a channel file holds f (users) and h (Eves), each (K, N)")
        shape, cls = listed[name]
        if cls not in ("double", "single", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                       "uint64"):
            raise ValueError(f"variable {name!r} must be a numeric matrix (got a MATLAB {cls})")
        if len(shape) != 2:
            raise ValueError(f"{name}: must have shape (K, N) (got {tuple(shape)})")
        if 16 * shape[0] * shape[1] > MAX_CHANNEL_FILE_BYTES:
            raise ValueError(f"{name}: shape {tuple(shape)} is larger than {MAX_CHANNEL_FILE_BYTES / 2**20:g} MiB, "
                             f"the most a channel file may hold")
    return scipy.io.loadmat(path, variable_names=["f", "h"])


def read_channels(path: str | os.PathLike):
    """The channel arrays ``f`` (users) and ``h`` (Eves) of a ``.npz`` or ``.mat`` file.

    A channel file holds two arrays named ``f`` and ``h``, each of shape ``(K, N)``:
    row k is the N antenna gains of user k (``f``) or of Eve k (``h``), complex (real
    accepted). ``.npz`` files are read with :func:`numpy.load` (no pickle), ``.mat``
    files (MATLAB up to v7, not the HDF5-based v7.3) with :func:`scipy.io.loadmat`.
    Other arrays in the file (metadata) are ignored. A file, and each array in it,
    is at most :data:`MAX_CHANNEL_FILE_BYTES`. Files are cached by path, size and
    modification time (a sweep reads its channel file once).

    Returns
    -------
    f, h : ndarray of complex128, shape ``(K, N)``
        Read-only, checked by :func:`check_channels`.

    Raises
    ------
    ValueError
        One line: what is wrong with the file or which array (``f``, ``h[0]`` ...).
    """
    name = os.fspath(path)
    try:
        st = os.stat(name)
    except FileNotFoundError:
        raise ValueError("no such file") from None
    except OSError as e:
        raise ValueError(f"cannot read the file ({e.strerror or e})") from None
    if os.path.isdir(name):
        raise ValueError("is a directory, not a channel file")
    if st.st_size > MAX_CHANNEL_FILE_BYTES:
        raise ValueError(f"larger than {MAX_CHANNEL_FILE_BYTES / 2**20:g} MiB ({MAX_CHANNEL_FILE_BYTES:,} bytes), "
                         f"the most a channel file may hold")
    key = (os.path.abspath(name), st.st_size, st.st_mtime_ns)
    if key in _CHANNEL_CACHE:
        return _CHANNEL_CACHE[key]
    suffix = os.path.splitext(name)[1].lower()
    try:
        if suffix == ".npz":
            arrays = _npz_arrays(name)
        elif suffix == ".mat":
            arrays = _mat_arrays(name)
        else:
            raise ValueError(f"must be a .npz or a .mat file (got {suffix or 'no extension'})")
    except PermissionError:
        raise ValueError("permission denied") from None
    except OSError as e:
        raise ValueError(f"cannot read the file ({e.strerror or e})") from None
    for arr_name in ("f", "h"):
        shape = np.shape(arrays[arr_name])
        if len(shape) != 2:
            raise ValueError(f"{arr_name}: must have shape (K, N), one row per node (got {shape})")
    try:
        f, h, _ = check_channels(arrays["f"], arrays["h"])
    except LimitError as e:
        raise ValueError(str(e) + _column_hint(np.shape(arrays["f"]))) from None
    f.setflags(write=False)
    h.setflags(write=False)
    if len(_CHANNEL_CACHE) >= 4:
        _CHANNEL_CACHE.pop(next(iter(_CHANNEL_CACHE)))
    _CHANNEL_CACHE[key] = (f, h)
    return f, h
