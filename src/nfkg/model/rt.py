"""Ray-traced channels from Sionna RT (issue 19 item 3).

:func:`trace_channels` places nfkg's base-station array in a Sionna RT scene, traces
the paths to every user and Eve with one ray source per antenna element
(``synthetic_array=False``, so each element keeps its own spherical wavefront) and
returns the narrowband channels ``f`` (users) and ``h`` (Eves), shape ``(K, N)``, in
nfkg's convention: the same element order, geometry and scaling as
:func:`nfkg.model.channel.near_field_channel`, so that in free space (LoS only) the
traced channels equal nfkg's model (``tests/test_rt.py`` checks it to float32
precision).

Geometry (the array frame)
    The array lies in the x-z plane centred at the origin, broadside along +y:
    element ``(m, n)`` (row ``m < R``, column ``n < C``) sits at
    :math:`(\\delta_n d, 0, \\delta_m d)` with :math:`\\delta_n = (2n - C + 1)/2`,
    :math:`\\delta_m = (2m - R + 1)/2`, index ``m*C + n``; a ULA is ``R = 1``. A node at
    ``(r, psi, el)`` sits at :math:`(r\\cos el \\sin\\psi,\\, r\\cos el\\cos\\psi,\\, r\\sin el)`.
    In the scene this frame is rotated by ``yaw`` about the z axis (counter-clockwise
    seen from above) and translated to ``position``: ``yaw = 0`` keeps broadside along
    the scene's +y, ``yaw = -pi/2`` turns it to +x. The element offsets are computed
    here and handed to Sionna as a custom :class:`sionna.rt.AntennaArray` (not
    :class:`~sionna.rt.PlanarArray`, whose columns run along its y axis and whose first
    row is the top one), with isotropic, vertically polarised elements at both ends.

Scaling
    Sionna's free-space LoS coefficient of element ``n`` is
    :math:`\\frac{\\lambda}{4\\pi r^{(n)}} e^{-j 2\\pi r^{(n)}/\\lambda}`
    (passband amplitude, delay phase :math:`e^{-j2\\pi f\\tau}`); nfkg's
    (:math:`\\epsilon = 2`, :math:`d_0 = 1` m) is
    :math:`\\frac{\\lambda}{4\\pi r^{(n)}} e^{-j 2\\pi (r^{(n)} - r)/\\lambda}`, i.e. the
    phase is referred to the array centre. The common constant is therefore 1
    (measured within 1e-7 of 1) up to the per-node phase :math:`e^{-j2\\pi r/\\lambda}`,
    which :func:`trace_channels` removes (``r`` = distance from the array centre to
    the node): every path, LoS or not, is multiplied by :math:`e^{+j2\\pi r/\\lambda}`.

Precision
    Sionna traces in float32: the path lengths carry ~1e-7 relative error, so a free-space
    channel matches nfkg's model to a relative error of ~1e-3 at 30 GHz (measured max
    over elements: 1.2e-3 up to 13 m, 1.4e-3 at 20 m, 3.1e-3 at 50 m, 5.6e-3 at 100 m),
    far below the modelling error of any scene.

Installation
    ``pip install nfkg[rt]`` (``sionna-rt==2.2.0``: Mitsuba 3 and Dr.Jit, no
    TensorFlow, no CUDA). On CPU, Dr.Jit's LLVM backend needs LLVM >= 19 (LLVM 14/15
    abort with "Cannot select fmaximum"): on Debian ``apt-get install libllvm19``.
    Before importing Sionna, this module sets ``DRJIT_LIBLLVM_PATH`` to the first
    library of :data:`LLVM_CANDIDATES` that exists, when the variable is unset (it
    has no effect if Dr.Jit was already imported).

Contents
--------
trace_channels
    Users' and Eves' channels ``f, h`` of shape ``(K, N)`` traced in a scene.
save_channels, load_channels
    ``.npz`` files with arrays ``f`` and ``h`` (and metadata).
element_positions, node_positions
    The geometry above, in numpy.
import_sionna
    Lazy import of ``sionna.rt`` with the LLVM set-up and one clear error line.
BUILTIN_SCENES
    The scenes of Sionna RT accepted by name.

The command ``nfkg rt`` (:mod:`nfkg.cli.rt`) traces a scene into a channel file.
"""

from __future__ import annotations

import glob
import os
import re
import time
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

from .units import SPEED_OF_LIGHT

__all__ = [
    "RT_EXTRA",
    "LLVM_CANDIDATES",
    "BUILTIN_SCENES",
    "RTUnavailable",
    "llvm_library",
    "import_sionna",
    "element_positions",
    "node_positions",
    "trace_channels",
    "save_channels",
    "load_channels",
]

#: The pip command that installs the optional dependencies of this module.
RT_EXTRA = "pip install nfkg[rt]"

#: LLVM shared libraries tried, in order, for ``DRJIT_LIBLLVM_PATH`` (LLVM 19 first:
#: the version checked with sionna-rt 2.2.0; then any newer one found).
LLVM_CANDIDATES = (
    "/usr/lib/x86_64-linux-gnu/libLLVM.so.19.1",
    "/usr/lib/aarch64-linux-gnu/libLLVM.so.19.1",
    "/usr/lib/llvm-19/lib/libLLVM.so.1",
    "/usr/lib/llvm-19/lib/libLLVM-19.so",
    "/usr/lib/x86_64-linux-gnu/libLLVM-19.so.1",
    "/usr/lib/x86_64-linux-gnu/libLLVM-19.so",
)

#: Scenes that ship with Sionna RT 2.2, accepted by name (their attribute in ``sionna.rt.scene``).
BUILTIN_SCENES = ("simple_street_canyon", "simple_street_canyon_with_cars", "munich", "etoile", "florence",
                  "san_francisco", "floor_wall", "simple_reflector", "double_reflector", "triple_reflector",
                  "simple_wedge", "box", "box_knife", "box_one_screen", "box_two_screens", "sphere",
                  "low_poly_car")


class RTUnavailable(ImportError):
    """Sionna RT (the ``rt`` extra) or its LLVM backend is missing."""


def llvm_library() -> str | None:
    """The LLVM library for Dr.Jit: ``$DRJIT_LIBLLVM_PATH`` if set, else the first candidate found.

    Candidates: :data:`LLVM_CANDIDATES`, then ``libLLVM.so.<v>.*`` / ``libLLVM-<v>.so*`` of
    any version ``v >= 20`` in the usual library folders (newest first).
    """
    env = os.environ.get("DRJIT_LIBLLVM_PATH")
    if env:
        return env
    for path in LLVM_CANDIDATES:
        if os.path.exists(path):
            return path
    newer = []
    for pattern in ("/usr/lib/*-linux-gnu/libLLVM*.so*", "/usr/lib/llvm-*/lib/libLLVM*.so*"):
        for path in glob.glob(pattern):
            match = re.search(r"(?:/llvm-|libLLVM-|libLLVM\.so\.)(\d+)", path)
            if match and int(match.group(1)) >= 20:
                newer.append((int(match.group(1)), path))
    return max(newer)[1] if newer else None


def import_sionna():
    """Import and return ``sionna.rt`` (setting ``DRJIT_LIBLLVM_PATH`` first, see :func:`llvm_library`).

    Raises
    ------
    RTUnavailable
        One line: the missing package and ``pip install nfkg[rt]``, or the LLVM backend
        that Dr.Jit could not load and how to install it.
    """
    if not os.environ.get("DRJIT_LIBLLVM_PATH"):
        path = llvm_library()
        if path is not None:
            os.environ["DRJIT_LIBLLVM_PATH"] = path
    try:
        import sionna.rt as rt  # noqa: PLC0415 (optional dependency, imported lazily)
    except ModuleNotFoundError as exc:
        raise RTUnavailable(f"ray-traced channels need Sionna RT, which is not installed (no module "
                            f"{exc.name!r}): {RT_EXTRA}") from None
    except ImportError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RTUnavailable(f"Sionna RT could not start Dr.Jit's LLVM backend ({first}); install "
                            f"LLVM 19 (Debian: apt-get install libllvm19) or set DRJIT_LIBLLVM_PATH "
                            f"to libLLVM.so, then {RT_EXTRA}") from None
    return rt


# ---------------------------------------------------------------------- geometry
def _offsets(count: int) -> np.ndarray:
    k = np.arange(int(count), dtype=float)
    return (2.0 * k - count + 1.0) / 2.0


def element_positions(rows: int, cols: int, spacing: float) -> np.ndarray:
    """Element coordinates ``(R*C, 3)`` [m] in the array frame, element ``(m, n)`` at index ``m*C + n``.

    >>> element_positions(2, 3, 1.0)
    array([[-1. ,  0. , -0.5],
           [ 0. ,  0. , -0.5],
           [ 1. ,  0. , -0.5],
           [-1. ,  0. ,  0.5],
           [ 0. ,  0. ,  0.5],
           [ 1. ,  0. ,  0.5]])
    """
    rows, cols = int(rows), int(cols)
    pos = np.zeros((rows * cols, 3))
    pos[:, 0] = np.tile(_offsets(cols) * spacing, rows)
    pos[:, 2] = np.repeat(_offsets(rows) * spacing, cols)
    return pos


def node_positions(r: ArrayLike, psi: ArrayLike, el: ArrayLike = 0.0) -> np.ndarray:
    r"""Cartesian positions ``(..., 3)`` [m] of nodes at ``(r, psi, el)`` in the array frame.

    .. math:: (r\cos el\sin\psi,\; r\cos el\cos\psi,\; r\sin el)

    >>> node_positions(2.0, 0.0)
    array([0., 2., 0.])
    """
    r, psi, el = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (r, psi, el)))
    return np.stack([r * np.cos(el) * np.sin(psi), r * np.cos(el) * np.cos(psi), r * np.sin(el)],
                    axis=-1)


def _rotation_z(yaw: float) -> np.ndarray:
    c, s = np.cos(yaw), np.sin(yaw)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def _nodes(value: ArrayLike, name: str) -> np.ndarray:
    """``(K, 3)`` array of ``(r, psi, el)`` from ``(K, 2)`` or ``(K, 3)`` input (``el`` 0 if absent)."""
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] not in (2, 3) or arr.shape[0] < 1:
        raise ValueError(f"{name}: expected (r, psi) or (r, psi, el) rows, shape (K, 2) or (K, 3), "
                         f"got shape {np.shape(value)}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: every r, psi, el must be finite")
    if np.any(arr[:, 0] <= 0):
        raise ValueError(f"{name}: every distance r must be > 0 m")
    if arr.shape[1] == 2:
        arr = np.concatenate([arr, np.zeros((arr.shape[0], 1))], axis=1)
    return arr


def _resolve_scene(rt, scene):
    if scene is None:
        return rt.load_scene()
    if isinstance(scene, (str, os.PathLike)):
        name = os.fspath(scene)
        if name in BUILTIN_SCENES:
            name = getattr(rt.scene, name)
        return rt.load_scene(name)
    return scene


# ---------------------------------------------------------------------- tracing
def trace_channels(
    scene=None,
    *,
    users: ArrayLike,
    eves: ArrayLike,
    rows: int = 1,
    antennas: int = 256,
    frequency: float = 30e9,
    spacing: float | None = None,
    position: ArrayLike = (0.0, 0.0, 0.0),
    yaw: float = 0.0,
    max_depth: int = 2,
    samples_per_src: int = 100_000,
    max_num_paths_per_src: int = 100_000,
    los: bool = True,
    specular_reflection: bool = True,
    diffuse_reflection: bool = False,
    refraction: bool = True,
    diffraction: bool = False,
    seed: int = 42,
    bs_transmits: bool = False,
    info: dict | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Trace the channels of K users and K Eves to the BS array in a Sionna RT scene.

    Parameters
    ----------
    scene : sionna.rt.Scene, str or None
        A loaded scene, a scene file, the name of a Sionna built-in scene (e.g.
        ``"simple_street_canyon"``), or ``None`` for free space. The scene's
        ``frequency``, ``tx_array`` and ``rx_array`` are set; the radio devices added
        here are removed again.
    users, eves : array_like, shape ``(K, 2)`` or ``(K, 3)``
        ``(r [m], psi [rad], el [rad])`` of each node in the array frame (``el`` 0
        when absent); any number of each (nfkg pairs Eve k with user k).
    rows : int
        Array rows R (1: a ULA).
    antennas : int
        Total number of elements N = R*C (a multiple of ``rows``).
    frequency : float
        Carrier [Hz].
    spacing : float, optional
        Element spacing d [m] along rows and columns; half a wavelength by default.
    position : array_like, shape ``(3,)``
        Array centre in scene coordinates [m].
    yaw : float
        Rotation [rad] of the array frame about the scene's z axis.
    max_depth, samples_per_src, max_num_paths_per_src, los, specular_reflection, diffuse_reflection, refraction, diffraction, seed
        Passed to :class:`sionna.rt.PathSolver` (always with ``synthetic_array=False``).
    bs_transmits : bool
        Trace from the array's N elements to the nodes (``True``) or from the nodes to
        the array (``False``, default: 2K ray sources instead of N, same channels by
        reciprocity of the isotropic, co-polarised links).
    info : dict, optional
        Filled with ``seconds`` (tracing, excluding scene loading), ``paths`` (valid
        paths per node, ``(2K,)``) and ``wavelength``.

    Returns
    -------
    f, h : ndarray of complex128, shape ``(K_users, N)`` and ``(K_eves, N)``
        Users' and Eves' channels (nfkg's naming: ``f`` users, ``h`` Eves), element
        ``m*C + n`` as in :func:`element_positions`, float32 precision.
    """
    rt = import_sionna()
    import mitsuba as mi  # noqa: PLC0415 (imported by sionna.rt)

    users = _nodes(users, "users")
    eves = _nodes(eves, "eves")
    rows, antennas = int(rows), int(antennas)
    if rows < 1 or antennas < 1 or antennas % rows:
        raise ValueError(f"antennas ({antennas}) must be a positive multiple of rows ({rows})")
    if not np.isfinite(frequency) or frequency <= 0:
        raise ValueError(f"frequency must be > 0 Hz, got {frequency}")
    cols = antennas // rows
    wavelength = SPEED_OF_LIGHT / float(frequency)
    spacing = wavelength / 2.0 if spacing is None else float(spacing)
    centre = np.asarray(position, dtype=float).reshape(3)
    rot = _rotation_z(float(yaw))

    nodes = np.concatenate([users, eves])                          # (2K, 3): r, psi, el
    local = node_positions(nodes[:, 0], nodes[:, 1], nodes[:, 2])  # array frame
    offsets = element_positions(rows, cols, spacing)
    gap = np.linalg.norm(local[:, None, :] - offsets[None, :, :], axis=-1).min()
    if gap < 1e-3:
        raise ValueError(f"every node must be at least 1 mm from every element (closest: {gap:.3g} m)")
    world = centre + local @ rot.T
    elem = (offsets @ rot.T) / wavelength                          # normalised, scene axes

    scene = _resolve_scene(rt, scene)
    scene.frequency = float(frequency)
    pattern = rt.antenna_pattern.antenna_pattern_registry.get("iso")(polarization="V")
    bs_array = rt.AntennaArray(pattern, mi.Point3f(*(np.ascontiguousarray(elem[:, i], dtype=np.float32)
                                                     for i in range(3))))
    single = rt.PlanarArray(num_rows=1, num_cols=1, pattern="iso", polarization="V")
    bs_cls, node_cls = (rt.Transmitter, rt.Receiver) if bs_transmits else (rt.Receiver, rt.Transmitter)
    if bs_transmits:
        scene.tx_array, scene.rx_array = bs_array, single
    else:
        scene.tx_array, scene.rx_array = single, bs_array
    names = ["nfkg-bs"] + [f"nfkg-node-{k}" for k in range(len(nodes))]
    point = lambda p: mi.Point3f(float(p[0]), float(p[1]), float(p[2]))  # noqa: E731
    scene.remove(names)
    try:
        scene.add(bs_cls(names[0], position=point(centre)))
        for name, p in zip(names[1:], world):
            scene.add(node_cls(name, position=point(p)))
        start = time.perf_counter()
        paths = rt.PathSolver()(scene, max_depth=int(max_depth), samples_per_src=int(samples_per_src),
                                max_num_paths_per_src=int(max_num_paths_per_src),
                                synthetic_array=False, los=los,
                                specular_reflection=specular_reflection,
                                diffuse_reflection=diffuse_reflection, refraction=refraction,
                                diffraction=diffraction, seed=int(seed))
        a_re, a_im = paths.a
        a = a_re.numpy().astype(np.float64) + 1j * a_im.numpy().astype(np.float64)
        tau = paths.tau.numpy().astype(np.float64)
        valid = paths.valid.numpy().astype(bool)
        seconds = time.perf_counter() - start
    finally:
        scene.remove(names)
    # a, tau: [num_rx, num_rx_ant, num_tx, num_tx_ant, num_paths]; -> (2K, N, paths)
    if bs_transmits:
        a, tau, valid = (x[:, 0, 0, :, :] for x in (a, tau, valid))
    else:
        a, tau, valid = (x[0, :, :, 0, :].transpose(1, 0, 2) for x in (a, tau, valid))
    # baseband at the carrier, phase referred to the array centre (nfkg's convention)
    delay = tau - (nodes[:, 0] / SPEED_OF_LIGHT)[:, None, None]
    coef = np.where(valid, a * np.exp(-2j * np.pi * float(frequency) * delay), 0.0)
    chan = coef.sum(axis=-1)
    if info is not None:
        info.update(seconds=seconds, wavelength=wavelength,
                    paths=valid.any(axis=1).sum(axis=-1) if valid.size else np.zeros(len(nodes), int))
    return chan[: len(users)], chan[len(users):]


# ---------------------------------------------------------------------- files
def save_channels(path: str | os.PathLike, f: ArrayLike, h: ArrayLike, **meta) -> Path:
    """Write ``f`` (users) and ``h`` (Eves) and metadata to a compressed ``.npz`` file.

    Metadata values are stored as numpy arrays (numbers, strings, lists of them), read
    back without pickle. Returns the path written.

    >>> import tempfile, os
    >>> p = save_channels(os.path.join(tempfile.mkdtemp(), "c.npz"), [[1j]], [[2.0]], note="x")
    >>> f, h, meta = load_channels(p)
    >>> f, h.real, str(meta["note"])
    (array([[0.+1.j]]), array([[2.]]), 'x')
    """
    arrays = {k: np.asarray(v) for k, v in meta.items()}
    for k, v in arrays.items():
        if v.dtype == object:
            raise ValueError(f"metadata {k!r}: numbers or strings only, got {type(meta[k]).__name__}")
    path = Path(path)
    np.savez_compressed(path, f=np.asarray(f), h=np.asarray(h), **arrays)
    return path


def load_channels(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray, dict]:
    """Read a file of :func:`save_channels`: ``f``, ``h`` and the metadata as a dict."""
    with np.load(path, allow_pickle=False) as data:
        meta = {k: data[k] for k in data.files if k not in ("f", "h")}
        return data["f"], data["h"], meta
