r"""SVD w/ DLPA (J V): KGSVD-Net's inputs, feature scaling and model files.

The network maps a scenario's :math:`P_{\max}` and J(42)'s coefficients
:math:`s_{1..5,k}` to the power split :math:`\{P_{S,k}, P_{N,k}\}` (J(43)-(44): the total is
:math:`P_{\max}`). This module is the NumPy side; the torch network and its training
loop are in :mod:`nfkg.schemes.network`, imported only when a model is loaded.

Feature scaling (the paper leaves it to the implementer)
--------------------------------------------------------
The coefficients span more than ten decades (``s5`` ~ 1e-9 W^-1 ... at 5 m, ``s2 s5 - s1``
down to 1e-12 of ``s2 s5`` for an Eve 1 cm from her user). J(41) is invariant to a common
scaling of powers and noises, so nfkg writes each scenario as a *dimensionless instance*
(:func:`instance`), exactly equivalent to ``(P_max, s_1..5)`` for given noise:

====================  =======================================================  ==================
name                  definition                                               feature
====================  =======================================================  ==================
``g5``                :math:`P_{\max}s_5/\hat\sigma_b^2` (user's gain)         dB, [-60, 200]
``g2``                :math:`P_{\max}s_2/\hat\sigma_e^2` (Eve's, signal)       dB, [-60, 200]
``g4``                :math:`P_{\max}s_4/\hat\sigma_e^2` (Eve's, jamming)      dB, [-60, 200]
``u``                 :math:`(s_2s_5 - s_1)/(s_2s_5)` (1 - Eve's correlation)  dB, [-200, 0]
``s3n``               :math:`s_3/(s_4s_5)` (0 for every SVD design)            linear, [-10, 10]
``t_s``, ``t_n``      traces of the two shapes (0 for an empty subspace)       0 or 1
``c``                 :math:`\kappa P_{\max}/\hat\sigma_b^2` (BS noise at      dB, [-100, 100]
                      full power over the user's noise)
====================  =======================================================  ==================

The features are these in dB (clipped to the ranges above, so an empty subspace or an
exact zero gives a finite floor), then standardised by the training set's mean and
standard deviation (stored in the model's JSON). :math:`P_{\max}` enters every gain and
``c``: the paper's input, without units. The loss (:mod:`nfkg.schemes.network`) uses the
instance itself in float64, not the clipped features.

Model files
-----------
A model is plain files in one directory: ``kgsvd-net.pt`` (a PyTorch ``state_dict``,
loaded with ``weights_only=True``), ``kgsvd-net.json`` (format, K, shaping, jamming,
hidden widths, feature names and scaling, training ranges, seed, epochs, versions, and
the SHA-256 of the weights file) and ``kgsvd-net.npz``, the same weights as NumPy arrays
with the SHA-256 of the ``.pt`` they were copied from. :func:`load_model` checks all of it
and fails with one line naming the file. Models for K = 2, 4 and 6 ship in
``nfkg/schemes/models`` (re-created by ``nfkg train --users K --seed 0``, see
:mod:`nfkg.schemes.training`).

Inference runs in NumPy (:func:`forward`), so evaluating svd-dlpa needs no torch: the
weights come from the ``.npz`` copy. Only a model without it (one trained by an older
nfkg) is read from its ``.pt`` with torch, the ``train`` extra. :func:`forward` computes
the network of :class:`nfkg.schemes.network.KGSVDNet` in float64 (the weights are float32
numbers, taken exactly); it equals torch's forward pass in float64 to round-off, and
torch's float32 pass (what nfkg ran before) to its float32 rounding, about 3e-6 in the
fractions and 1e-8 relative in the sum SKR (both tested).

Contents
--------
instance
    The dimensionless instance of J(41)-(42) from the coefficients and the noise.
features
    The network's input features (dB, clipped) before standardisation.
KGSVDModel
    A loaded network with its metadata; :meth:`KGSVDModel.allocate` gives the powers.
forward
    The network's forward pass in NumPy: standardised features -> power fractions.
load_model, save_model, export_npz, shipped_model, shipped_users
    Model files.
"""

from __future__ import annotations

import hashlib
import json
import platform
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["FORMAT", "FEATURES", "ModelError", "instance", "features", "KGSVDModel", "forward", "load_model",
           "save_model", "export_npz", "shipped_model", "shipped_users", "WEIGHTS", "WEIGHTS_NPZ", "METADATA",
           "LAYERS"]

#: Identifies the model-file format (checked on load).
FORMAT = "nfkg-kgsvd-net/1"
WEIGHTS = "kgsvd-net.pt"
#: The NumPy copy of the weights (read without torch).
WEIGHTS_NPZ = "kgsvd-net.npz"
METADATA = "kgsvd-net.json"
#: The arrays of the network, by their names in the torch ``state_dict``: two hidden layers and the head.
LAYERS = ("body.0.weight", "body.0.bias", "body.2.weight", "body.2.bias", "head.weight", "head.bias")
_SOURCE_KEY = "source_sha256"

from .dlpa_features import FEATURES, GLOBAL_FEATURES, _CLIP, _db, feature_names, features, instance  # noqa: E402,F401


class ModelError(ValueError):
    """A KGSVD-Net model file is missing, corrupt or does not fit the scenario (one line)."""


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def forward(weights: dict[str, np.ndarray], x: ArrayLike, batch: int = 16384) -> np.ndarray:
    r"""KGSVD-Net's forward pass in NumPy (J V, Fig. 3): standardised features -> fractions.

    Two fully connected hidden layers with ReLU, then :math:`2K` outputs :math:`p'`, made
    positive by :math:`\exp` and normalised by J(43)-(44): a softmax. The same function as
    :meth:`nfkg.schemes.network.KGSVDNet.forward`, computed in float64.

    Parameters
    ----------
    weights : dict of ndarray
        The arrays of :data:`LAYERS` (a ``state_dict`` as NumPy arrays).
    x : array_like ``(..., F)``
        Standardised features (:meth:`KGSVDModel.standardise`).
    batch : int
        Rows per matrix product (bounds the memory: ``batch x 128`` floats per layer).

    Notes
    -----
    The products run on one BLAS thread (threadpoolctl), as the torch network did (see
    :func:`nfkg.schemes.network.torch_threads`): the layers are small, and OpenBLAS's
    threads spin-wait when the other core is busy (``pytest -n 2``, ``reproduce --jobs``):
    256 rows at K = 2 took 18.7 ms on two threads beside a busy core, 0.5 ms on one.

    Returns
    -------
    ndarray ``(..., 2K)`` (float64)
        Fractions :math:`P/P_{\max}`: positive, summing to 1.

    Examples
    --------
    >>> w = {"body.0.weight": np.ones((2, 3)), "body.0.bias": np.zeros(2), "body.2.weight": np.eye(2),
    ...      "body.2.bias": np.zeros(2), "head.weight": np.zeros((2, 2)), "head.bias": np.array([0.0, np.log(3)])}
    >>> forward(w, np.ones(3))
    array([0.25, 0.75])
    """
    w0, b0, w1, b1, wh, bh = (np.asarray(weights[name], dtype=np.float64) for name in LAYERS)
    x = np.asarray(x, dtype=np.float64)
    lead = x.shape[:-1]
    x2 = x.reshape(-1, x.shape[-1])
    out = np.empty((x2.shape[0], bh.shape[0]))
    with _blas().limit(limits=1, user_api="blas"):
        for i in range(0, x2.shape[0], batch):
            h = np.maximum(x2[i:i + batch] @ w0.T + b0, 0.0)
            h = np.maximum(h @ w1.T + b1, 0.0)
            z = h @ wh.T + bh
            z -= z.max(axis=-1, keepdims=True)  # softmax is shift-invariant: no overflow
            e = np.exp(z)
            out[i:i + batch] = e / e.sum(axis=-1, keepdims=True)
    return out.reshape(*lead, bh.shape[0])


@lru_cache(maxsize=1)
def _blas():
    """The BLAS libraries loaded with NumPy (threadpoolctl; found once, about 10 ms)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _state_to_numpy(state: Any) -> dict[str, np.ndarray]:
    """A torch ``state_dict`` as float64 NumPy arrays (float32 values, taken exactly)."""
    return {name: tensor.detach().cpu().double().numpy() for name, tensor in state.items()}


@dataclass
class KGSVDModel:
    """A trained KGSVD-Net and its metadata (the JSON of the model file).

    Attributes
    ----------
    net : torch.nn.Module or None
        :class:`nfkg.schemes.network.KGSVDNet` in eval mode when the model was trained here or
        read from its ``.pt`` with torch; None when read from its NumPy copy (no torch needed).
    meta : dict
        The metadata (``n_users``, ``shaping``, ``jamming``, ``mean``, ``std``, ...).
    path : Path or None
        The directory it was loaded from.
    weights : dict of ndarray, optional
        The arrays of :data:`LAYERS` (float64); taken from ``net`` when not given.
    """

    net: Any
    meta: dict[str, Any]
    path: Path | None = None
    weights: dict[str, np.ndarray] | None = None
    _mean: np.ndarray = field(init=False, repr=False)
    _std: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._mean = np.asarray(self.meta["mean"], float)
        self._std = np.asarray(self.meta["std"], float)
        if self.weights is None:
            if self.net is None:
                raise ValueError("KGSVDModel: give the torch network (net) or its weights")
            self.weights = _state_to_numpy(self.net.state_dict())

    @property
    def n_users(self) -> int:
        return int(self.meta["n_users"])

    def standardise(self, x: np.ndarray) -> np.ndarray:
        """Features -> the network's input (training mean and standard deviation)."""
        return (x - self._mean) / self._std

    def fractions(self, inst: dict[str, np.ndarray], batch: int = 16384) -> np.ndarray:
        """Power fractions ``(..., 2K)`` (float64, summing to 1) for dimensionless instances (NumPy)."""
        out = forward(self.weights, self.standardise(features(inst)), batch)
        out /= out.sum(-1, keepdims=True)  # J(43)-(44) again: the total is exactly P_max
        return out

    def allocate(self, inst: dict[str, np.ndarray], p_max: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        r""":math:`P_{S,k}, P_{N,k}` [W], each ``(..., K)``, summing to :math:`P_{\max}`: J(43)-(44)."""
        k = inst["g5"].shape[-1]
        if k != self.n_users:
            where = f" ({self.path})" if self.path else ""
            raise ModelError(f"KGSVD-Net model{where} is trained for K = {self.n_users} users, "
                             f"the scenario has K = {k}")
        frac = self.fractions(inst)
        pm = np.asarray(p_max, float)[..., None]
        return frac[..., :k] * pm, frac[..., k:] * pm


def _torch(what: str):
    from .._extras import load

    return load("torch", "train", what)


def _versions() -> dict[str, str]:
    torch = _torch("saving a KGSVD-Net model")

    from .. import __version__

    return {"nfkg": __version__, "torch": torch.__version__, "numpy": np.__version__,
            "python": platform.python_version()}


def export_npz(weights: dict[str, np.ndarray], source: str | Path, path: str | Path | None = None) -> Path:
    """Write the NumPy copy ``kgsvd-net.npz`` of the weights file ``source`` (beside it by default).

    The arrays of :data:`LAYERS` are stored as float32 (the values of the ``.pt``, exactly)
    with the SHA-256 of ``source``, so that :func:`load_model` uses the copy only with the
    ``.pt`` it was made from.
    """
    source = Path(source)
    path = source.with_name(WEIGHTS_NPZ) if path is None else Path(path)
    arrays = {name: np.asarray(weights[name], dtype=np.float32) for name in LAYERS}
    if any(not np.array_equal(arrays[n], np.asarray(weights[n])) for n in LAYERS):
        raise ValueError("weights: not float32 values (a KGSVD-Net's weights are float32)")
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        np.savez(fh, **arrays, **{_SOURCE_KEY: np.array(_sha256(source))})
    tmp.replace(path)
    return path


def save_model(model: KGSVDModel, directory: str | Path) -> Path:
    """Write ``kgsvd-net.pt`` (state_dict), its NumPy copy ``kgsvd-net.npz`` and ``kgsvd-net.json``."""
    if model.net is None:
        raise ValueError("save_model: this model has no torch network (it was read from its NumPy copy); "
                         "copy its directory instead")
    torch = _torch("saving a KGSVD-Net model")

    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    weights = d / WEIGHTS
    torch.save(model.net.state_dict(), weights)
    model.weights = _state_to_numpy(model.net.state_dict())
    export_npz(model.weights, weights)
    meta = dict(model.meta)
    meta.update(format=FORMAT, weights=WEIGHTS, weights_sha256=_sha256(weights), versions=_versions())
    (d / METADATA).write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")
    model.meta, model.path = meta, d
    return d


_REQUIRED = ("format", "n_users", "shaping", "jamming", "hidden", "n_features", "mean", "std",
             "weights", "weights_sha256")


def _shapes(n_in: int, k: int, hidden: list[int]) -> dict[str, tuple[int, ...]]:
    h1, h2 = hidden
    return dict(zip(LAYERS, ((h1, n_in), (h1,), (h2, h1), (h2,), (2 * k, h2), (2 * k,))))


def _read_npz(path: Path, source_sha: str, shapes: dict[str, tuple[int, ...]]) -> dict[str, np.ndarray] | None:
    """The weights of the NumPy copy at ``path``; None when it was made from another ``.pt``."""
    try:
        with np.load(path, allow_pickle=False) as z:
            if str(z[_SOURCE_KEY]) != source_sha:
                return None  # a stale copy: the .pt (checked against the JSON) is the reference
            weights = {name: np.asarray(z[name], dtype=np.float64) for name in LAYERS}
    except Exception as exc:  # noqa: BLE001 - any unreadable or incomplete file is a bad file
        raise ModelError(f"KGSVD-Net model: {path} is not a readable NumPy copy of the weights "
                         f"({exc.__class__.__name__})") from None
    bad = [name for name in LAYERS if weights[name].shape != shapes[name]]
    if bad:
        raise ModelError(f"KGSVD-Net model: {path}: {bad[0]}: has shape {weights[bad[0]].shape}, the JSON's sizes "
                         f"give {shapes[bad[0]]}")
    return weights


def _read_pt(path: Path, n_in: int, k: int, hidden: list[int]) -> tuple[Any, dict[str, np.ndarray]]:
    """The torch network and its weights from the ``.pt`` (needs torch: the ``train`` extra)."""
    torch = _torch(f"KGSVD-Net model: reading {path} (a PyTorch file, without its NumPy copy {WEIGHTS_NPZ})")

    from .network import KGSVDNet

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        net = KGSVDNet(n_in, k, hidden)
        net.load_state_dict(state, strict=True)
    except Exception as exc:  # noqa: BLE001 - any unpickling/shape error is a bad file
        raise ModelError(f"KGSVD-Net model: {path} cannot be loaded as a K = {k} network "
                         f"({exc.__class__.__name__})") from None
    net.eval()
    return net, _state_to_numpy(state)


def _load(directory: Path) -> KGSVDModel:
    d = directory
    meta_path = d / METADATA if d.is_dir() else d
    if d.is_file() and d.suffix in (".pt", ".npz"):
        meta_path = d.with_name(METADATA)
    if not meta_path.exists():
        raise ModelError(f"KGSVD-Net model: no {METADATA} at {meta_path.parent if d.is_dir() else meta_path}")
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"KGSVD-Net model: {meta_path} is not a readable JSON file ({exc.__class__.__name__})") from None
    if not isinstance(meta, dict):
        raise ModelError(f"KGSVD-Net model: {meta_path} does not hold a JSON object")
    missing = [k for k in _REQUIRED if k not in meta]
    if missing:
        raise ModelError(f"KGSVD-Net model: {meta_path} lacks the key(s) {', '.join(missing)}")
    if meta["format"] != FORMAT:
        raise ModelError(f"KGSVD-Net model: {meta_path} has format {meta['format']!r}, expected {FORMAT!r}")
    try:
        k = int(meta["n_users"])
        n_in = int(meta["n_features"])
        hidden = [int(h) for h in meta["hidden"]]
        mean = np.asarray(meta["mean"], float)
        std = np.asarray(meta["std"], float)
    except (TypeError, ValueError):
        raise ModelError(f"KGSVD-Net model: {meta_path} has malformed n_users/hidden/mean/std") from None
    if k < 1 or n_in != 7 * k + 1 or mean.shape != (n_in,) or std.shape != (n_in,) or len(hidden) != 2 \
            or min(hidden) < 1:
        raise ModelError(f"KGSVD-Net model: {meta_path} has inconsistent sizes (K = {k}, {n_in} features, "
                         f"hidden {hidden})")
    for key, values in (("mean", mean), ("std", std)):
        bad = ~np.isfinite(values) if key == "mean" else ~(np.isfinite(values) & (values > 0))
        if bad.any():
            i = int(np.argmax(bad))
            need = "finite numbers" if key == "mean" else "finite numbers > 0"
            raise ModelError(f"KGSVD-Net model: {meta_path}: {key}[{i}]: must hold {need} "
                             f"(got {float(values[i])!r})")
    weights_path = meta_path.parent / str(meta["weights"])
    if not weights_path.exists():
        raise ModelError(f"KGSVD-Net model: weights file {weights_path} is missing")
    if _sha256(weights_path) != meta["weights_sha256"]:
        raise ModelError(f"KGSVD-Net model: {weights_path} does not match the SHA-256 in {meta_path.name} "
                         "(corrupt or replaced)")
    npz = meta_path.parent / WEIGHTS_NPZ
    weights = _read_npz(npz, meta["weights_sha256"], _shapes(n_in, k, hidden)) if npz.exists() else None
    net = None
    if weights is None:
        net, weights = _read_pt(weights_path, n_in, k, hidden)
    for name in LAYERS:
        if not np.all(np.isfinite(weights[name])):
            raise ModelError(f"KGSVD-Net model: {weights_path}: {name}: holds a NaN or infinite weight")
    return KGSVDModel(net, meta, meta_path.parent, weights)


@lru_cache(maxsize=16)
def _load_cached(path: str, mtime: float) -> KGSVDModel:
    return _load(Path(path))


def load_model(path: str | Path) -> KGSVDModel:
    """Load and check a model directory (or its ``.json``/``.pt``/``.npz``).

    The weights come from the NumPy copy ``kgsvd-net.npz`` when it was made from the
    ``.pt`` the JSON names (no torch needed), else from the ``.pt`` with torch. Loaded
    models are cached by path and modification time.

    Raises
    ------
    ModelError
        One line naming the file that is missing, corrupt or inconsistent.
    nfkg._extras.MissingExtra
        The model has no NumPy copy and torch (the ``train`` extra) is not installed.
    """
    p = Path(path).expanduser()
    if not p.exists():
        raise ModelError(f"KGSVD-Net model: {p} does not exist")
    meta = p / METADATA if p.is_dir() else p
    mtime = meta.stat().st_mtime if meta.exists() else 0.0
    return _load_cached(str(p.resolve()), mtime)


def _models_dir() -> Path:
    return Path(__file__).resolve().parent / "models"


def shipped_users() -> list[int]:
    """The K for which a trained model ships inside the package."""
    d = _models_dir()
    return sorted(int(p.name[1:]) for p in d.glob("k*") if (p / METADATA).exists()) if d.exists() else []


def shipped_model(n_users: int) -> KGSVDModel:
    """The model shipped for K users; a clear :class:`ModelError` when there is none."""
    d = _models_dir() / f"k{int(n_users)}"
    if not (d / METADATA).exists():
        have = ", ".join(str(k) for k in shipped_users()) or "none"
        raise ModelError(f"svd-dlpa: no KGSVD-Net model ships for K = {n_users} users (shipped: K = {have}); "
                         f"train one with `nfkg train --users {n_users} --out DIR` and pass it with "
                         "--model DIR (Python: model=DIR)")
    return load_model(d)


def scenario_instance(scenario, shaping: str = "isotropic", jamming: str = "isotropic", rtol: float | None = None):
    """The SVD views, J(42) coefficients and dimensionless instance of a scenario.

    Returns
    -------
    (signal, jamming) views, coefficients dict ``(..., K)``, instance dict.
    """
    from .optimize import view_coefficients
    from ..engine.reduced import geometry, svd_views

    sig, jam = svd_views(geometry(scenario).blocks(rtol), shaping, jamming)
    shape = (*scenario.batch_shape, scenario.n_users)
    s = {key: v if v.shape == shape else np.broadcast_to(v, shape)
         for key, v in view_coefficients(sig, jam).items()}
    kappa = scenario.sigma2_a / (scenario.pilot_length * scenario.p_b)
    inst = instance(s, sig.trace, jam.trace, np.broadcast_to(scenario.p_max, scenario.batch_shape), kappa,
                    scenario.sigma2_b / scenario.pilot_length, scenario.sigma2_e / scenario.pilot_length)
    return (sig, jam), s, inst
