r"""Low-rank subspaces and unit-trace covariance shapes, without N x N matrices.

Every precoder covariance in nfkg is a weighted sum of *shapes* ``R`` with
``tr R = 1``, each of one of two kinds (C IV, J III-B):

* **span**: :math:`R = Q Q^H / r`, the isotropic covariance on the span of the
  ``r`` orthonormal columns of ``Q`` (``r = 1`` gives a beam ``u u^H``);
* **complement**: :math:`R = (I - Q Q^H)/(N - r)`, the isotropic covariance on the
  null space of ``Q^H``, J(14), J(16).

Both are stored as the ``N x m`` basis ``Q`` only. Quadratic forms use
``x - Q (Q^H x)``; no projector is ever formed.

Contents
--------
orthonormal_basis
    Orthonormal basis of a column span by thin SVD with a rank tolerance.
project_out
    ``x - Q (Q^H x)``.
Shape
    A unit-trace covariance shape (span or complement), batched.
PrecoderCovariance
    Per-user :math:`W_k = \sum_j P_{j,k} R_{j,k}` of N-space shapes (sampling precoders).
ReducedPrecoders
    The same covariances in reduced coordinates (:meth:`PrecoderCovariance.reduce`): a
    D-dimensional part on the span of the shapes' bases (and any given vectors) and an
    isotropic part on its complement, for the exact reduced simulation of
    :mod:`nfkg.protocol.probing`.
svd_shapes
    J(13)-(16) in N-space by thin SVDs: the independent counterpart of
    :func:`nfkg.engine.reduced.svd_views`, used to sample SVD precoders and in the tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .reduced import check_svd_options

__all__ = ["orthonormal_basis", "project_out", "Shape", "PrecoderCovariance", "ReducedPrecoders", "svd_shapes"]


def orthonormal_basis(a: np.ndarray, rtol: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    r"""Orthonormal basis of the column span of ``a`` with a rank tolerance.

    Thin SVD ``a = U S V^H``; singular values below ``rtol * s_max`` are treated
    as zero and the matching columns of ``U`` are zeroed, so that a batch of
    matrices of different ranks keeps one array shape.

    Parameters
    ----------
    a : ndarray, shape ``(..., N, m)``
        Column vectors (e.g. the channels of J(13) or J(15)).
    rtol : float, optional
        Relative singular-value tolerance. Default ``max(N, m) * eps``, the
        convention of :func:`numpy.linalg.matrix_rank` and
        :func:`scipy.linalg.null_space`.

    Returns
    -------
    basis : ndarray, shape ``(..., N, m)``
        Orthonormal columns; columns beyond the numerical rank are zero.
    rank : ndarray of int, shape ``(...)``

    Examples
    --------
    >>> a = np.array([[1.0, 2.0], [0.0, 0.0], [0.0, 0.0]])
    >>> q, r = orthonormal_basis(a)
    >>> int(r), np.round(np.abs(q[:, 0]), 6).tolist()
    (1, [1.0, 0.0, 0.0])
    """
    a = np.asarray(a)
    n, m = a.shape[-2], a.shape[-1]
    if m == 0:
        return np.zeros(a.shape, dtype=complex), np.zeros(a.shape[:-2], dtype=int)
    u, s, _ = np.linalg.svd(a, full_matrices=False)
    if rtol is None:
        rtol = max(n, m) * np.finfo(float).eps
    s_max = s[..., :1]
    keep = s > rtol * s_max
    keep &= s_max > 0
    return u * keep[..., None, :], keep.sum(axis=-1)


def project_out(x: np.ndarray, q: np.ndarray) -> np.ndarray:
    r"""Component of ``x`` orthogonal to the columns of ``q``: :math:`x - Q(Q^H x)`.

    Parameters
    ----------
    x : ndarray, shape ``(..., N)``
    q : ndarray, shape ``(..., N, m)``, orthonormal (or zero) columns
    """
    coef = np.einsum("...nm,...n->...m", q.conj(), x)
    return x - np.einsum("...nm,...m->...n", q, coef)


@dataclass(frozen=True)
class Shape:
    r"""A unit-trace covariance shape, batched over leading axes.

    Attributes
    ----------
    basis : ndarray, shape ``(..., N, m)``
        Orthonormal (or zero) columns Q.
    rank : ndarray of int, shape ``(...)``
        Number of non-zero columns r.
    complement : bool
        ``False``: :math:`R = QQ^H/r` (zero if ``r = 0``).
        ``True``: :math:`R = (I - QQ^H)/(N - r)`.
    """

    basis: np.ndarray
    rank: np.ndarray
    complement: bool

    @classmethod
    def beam(cls, v: np.ndarray) -> "Shape":
        """Rank-one shape :math:`uu^H`, ``u = v/||v||`` (zero where ``v = 0``).

        Parameters
        ----------
        v : ndarray, shape ``(..., N)``
        """
        norm = np.linalg.norm(v, axis=-1, keepdims=True)
        ok = norm > 0
        u = np.where(ok, v / np.where(ok, norm, 1.0), 0.0)
        return cls(u[..., None], ok[..., 0].astype(int), complement=False)

    @classmethod
    def null_space_of(cls, vectors: np.ndarray, rtol: float | None = None) -> "Shape":
        """Isotropic shape on the null space of ``vectors`` ``(..., N, m)``, J(14)/J(16)."""
        q, r = orthonormal_basis(vectors, rtol)
        return cls(q, r, complement=True)

    @property
    def n_ant(self) -> int:
        return self.basis.shape[-2]

    @property
    def dim(self) -> np.ndarray:
        """Dimension of the subspace the shape spreads power over."""
        return self.n_ant - self.rank if self.complement else self.rank

    @property
    def trace(self) -> np.ndarray:
        """``tr R``: 1, or 0 for an empty subspace."""
        return (self.dim > 0).astype(float)

    def _scale(self) -> np.ndarray:
        d = self.dim
        return np.where(d > 0, 1.0 / np.maximum(d, 1), 0.0)

    def gram(self, x: np.ndarray) -> np.ndarray:
        r"""All bilinear forms :math:`X^H R X`.

        Parameters
        ----------
        x : ndarray, shape ``(..., N, M)``
            Columns :math:`x_p`; broadcast against the batch shape of the shape.

        Returns
        -------
        ndarray, shape ``(..., M, M)``
            Entry ``[p, q]`` is :math:`x_p^H R x_q`.
        """
        proj = np.einsum("...nm,...np->...mp", self.basis.conj(), x)
        low = np.einsum("...mp,...mq->...pq", proj.conj(), proj)
        if self.complement:
            full = np.einsum("...np,...nq->...pq", x.conj(), x)
            low = full - low
        return low * self._scale()[..., None, None]

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        r"""Draw ``size`` vectors :math:`w \sim \mathcal{CN}(0, R)`.

        Returns
        -------
        ndarray, shape ``(size, ..., N)``
        """
        batch = self.basis.shape[:-2]
        n, m = self.basis.shape[-2:]
        scale = np.sqrt(self._scale())[..., None]
        if self.complement:
            z = _crandn(rng, (size, *batch, n))
            return project_out(z, self.basis) * scale
        z = _crandn(rng, (size, *batch, m))
        return np.einsum("...nm,...m->...n", self.basis, z) * scale


@dataclass(frozen=True)
class PrecoderCovariance:
    r"""Per-user precoder covariances :math:`W_k = \sum_j P_{j,k} R_{j,k}`.

    Attributes
    ----------
    shapes : tuple of Shape
        The unit-trace shapes :math:`R_j`, each batched ``(..., K)``.
    powers : ndarray, shape ``(..., K, J)``
        Power on each shape [W].
    """

    shapes: tuple[Shape, ...]
    powers: np.ndarray

    @property
    def trace(self) -> np.ndarray:
        r""":math:`\mathrm{tr}\,W_k = P_{a,k}` actually radiated, ``(..., K)``."""
        return sum(self.powers[..., j] * sh.trace for j, sh in enumerate(self.shapes))

    def gram(self, x: np.ndarray) -> np.ndarray:
        r"""Bilinear forms :math:`x_p^H W_k x_q` for every user k.

        Parameters
        ----------
        x : ndarray, shape ``(..., N, M)``

        Returns
        -------
        ndarray, shape ``(..., K, M, M)``
        """
        xk = x[..., None, :, :]
        return sum(self.powers[..., j, None, None] * sh.gram(xk) for j, sh in enumerate(self.shapes))

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw ``size`` precoders :math:`w_k \\sim \\mathcal{CN}(0, W_k)`, shape ``(size, ..., K, N)``."""
        return sum(np.sqrt(self.powers[..., j, None]) * sh.sample(rng, size)
                   for j, sh in enumerate(self.shapes))

    def reduce(self, vectors: np.ndarray | None = None, rtol: float | None = None) -> "ReducedPrecoders":
        r"""The covariances in reduced coordinates: :math:`W_k = QC_kQ^H + \sigma_k^2(I - QQ^H)`.

        :math:`Q` (``N x D``) is an orthonormal basis of the span of every shape's basis (all
        users) and of ``vectors``. A span shape :math:`Q_RQ_R^H/r` lies in it; a complement
        shape splits into :math:`Q(I_D - BB^H)Q^H/(N-r)` with :math:`B = Q^HQ_R` plus
        :math:`(I - QQ^H)/(N-r)`, with no cross term because :math:`Q_R` lies in the span. So
        :math:`C_k = \sum_j P_{j,k}\tilde R_{j,k}` (``D x D``) and
        :math:`\sigma_k^2 = \sum_{j\ \mathrm{complement}} P_{j,k}/(N - r_{j,k})` give
        :math:`W_k` exactly (to round-off), whatever the shapes.

        Parameters
        ----------
        vectors : ndarray, shape ``(N, M)``, optional
            Further columns the span must contain (the channels, for probing).
        rtol : float, optional
            Rank tolerance of the span, on unit-normalised columns
            (:func:`orthonormal_basis`; default ``max(N, m) * eps``).

        Returns
        -------
        ReducedPrecoders

        Raises
        ------
        ValueError
            If the covariance is batched beyond the users' axis (powers not ``(K, J)``).
        """
        if self.powers.ndim != 2:
            raise ValueError(f"reduce: takes one scenario's covariances, powers (K, J), got {self.powers.shape}")
        n_users = self.powers.shape[0]
        n_ant = self.shapes[0].n_ant
        cols = [np.moveaxis(np.broadcast_to(sh.basis, (n_users, n_ant, sh.basis.shape[-1])), 0, 1)
                .reshape(n_ant, -1) for sh in self.shapes]
        if vectors is not None:
            cols.append(np.asarray(vectors, dtype=complex).reshape(n_ant, -1))
        a = np.concatenate(cols, axis=1)
        norm = np.linalg.norm(a, axis=0)
        a = a / np.where(norm > 0, norm, 1.0)
        q, rank = orthonormal_basis(a, rtol)
        q = np.ascontiguousarray(q[:, :int(rank)])            # the kept columns come first (SVD order)
        d = q.shape[1]
        cov = np.zeros((n_users, d, d), dtype=complex)
        perp = np.zeros(n_users)
        eye = np.eye(d)
        for j, sh in enumerate(self.shapes):
            b = np.einsum("nd,...nm->...dm", q.conj(), np.broadcast_to(sh.basis, (n_users, n_ant, sh.basis.shape[-1])))
            bb = b @ np.swapaxes(b.conj(), -1, -2)            # Q^H Q_R Q_R^H Q, (K, D, D)
            w = np.broadcast_to(self.powers[:, j] * sh._scale(), (n_users,))
            if sh.complement:
                cov += w[:, None, None] * (eye - bb)
                perp += w
            else:
                cov += w[:, None, None] * bb
        cov = 0.5 * (cov + np.swapaxes(cov.conj(), -1, -2))
        lam, vec = np.linalg.eigh(cov)                        # ascending
        lam = np.maximum(lam, 0.0)
        top = lam[:, -1:] if d else np.zeros((n_users, 1))
        tol = 64 * max(d, 1) * np.finfo(float).eps * top       # round-off of I - BB^H: drop, not draw
        r = int(np.max(np.sum(lam > tol, axis=-1))) if d else 0
        factors = vec[:, :, d - r:] * np.sqrt(lam[:, None, d - r:])
        return ReducedPrecoders(q, np.ascontiguousarray(factors), perp)


@dataclass(frozen=True)
class ReducedPrecoders:
    r"""Precoder covariances :math:`W_k = QL_kL_k^HQ^H + \sigma_k^2(I - QQ^H)` (one scenario).

    A precoder :math:`w_k \sim \mathcal{CN}(0, W_k)` is :math:`QL_k\xi_k + \sigma_k u_k` with
    :math:`\xi_k \sim \mathcal{CN}(0, I_R)` and :math:`u_k` isotropic on the complement of the
    span of Q (``N - D`` dimensions), independent. Built by :meth:`PrecoderCovariance.reduce`.

    Attributes
    ----------
    basis : ndarray, ``(N, D)``
        Orthonormal columns Q.
    factors : ndarray, ``(K, D, R)``
        :math:`L_k`: the component of :math:`w_k` in the span, in Q's coordinates.
    perp_var : ndarray, ``(K,)``
        :math:`\sigma_k^2`: power per dimension of the isotropic part on the complement.
    """

    basis: np.ndarray
    factors: np.ndarray
    perp_var: np.ndarray

    @property
    def n_ant(self) -> int:
        return self.basis.shape[0]

    @property
    def dim(self) -> int:
        """D, the dimension of the span."""
        return self.basis.shape[1]

    @property
    def perp_dim(self) -> int:
        """N - D, the dimension of the complement."""
        return self.n_ant - self.dim

    def coordinates(self, x: np.ndarray) -> np.ndarray:
        """:math:`Q^Hx` of vectors ``x`` ``(N, ...)``: ``(D, ...)``."""
        return np.tensordot(self.basis.conj(), x, axes=(0, 0))

    def gram(self, x: np.ndarray) -> np.ndarray:
        r"""All bilinear forms :math:`x_p^H W_k x_q`, ``(K, M, M)`` for ``x`` ``(N, M)`` (any x)."""
        c = self.coordinates(x)                                          # (D, M)
        lc = np.einsum("kdr,dm->krm", self.factors.conj(), c)            # L_k^H Q^H x
        low = np.einsum("krp,krq->kpq", lc.conj(), lc)
        perp = x.conj().T @ x - c.conj().T @ c
        return low + self.perp_var[:, None, None] * perp[None]

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw ``size`` precoders in N-space, ``(size, K, N)`` (for checks; O(N) per precoder)."""
        k, d, r = self.factors.shape
        xi = _crandn(rng, (size, k, r))
        w = np.einsum("nd,kdr,skr->skn", self.basis, self.factors, xi)
        u = _crandn(rng, (size, k, self.n_ant))
        u = u - np.einsum("nd,skd->skn", self.basis, np.einsum("nd,skn->skd", self.basis.conj(), u))
        return w + np.sqrt(self.perp_var)[:, None] * u


def _stack_except(a: np.ndarray, k_axis_len: int) -> np.ndarray:
    """``(..., K, N)`` -> ``(..., K, N, K-1)``: for each k the other users' vectors as columns."""
    idx = np.array([[i for i in range(k_axis_len) if i != k] for k in range(k_axis_len)], dtype=int)
    idx = idx.reshape(k_axis_len, k_axis_len - 1)
    cols = np.swapaxes(a, -1, -2)[..., idx]  # (..., N, K, K-1)
    return np.moveaxis(cols, -2, -3)


def _residual(x: np.ndarray, q: np.ndarray, rtol: float | None, rank: np.ndarray | None = None) -> np.ndarray:
    """``P_perp x``, set to 0 where it is round-off (below the rank tolerance times ``||x||``),
    so that a beam is never a normalised round-off direction (e.g. targeted jamming at N = 2K-1).

    Where the basis spans all of C^N (``rank == N``) the complement is empty and the residual is
    exactly 0: its round-off depends on the BLAS kernels (seen above the tolerance on AMD EPYC)."""
    res = project_out(x, q)
    tol = max(x.shape[-1], q.shape[-1]) * np.finfo(float).eps if rtol is None else rtol
    small = np.linalg.norm(res, axis=-1) <= tol * np.linalg.norm(x, axis=-1)
    if rank is not None:
        small = small | (np.asarray(rank) >= x.shape[-1])
    return np.where(small[..., None], 0.0, res)


def svd_shapes(
    f: np.ndarray, h: np.ndarray, shaping: str = "isotropic", jamming: str = "isotropic",
    rtol: float | None = None,
) -> tuple[Shape, Shape]:
    r"""Signal and jamming shapes :math:`R_k, R_{ek}` of SVD precoding, J(13)-(16), C IV.

    :math:`\tilde R_k = [f_{i\ne k}, h_{i\ne k}]` (``N x (2K-2)``) and
    :math:`\tilde R_{ek} = [f_1..f_K, h_{i\ne k}]` (``N x (2K-1)``) are reduced to
    orthonormal bases by a thin SVD with a rank tolerance.

    Parameters
    ----------
    f, h : ndarray, shape ``(..., K, N)``
    shaping : {'isotropic', 'matched'}
        Signal part. ``isotropic``: :math:`P_\perp(\tilde R_k)/(N - r_k)` (J).
        ``matched``: :math:`vv^H`, :math:`v = P_\perp f_k/\|P_\perp f_k\|` (C's
        :math:`u_su_s^H` for K = 1; beyond the papers for K > 1).
    jamming : {'isotropic', 'targeted'}
        Jamming part. ``isotropic``: :math:`P_\perp(\tilde R_{ek})/(N - r_{ek})` (C, J).
        ``targeted``: :math:`qq^H`, :math:`q = P_\perp h_k/\|P_\perp h_k\|` (beyond the papers).
    rtol : float, optional
        Rank tolerance, see :func:`~nfkg.engine.subspace.orthonormal_basis`.

    Raises
    ------
    ValueError
        If ``N < 2K - 1`` or an option is unknown.
    """
    n_users, n_ant = f.shape[-2], f.shape[-1]
    check_svd_options(n_ant, n_users, shaping, jamming)
    f_others = _stack_except(f, n_users)
    h_others = _stack_except(h, n_users)
    f_all = np.broadcast_to(np.swapaxes(f, -1, -2)[..., None, :, :], (*f.shape[:-1], n_ant, n_users))
    r_tilde = np.concatenate([f_others, h_others], axis=-1)  # (..., K, N, 2K-2)
    r_tilde_e = np.concatenate([f_all, h_others], axis=-1)   # (..., K, N, 2K-1)
    q_k, rank_k = orthonormal_basis(r_tilde, rtol)
    q_e, rank_e = orthonormal_basis(r_tilde_e, rtol)
    if shaping == "isotropic":
        signal = Shape(q_k, rank_k, complement=True)
    else:
        signal = Shape.beam(_residual(f, q_k, rtol, rank_k))
    if jamming == "isotropic":
        jam = Shape(q_e, rank_e, complement=True)
    else:
        jam = Shape.beam(_residual(h, q_e, rtol, rank_e))
    return signal, jam



def _crandn(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Standard circularly-symmetric complex Gaussian samples, CN(0, 1)."""
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) / np.sqrt(2.0)
