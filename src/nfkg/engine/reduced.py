r"""Reduced coordinates: everything a scheme needs, in the span of the 2K channels.

Every precoder (C IV-V, J IV-VII) is built from the channels :math:`f_1..f_K` (users) and
:math:`h_1..h_K` (Eves), and every quantity the secrecy engine needs is a bilinear
form :math:`x_p^H R\, x_q` of those 2K vectors. So one thin QR per scenario,

.. math:: X = [f_1, \dots, f_K, h_1, \dots, h_K] = Q\,C, \qquad C \in \mathbb C^{2K\times 2K},

reduces the problem from N to at most 2K dimensions: :math:`x_p^H y = c_p^H c_y`
for any two vectors of the span. Null spaces, projections, beams, Gram forms and the
J(42) coefficients are then small-matrix operations on :math:`C`; no N x N matrix
and no second pass over N is needed (the isotropic shapes keep their
:math:`1/(N - r)` scale, which only needs the rank r).

The SVD shapes of user k come from one more QR, of the ``2K x 2K`` matrix
:math:`C` with its columns reordered as :math:`[\tilde R_k, f_k, h_k]` (J(13): the
other users and the other Eves first). Its trailing ``2 x 2`` block

.. math::
    \begin{bmatrix} t_{11} & t_{12} \\ 0 & t_{22} \end{bmatrix}

holds everything: :math:`P_\perp(\tilde R_k) f_k = t_{11} q_1`,
:math:`P_\perp(\tilde R_k) h_k = t_{12} q_1 + t_{22} q_2` with orthonormal
:math:`q_1, q_2`, and :math:`t_{22} q_2 = P_\perp(\tilde R_{ek}) h_k` (J(15): the
jamming null space also excludes :math:`f_k`). The Gram determinant of the signal
shape, :math:`s_2 s_5 - s_1 \propto |t_{11} t_{22}|^2`, comes out as a product,
never as a difference.

Contents
--------
ShapeView
    A unit-trace covariance shape per user, seen from the 2K channels (a factor).
channel_coordinates
    :math:`C` of the thin QR, batched and chunked.
svd_blocks
    The trailing blocks :math:`t_{11}, t_{12}, t_{22}` and the null-space ranks.
svd_views
    Signal and jamming :class:`ShapeView` of SVD precoding (J(13)-(16), C IV, and the matched/targeted shapes beyond the papers).
beam_view
    A beam :math:`u u^H` from the inner products of the channels with ``u``.
Geometry, geometry
    The channels, coordinates and SVD blocks of a scenario, computed once and cached.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "ShapeView",
    "channel_coordinates",
    "svd_blocks",
    "SvdBlocks",
    "svd_views",
    "beam_view",
    "rank_tolerance",
    "SHAPINGS",
    "JAMMINGS",
    "check_svd_options",
    "Geometry",
    "geometry",
]

#: Signal shapings of the SVD schemes (J: isotropic; C, and beyond the papers for K > 1: matched).
SHAPINGS: tuple[str, ...] = ("matched", "isotropic")
#: Jamming shapes of the SVD schemes (C, J: isotropic; beyond the papers: targeted).
JAMMINGS: tuple[str, ...] = ("isotropic", "targeted")


def check_svd_options(n_ant: int, n_users: int, shaping: str, jamming: str) -> None:
    """``ValueError`` naming the key for ``N < 2K - 1`` or an unknown shaping/jamming (J III-B)."""
    if n_ant < 2 * n_users - 1:
        raise ValueError(f"antennas: SVD precoding needs N >= 2K-1 = {2 * n_users - 1} for K = {n_users} "
                         f"users, got N = {n_ant}")
    if shaping not in SHAPINGS:
        raise ValueError(f"shaping: must be one of {', '.join(SHAPINGS)}, got {shaping!r}")
    if jamming not in JAMMINGS:
        raise ValueError(f"jamming: must be one of {', '.join(JAMMINGS)}, got {jamming!r}")


#: Default batch chunk of the N-dimensional QR (bounds its temporaries).
QR_CHUNK = 64


def rank_tolerance(n_ant: int, n_cols: int) -> float:
    """Relative rank tolerance ``max(N, m) * eps`` (numpy's ``matrix_rank`` convention)."""
    return max(int(n_ant), int(n_cols)) * np.finfo(float).eps


@dataclass(frozen=True)
class ShapeView:
    r"""A unit-trace covariance shape :math:`R_k` for every user k, as seen by the channels.

    ``view[..., k, p, :]`` is the row :math:`x_p^H R_k^{1/2} U_k` for the channels
    :math:`x = [f_1..f_K, h_1..h_K]` (``p`` in ``0..2K-1``) and some unitary
    :math:`U_k`, so that :math:`x_p^H R_k x_q = (V V^H)_{pq}`. Rows that a null space
    removes are exact zeros.

    Attributes
    ----------
    view : ndarray, complex, shape ``(..., K, 2K, r)``
    trace : ndarray, shape ``(..., K)``
        :math:`\mathrm{tr} R_k`: 1, or 0 where the subspace is empty (nothing can be
        radiated there).
    name : str
        ``'isotropic'``, ``'matched'``, ``'targeted'``, ``'beam'`` (for messages).
    """

    view: np.ndarray
    trace: np.ndarray
    name: str = "shape"

    @property
    def rank(self) -> int:
        """Number of columns r of the view."""
        return int(self.view.shape[-1])

    def gram(self) -> np.ndarray:
        r""":math:`x_p^H R_k x_q` for all channel pairs, shape ``(..., K, 2K, 2K)``."""
        return np.einsum("...pr,...qr->...pq", self.view, self.view.conj())


# --------------------------------------------------------------------------- coordinates
def channel_coordinates(f: np.ndarray, h: np.ndarray, chunk: int = QR_CHUNK) -> np.ndarray:
    r"""Coordinates :math:`C` of the 2K channels in an orthonormal basis of their span.

    :math:`[f_1..f_K, h_1..h_K] = Q C` (Householder QR, LAPACK ``geqrf`` through
    :func:`numpy.linalg.qr` with ``mode='r'``: Q is never formed). When N < 2K the
    ``N x 2K`` factor is padded with zero rows.

    Parameters
    ----------
    f, h : ndarray, shape ``(..., K, N)``
    chunk : int
        Scenarios per QR call (limits the transposed copy LAPACK needs).

    Returns
    -------
    ndarray, complex, shape ``(..., 2K, 2K)``
        Upper-triangular (trapezoidal when N < 2K) :math:`C`; column p holds
        channel p's coordinates, so :math:`x_p^H x_q = c_p^H c_q`.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> f, h = rng.standard_normal((2, 3, 40)) + 0j
    >>> c = channel_coordinates(f, h)
    >>> x = np.concatenate([f, h])
    >>> bool(np.allclose(c.conj().T @ c, x.conj() @ x.T))
    True
    """
    f, h = np.broadcast_arrays(f, h)
    n_users, n_ant = f.shape[-2], f.shape[-1]
    batch = f.shape[:-2]
    m = 2 * n_users
    rows = min(n_ant, m)
    out = np.zeros((*batch, m, m), dtype=complex)
    ff = f.reshape(-1, n_users, n_ant)
    hh = h.reshape(-1, n_users, n_ant)
    flat = out.reshape(-1, m, m)
    for lo in range(0, ff.shape[0], max(int(chunk), 1)):
        hi = min(lo + chunk, ff.shape[0])
        x = np.empty((hi - lo, n_ant, m), dtype=complex)
        x[..., :n_users] = np.swapaxes(ff[lo:hi], -1, -2)
        x[..., n_users:] = np.swapaxes(hh[lo:hi], -1, -2)
        flat[lo:hi, :rows, :] = np.linalg.qr(x, mode="r")
    return out


# --------------------------------------------------------------------------- SVD blocks
def _orders(n_users: int) -> np.ndarray:
    """Column orders ``[R~_k, f_k, h_k]`` of J(13), one row per user."""
    k_all = np.arange(n_users)
    rows = []
    for k in range(n_users):
        others = k_all[k_all != k]
        rows.append(np.concatenate([others, n_users + others, [k, n_users + k]]))
    return np.array(rows, dtype=int)


@dataclass(frozen=True)
class SvdBlocks:
    r"""The trailing blocks of the per-user reordered QR (see the module docstring).

    Attributes
    ----------
    t11, t12, t22 : ndarray, shape ``(..., K)``
        :math:`t_{11} = \|P_\perp(\tilde R_k) f_k\| \ge 0` (real), :math:`t_{12}`
        (complex), :math:`t_{22} = \|P_\perp(\tilde R_{ek}) h_k\| \ge 0` (real). A value
        below the rank tolerance is an exact 0 (the vector lies in the span).
    rank_k, rank_ek : ndarray of int, shape ``(..., K)``
        Numerical ranks of :math:`\tilde R_k` (2K-2 columns) and :math:`\tilde R_{ek}`
        (2K-1 columns).
    n_ant : int
    """

    t11: np.ndarray
    t12: np.ndarray
    t22: np.ndarray
    rank_k: np.ndarray
    rank_ek: np.ndarray
    n_ant: int

    @property
    def dim_k(self) -> np.ndarray:
        """Dimension :math:`N - r_k` of the signal null space, J(14)."""
        return self.n_ant - self.rank_k

    @property
    def dim_ek(self) -> np.ndarray:
        """Dimension :math:`N - r_{ek}` of the jamming null space, J(16)."""
        return self.n_ant - self.rank_ek


def svd_blocks(coords: np.ndarray, n_ant: int, rtol: float | None = None) -> SvdBlocks:
    r"""Trailing ``2 x 2`` blocks of the QR of :math:`C` reordered as :math:`[\tilde R_k, f_k, h_k]`.

    Parameters
    ----------
    coords : ndarray, shape ``(..., 2K, 2K)``
        :func:`channel_coordinates`.
    n_ant : int
        N (for the rank tolerance and the null-space dimensions).
    rtol : float, optional
        A diagonal entry of the reordered QR counts as zero when it is below
        ``rtol`` times the norm of its column (the channel it belongs to);
        default :func:`rank_tolerance`.

    Returns
    -------
    SvdBlocks
    """
    m = coords.shape[-1]
    n_users = m // 2
    if rtol is None:
        rtol = rank_tolerance(n_ant, m)
    order = _orders(n_users)                                    # (K, 2K)
    cols = coords[..., :, order]                                # (..., 2K, K, 2K)
    cols = np.moveaxis(cols, -2, -3)                            # (..., K, 2K rows, 2K cols)
    t = np.linalg.qr(cols, mode="r")                            # (..., K, 2K, 2K)
    col_norm = np.linalg.norm(cols, axis=-2)                    # (..., K, 2K)
    diag = np.abs(np.diagonal(t, axis1=-2, axis2=-1))           # (..., K, 2K)
    nonzero = diag > rtol * col_norm
    nonzero &= col_norm > 0
    rank_k = nonzero[..., : m - 2].sum(axis=-1)
    # LAPACK's diagonal is real but may be negative: fold its phase into q1 (and q2).
    d1 = t[..., m - 2, m - 2]
    d2 = t[..., m - 1, m - 1]
    a1 = np.abs(d1)
    phase1 = np.where(a1 > 0, np.conj(d1) / np.where(a1 > 0, a1, 1.0), 1.0)
    t11 = np.where(nonzero[..., m - 2], a1, 0.0)
    t12 = np.where(nonzero[..., m - 2], phase1 * t[..., m - 2, m - 1], 0.0)
    # f_k in the span of R~_k: h_k's residual is all of its last two coordinates.
    r22 = np.where(nonzero[..., m - 2], np.abs(d2), np.hypot(np.abs(t[..., m - 2, m - 1]), np.abs(d2)))
    t22 = np.where(r22 > rtol * col_norm[..., m - 1], r22, 0.0)
    rank_ek = rank_k + nonzero[..., m - 2]
    return SvdBlocks(t11, t12, t22, rank_k, rank_ek, int(n_ant))


def _scatter(n_users: int, batch: tuple[int, ...], r: int) -> np.ndarray:
    return np.zeros((*batch, n_users, 2 * n_users, r), dtype=complex)


def svd_views(blocks: SvdBlocks, shaping: str = "isotropic", jamming: str = "isotropic"
              ) -> tuple[ShapeView, ShapeView]:
    r"""Signal and jamming shapes of SVD precoding as :class:`ShapeView`, J(13)-(16), C IV and beyond.

    =============  ===================================================  ======================
    option         shape                                                rows (f_k; h_k)
    =============  ===================================================  ======================
    isotropic sig  :math:`P_\perp(\tilde R_k)/(N - r_k)`, J(14)          (t11, 0; t12*, t22)/sqrt(N-r_k)
    matched sig    :math:`vv^H`, :math:`v = P_\perp f_k/\|\cdot\|` (C)   (t11; t12*)
    isotropic jam  :math:`P_\perp(\tilde R_{ek})/(N - r_{ek})`, J(16)    (0; t22)/sqrt(N-r_ek)
    targeted jam   :math:`qq^H`, :math:`q = P_\perp h_k/\|\cdot\|`       (0; t22)
    =============  ===================================================  ======================

    All other rows (the other users' and Eves' channels) are exact zeros: the
    null-space conditions hold by construction.
    """
    t11, t12, t22 = blocks.t11, blocks.t12, blocks.t22
    n_users = t11.shape[-1]
    check_svd_options(blocks.n_ant, n_users, shaping, jamming)
    batch = t11.shape[:-1]
    k = np.arange(n_users)
    if shaping == "isotropic":
        dim = blocks.dim_k
        scale = np.where(dim > 0, 1.0 / np.sqrt(np.maximum(dim, 1)), 0.0)
        sig = _scatter(n_users, batch, 2)
        sig[..., k, k, 0] = t11 * scale
        sig[..., k, n_users + k, 0] = np.conj(t12) * scale
        sig[..., k, n_users + k, 1] = t22 * scale
        sig_trace = (dim > 0).astype(float)
    else:  # matched
        sig = _scatter(n_users, batch, 1)
        sig[..., k, k, 0] = t11
        sig[..., k, n_users + k, 0] = np.conj(t12)
        sig_trace = (t11 > 0).astype(float)
    jam = _scatter(n_users, batch, 1)
    if jamming == "isotropic":
        dim = blocks.dim_ek
        scale = np.where(dim > 0, 1.0 / np.sqrt(np.maximum(dim, 1)), 0.0)
        jam[..., k, n_users + k, 0] = t22 * scale
        jam_trace = (dim > 0).astype(float)
    else:  # targeted
        jam[..., k, n_users + k, 0] = t22
        jam_trace = (t22 > 0).astype(float)
    return ShapeView(sig, sig_trace, shaping), ShapeView(jam, jam_trace, jamming)


def beam_view(inner: np.ndarray, norm: np.ndarray) -> ShapeView:
    r"""A beam :math:`uu^H`, :math:`u = v/\|v\|`, from the inner products :math:`x_p^H v`.

    Parameters
    ----------
    inner : ndarray, shape ``(..., K, 2K)``
        :math:`x_p^H v_k` for every user's beam vector :math:`v_k` and channel p.
    norm : ndarray, shape ``(..., K)``
        :math:`\|v_k\|`; a zero norm gives the zero shape (trace 0).
    """
    ok = norm > 0
    scale = np.where(ok, 1.0 / np.where(ok, norm, 1.0), 0.0)
    return ShapeView((inner * scale[..., None])[..., None], ok.astype(float), "beam")


# --------------------------------------------------------------------------- per-scenario cache
def _collapse(arrays: list[np.ndarray]) -> tuple[list[np.ndarray], tuple[int, ...]]:
    """Index 0 (keeping the axis) along every batch axis on which no array varies.

    Arrays made by :func:`numpy.broadcast_to` have stride 0 along the broadcast axes;
    those axes (and axes of length 1) carry no new geometry, so the channels and their
    QR are computed once and broadcast (e.g. along a power sweep).
    """
    arrays = [np.asarray(a) for a in arrays]
    shape = np.broadcast_shapes(*(a.shape for a in arrays))
    arrays = [np.broadcast_to(a, shape) for a in arrays]
    index = []
    for ax in range(len(shape) - 1):  # the last axis is the user axis
        same = all(a.shape[ax] == 1 or a.strides[ax] == 0 for a in arrays)
        index.append(slice(0, 1) if same else slice(None))
    index.append(slice(None))
    out = [a[tuple(index)] for a in arrays]
    return out, out[0].shape[:-1]


@dataclass(frozen=True, eq=False)
class Geometry:
    """The channels of a scenario and their reduced coordinates, computed once.

    Attributes
    ----------
    f, h : ndarray, shape ``(..., K, N)``
        Channels on the *node* batch shape: axes on which no node moves have length 1.
    coords : ndarray, shape ``(..., 2K, 2K)``
        :func:`channel_coordinates` of ``f, h``.
    n_ant : int
    """

    f: np.ndarray
    h: np.ndarray
    coords: np.ndarray
    n_ant: int
    _blocks: dict = None  # type: ignore[assignment]

    def blocks(self, rtol: float | None = None) -> SvdBlocks:
        """:func:`svd_blocks` of the coordinates (cached per ``rtol``)."""
        if self._blocks is None:
            object.__setattr__(self, "_blocks", {})
        if rtol not in self._blocks:
            self._blocks[rtol] = svd_blocks(self.coords, self.n_ant, rtol)
        return self._blocks[rtol]


def geometry(scenario) -> Geometry:
    """The :class:`Geometry` of a :class:`~nfkg.model.scenario.Scenario` (cached on it)."""
    cache = scenario._cache
    if "geometry" not in cache:
        f, h = scenario.node_channels()  # the model's channels or the scenario's own, on the node batch shape
        cache["geometry"] = Geometry(f, h, channel_coordinates(f, h), int(f.shape[-1]))
    return cache["geometry"]
