"""Scenarios: the array, the nodes, the powers and the noise (C II-III, J II-III).

A :class:`Scenario` holds arrays that broadcast over a batch of leading axes, so
that one object describes a whole sweep (a figure's x-axis) and every downstream
computation is vectorised over it.

Every quantity is checked against the bounds of :mod:`nfkg.model.limits` (the same table
as the scenario file's, e.g. 1 ... 65,536 antennas, 0.1 ... 1,000 GHz, -50 ... 60 dBm
of transmit power, 0 < r <= 10 km, ``|psi| <= pi/2``, every node at least 1 mm from
every antenna, 1 ... 64 users); a violation raises one ``ValueError`` naming the
argument: ``pt_dbm``, ``users[0].r`` and ``ula.carrier_hz`` from
:meth:`Scenario.from_dbm`, ``p_max``, ``r_b[0]`` from the constructor.

Contents
--------
Scenario
    Batched numeric scenario: ULA, K users and K Eves, powers, noise.
"""

from __future__ import annotations

from dataclasses import InitVar, dataclass, field
from functools import cached_property

import numpy as np
from numpy.typing import ArrayLike

from .channel import ULA
from .channel_file import check_channels
from .limits import LimitError, check, check_array, check_clearance, check_count, check_ula, check_watts, numbers
from .units import dbm_2_watt

__all__ = ["Scenario", "require_scenario"]


def require_scenario(scenario: object, name: str = "scenario") -> "Scenario":
    """``scenario`` itself when it is a :class:`Scenario`; a ``TypeError`` naming the argument otherwise.

    >>> require_scenario(None)
    Traceback (most recent call last):
    ...
    TypeError: scenario: expected an nfkg.Scenario (e.g. nfkg.load_scenario("s.toml")), got None
    """
    if not isinstance(scenario, Scenario):
        got = "None" if scenario is None else f"{type(scenario).__name__}"
        raise TypeError(f"{name}: expected an nfkg.Scenario (e.g. nfkg.load_scenario(\"s.toml\")), got {got}")
    return scenario


def _arr(x: ArrayLike) -> np.ndarray:
    return np.asarray(x, dtype=float)


@dataclass(frozen=True, eq=False)
class Scenario:
    r"""A batch of key-generation scenarios (C III, J III).

    Node arrays have shape ``(..., K)``; power and noise arrays broadcast against
    the batch shape ``(...)``. All powers are in watts.

    Parameters
    ----------
    ula : ULA
        The BS array and carrier.
    r_b, psi_b : array_like, shape ``(..., K)``
        Users' distances [m] and angles [rad].
    r_e, psi_e : array_like, shape ``(..., K)``
        Eavesdroppers' distances and angles; Eve k targets user k.
    p_max : array_like
        BS power budget :math:`P_{\max}` [W].
    p_b : array_like
        Users' transmit power :math:`P_b` [W].
    sigma2_a, sigma2_b, sigma2_e : array_like
        Noise powers at the BS (per antenna), users and Eves [W].
    pilot_length : int
        Pilot length V.
    own_channels : (f, h), optional
        Given channels ``(..., K, N)`` instead of the model's (see :meth:`from_channels`).
    el_b, el_e : array_like, shape ``(..., K)`` or scalar
        Elevations [rad] of users and Eves (0: in the x-y plane, the default), for
        planar arrays (``ula.rows > 1``) and nodes off the plane (module
        :mod:`nfkg.model.channel`: the 3-D geometry).
    checked : bool, init only
        ``True`` skips :meth:`validate` (for :meth:`from_dbm`, which has just checked
        every value with messages in dBm); leave it ``False``.

    Examples
    --------
    >>> s = Scenario.from_dbm(ULA(256, 30e9), users=[(12.2, 0.2)], eves=[(12.0, 0.2)], pt_dbm=30)
    >>> s.n_users, s.batch_shape
    (1, ())
    """

    ula: ULA
    r_b: np.ndarray
    psi_b: np.ndarray
    r_e: np.ndarray
    psi_e: np.ndarray
    p_max: np.ndarray
    p_b: np.ndarray
    sigma2_a: np.ndarray
    sigma2_b: np.ndarray
    sigma2_e: np.ndarray
    pilot_length: int = 1
    own_channels: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)
    el_b: np.ndarray = 0.0  # type: ignore[assignment]
    el_e: np.ndarray = 0.0  # type: ignore[assignment]
    _cache: dict = field(default_factory=dict, repr=False, compare=False)
    checked: InitVar[bool] = False

    def __post_init__(self, checked: bool) -> None:
        for name in ("r_b", "psi_b", "r_e", "psi_e", "p_max", "p_b", "sigma2_a", "sigma2_b", "sigma2_e",
                     "el_b", "el_e"):
            object.__setattr__(self, name, _arr(getattr(self, name)))
        if self.own_channels is not None:
            if not (isinstance(self.own_channels, tuple) and len(self.own_channels) == 2):
                raise LimitError("must be a pair (f, h) of channel arrays of shape (..., K, N)", "own_channels")
            f, h = self.own_channels
            if not checked:
                f, h, _ = check_channels(f, h, ("own_channels[0]", "own_channels[1]"))
            object.__setattr__(self, "own_channels", (np.asarray(f, dtype=complex), np.asarray(h, dtype=complex)))
        if not checked:
            self.validate()

    @classmethod
    def from_channels(
        cls,
        f: ArrayLike,
        h: ArrayLike,
        *,
        pt_dbm: ArrayLike,
        noise_dbm: ArrayLike,
        ue_dbm: ArrayLike | None = None,
        pilot_length: int = 1,
        noise_a_dbm: ArrayLike | None = None,
        noise_b_dbm: ArrayLike | None = None,
        noise_e_dbm: ArrayLike | None = None,
        array: ULA | None = None,
        users: ArrayLike | None = None,
        eves: ArrayLike | None = None,
    ) -> "Scenario":
        r"""A scenario on channels one already has (measured, ray-traced, from MATLAB ...).

        Every scheme, :func:`nfkg.evaluate` (both scorings), the key-generation protocol
        and the probing simulation work on the given channels exactly as on the
        near-field channels of C(2)/J(1): the engine only ever sees the 2K vectors
        :math:`f_k, h_k` of J(5)-(11), the powers and the noise. Only what needs the
        array model (moving a node: maps, position-error studies) is unavailable
        (:meth:`require_geometry`).

        Parameters
        ----------
        f : array_like, complex, shape ``(..., K, N)``
            Users' channels: row k is :math:`f_k`, the N antenna gains between the BS
            and user k, on the scale of C(2) (:math:`|f_k[n]|^2` is the power gain of
            antenna n; e.g. :math:`\lambda/(4\pi r^{(n)})` in amplitude in free space).
        h : array_like, complex, shape ``(..., K, N)``
            Eves' channels; Eve k targets user k. Batch axes broadcast with ``f``'s.
        pt_dbm, noise_dbm, ue_dbm, noise_a_dbm, noise_b_dbm, noise_e_dbm : array_like
            Powers in dBm as in :meth:`from_dbm` (each broadcasts against the batch
            shape of the channels).
        pilot_length : int
            Pilot length V.
        array : ULA, optional
            The array the channels belong to (carrier, spacing, for ``nfkg info``); by
            default a half-wavelength ULA at 30 GHz with the channels' N. Its ``n_ant``
            must equal N.
        users, eves : array_like, shape ``(..., K, 2)``, optional
            ``(r, psi)`` of the nodes, for information only (the channels are not
            recomputed from them).

        Returns
        -------
        Scenario
            Batch shape: the broadcast of the channels' batch axes and the powers'.

        Raises
        ------
        ValueError
            One line naming the bad argument: ``f`` / ``h`` (shape, dtype, NaN,
            all-zero node), ``pt_dbm``, ``array`` ...

        Examples
        --------
        >>> g = Scenario.from_dbm(ULA(64, 30e9), users=[(12.2, 0.2)], eves=[(12.0, 0.2)], pt_dbm=30)
        >>> f, h = g.channels()
        >>> s = Scenario.from_channels(f, h, pt_dbm=30, noise_dbm=-105)
        >>> s.n_users, s.n_ant, s.batch_shape, s.has_geometry
        (1, 64, (), False)
        """
        f, h, batch = check_channels(f, h)
        n_users, n_ant = f.shape[-2:]
        if array is None:
            array = ULA(int(n_ant))
        else:
            check_ula(array, "array")
            if int(array.n_ant) != n_ant:
                raise LimitError(f"has n_ant = {array.n_ant} antennas, the channels have N = {n_ant} "
                                 f"(their last axis)", "array")
        for name, value in (("pt_dbm", pt_dbm), ("ue_dbm", ue_dbm), ("noise_dbm", noise_dbm),
                            ("noise_a_dbm", noise_a_dbm), ("noise_b_dbm", noise_b_dbm),
                            ("noise_e_dbm", noise_e_dbm)):
            if value is not None:
                arr = check_array(name, value, name)
                try:
                    np.broadcast_shapes(arr.shape, batch)
                except ValueError:
                    raise LimitError(f"shape {arr.shape} does not broadcast with the channels' batch shape "
                                     f"{batch}", name) from None
        check("pilot_length", pilot_length, "pilot_length")
        pos = []
        for who, nodes in (("users", users), ("eves", eves)):
            if nodes is None:
                pos += [np.full(n_users, np.nan)] * 2
                continue
            nodes = numbers(nodes, who)
            if nodes.ndim < 2 or nodes.shape[-1] != 2 or nodes.shape[-2] != n_users:
                raise LimitError(f"must be (r, psi) pairs of the {n_users} node(s) of the channels, shape "
                                 f"(..., {n_users}, 2) (got shape {nodes.shape})", who)
            check_array("r", nodes[..., 0], who, name_at=lambda idx, w=who: f"{w}[{', '.join(map(str, idx))}].r")
            check_array("psi", nodes[..., 1], who,
                        name_at=lambda idx, w=who: f"{w}[{', '.join(map(str, idx))}].psi")
            pos += [nodes[..., 0], nodes[..., 1]]
        pick = lambda x: noise_dbm if x is None else x  # noqa: E731
        return cls(
            ula=array,
            r_b=pos[0], psi_b=pos[1], r_e=pos[2], psi_e=pos[3],
            p_max=dbm_2_watt(pt_dbm),
            p_b=dbm_2_watt(pt_dbm if ue_dbm is None else ue_dbm),
            sigma2_a=dbm_2_watt(pick(noise_a_dbm)),
            sigma2_b=dbm_2_watt(pick(noise_b_dbm)),
            sigma2_e=dbm_2_watt(pick(noise_e_dbm)),
            pilot_length=pilot_length,
            own_channels=(f, h),
            checked=True,  # every value was just checked above
        )

    @classmethod
    def from_dbm(
        cls,
        ula: ULA,
        users: ArrayLike,
        eves: ArrayLike,
        pt_dbm: ArrayLike = 20.0,
        ue_dbm: ArrayLike | None = None,
        noise_dbm: ArrayLike = -105.0,
        noise_a_dbm: ArrayLike | None = None,
        noise_b_dbm: ArrayLike | None = None,
        noise_e_dbm: ArrayLike | None = None,
        pilot_length: int = 1,
    ) -> "Scenario":
        """Build a scenario from ``(r, psi)`` pairs and powers in dBm (the scenario file's defaults).

        Parameters
        ----------
        users, eves : array_like, shape ``(..., K, 2)`` or ``(..., K, 3)``
            ``(r [m], psi [rad])`` or ``(r, psi, el [rad])`` of each node (``el`` 0 when
            absent: in the x-y plane).
        pt_dbm : array_like
            :math:`P_{\\max}`, and :math:`P_b` unless ``ue_dbm`` is given.
        noise_dbm : array_like
            Common noise power; overridden per node kind by ``noise_{a,b,e}_dbm``.
        """
        check_ula(ula)
        users = numbers(users, "users")
        eves = numbers(eves, "eves")
        for who, nodes in (("users", users), ("eves", eves)):
            if nodes.ndim < 2 or nodes.shape[-1] not in (2, 3):
                raise LimitError(f"must be given as (r, psi) pairs or (r, psi, el) triples, shape (..., K, 2) or "
                                 f"(..., K, 3) (got shape {nodes.shape})", who)
        check_count(users.shape[-2], "users")
        if eves.shape[-2] != users.shape[-2]:
            raise LimitError(f"need exactly one Eve per user (got {eves.shape[-2]} Eve(s) for "
                             f"{users.shape[-2]} user(s))", "eves")
        for who, nodes in (("users", users), ("eves", eves)):
            def at(idx: tuple[int, ...], who: str = who, part: str = "") -> str:
                return f"{who}[{', '.join(str(i) for i in idx)}]{part}"

            check_array("r", nodes[..., 0], who, name_at=lambda idx, at=at: at(idx, part=".r"))
            check_array("psi", nodes[..., 1], who, name_at=lambda idx, at=at: at(idx, part=".psi"))
            el = None
            if nodes.shape[-1] == 3:
                el = nodes[..., 2]
                check_array("el", el, who, name_at=lambda idx, at=at: at(idx, part=".el"))
            check_clearance(nodes[..., 0], nodes[..., 1], ula.n_ant, ula.spacing, at, el=el, rows=ula.rows)
        for name, value in (("pt_dbm", pt_dbm), ("ue_dbm", ue_dbm), ("noise_dbm", noise_dbm),
                            ("noise_a_dbm", noise_a_dbm), ("noise_b_dbm", noise_b_dbm),
                            ("noise_e_dbm", noise_e_dbm)):
            if value is not None:
                check_array(name, value, name)
        check("pilot_length", pilot_length, "pilot_length")
        pick = lambda x: noise_dbm if x is None else x  # noqa: E731
        elev = {f"el_{w}": nodes[..., 2] if nodes.shape[-1] == 3 else 0.0 for w, nodes in (("b", users), ("e", eves))}
        return cls(
            ula=ula,
            r_b=users[..., 0], psi_b=users[..., 1],
            r_e=eves[..., 0], psi_e=eves[..., 1],
            **elev,
            p_max=dbm_2_watt(pt_dbm),
            p_b=dbm_2_watt(pt_dbm if ue_dbm is None else ue_dbm),
            sigma2_a=dbm_2_watt(pick(noise_a_dbm)),
            sigma2_b=dbm_2_watt(pick(noise_b_dbm)),
            sigma2_e=dbm_2_watt(pick(noise_e_dbm)),
            pilot_length=pilot_length,
            checked=True,  # every value was just checked above, in the units the caller gave (dBm)
        )

    # ------------------------------------------------------------------ checks
    def validate(self) -> None:
        """Raise ``ValueError`` naming the first invalid argument (the bounds of :mod:`nfkg.model.limits`).

        Names are the constructor's: ``ula.carrier_hz``, ``r_b[0]``, ``psi_e[1]``, ``p_max``,
        ``sigma2_a``, ``pilot_length`` ...
        """
        check_ula(self.ula)
        ula = self.ula
        if self.r_b.ndim == 0:
            raise LimitError("must have a user axis, shape (..., K)", "r_b")
        check_count(self.r_b.shape[-1], "r_b")
        if self.r_e.ndim == 0 or self.r_e.shape[-1] != self.r_b.shape[-1]:
            raise LimitError(f"need exactly one Eve per user (got {self.r_e.shape[-1:] or 'no'} Eve axis "
                             f"for {self.r_b.shape[-1]} user(s))", "r_e")
        own = self.own_channels
        if own is not None:
            if own[0].shape[-2:] != (self.n_users, ula.n_ant):
                raise LimitError(f"channels of shape (..., K, N) = {own[0].shape} do not match K = {self.n_users} "
                                 f"nodes and the array's N = {ula.n_ant}", "own_channels")
        for r_name, psi_name in (("r_b", "psi_b"), ("r_e", "psi_e")):
            r, psi = getattr(self, r_name), getattr(self, psi_name)
            if own is not None and np.all(np.isnan(r)) and np.all(np.isnan(psi)):
                continue  # positions unknown: the channels are given
            el_name = "el_" + r_name[-1]
            el = getattr(self, el_name)
            check_array("r", r, r_name)
            check_array("psi", psi, psi_name)
            check_array("el", el, el_name)
            if own is None:  # given channels need not come from the array model
                r, psi, el = np.broadcast_arrays(r, psi, el)
                check_clearance(r, psi, ula.n_ant, ula.spacing,
                                lambda idx, n=r_name: f"{n}[{', '.join(str(i) for i in idx)}]", el=el, rows=ula.rows)
        for name, key in (("p_max", "pt_dbm"), ("p_b", "ue_dbm"),
                          ("sigma2_a", "noise_dbm"), ("sigma2_b", "noise_dbm"), ("sigma2_e", "noise_dbm")):
            check_watts(key, getattr(self, name), name)
        check("pilot_length", self.pilot_length, "pilot_length")

    # -------------------------------------------------------------- properties
    @property
    def n_users(self) -> int:
        """Number of users K."""
        return int(self.r_b.shape[-1])

    @property
    def n_ant(self) -> int:
        """Number of BS antennas N."""
        return int(self.ula.n_ant)

    @cached_property
    def batch_shape(self) -> tuple[int, ...]:
        """Broadcast batch shape of all quantities."""
        shapes = [a.shape[:-1] for a in (self.r_b, self.psi_b, self.r_e, self.psi_e)]
        shapes += [a.shape[:-1] for a in (self.el_b, self.el_e) if a.ndim]
        shapes += [a.shape for a in (self.p_max, self.p_b, self.sigma2_a, self.sigma2_b, self.sigma2_e)]
        if self.own_channels is not None:
            shapes += [a.shape[:-2] for a in self.own_channels]
        return tuple(np.broadcast_shapes(*shapes))

    @property
    def has_geometry(self) -> bool:
        """``True`` when the channels come from the array model and the node positions.

        ``False`` for a scenario on its own channels (:meth:`from_channels`).
        """
        return self.own_channels is None

    def require_geometry(self, what: str) -> None:
        """``ValueError`` (one line, naming ``what``) unless the scenario has the array model.

        For what moves nodes or needs their positions (maps, position errors): given
        channels say nothing about the channel of a node elsewhere.

        >>> f = np.ones((1, 4), complex)
        >>> Scenario.from_channels(f, 2 * f, pt_dbm=20, noise_dbm=-90).require_geometry("map")
        Traceback (most recent call last):
        ...
        ValueError: map: needs the array model and the node positions; this scenario has its own channels (Scenario.from_channels or a channels file), which say nothing about a node elsewhere
        """
        if not self.has_geometry:
            raise ValueError(f"{what}: needs the array model and the node positions; this scenario has its own "
                             f"channels (Scenario.from_channels or a channels file), which say nothing about a "
                             f"node elsewhere")

    def node_channels(self) -> tuple[np.ndarray, np.ndarray]:
        """Channels ``f, h`` on the *node* batch shape (axes on which no node changes have length 1).

        What the engine (:func:`nfkg.engine.reduced.geometry`) factorises: the given channels
        of :meth:`from_channels`, or the near-field channels C(2)/J(1) of the nodes.
        """
        from ..engine.reduced import _collapse

        if self.own_channels is not None:
            f, h = self.own_channels
            batch = np.broadcast_shapes(f.shape[:-2], h.shape[:-2])
            f = np.broadcast_to(f, (*batch, *f.shape[-2:]))
            h = np.broadcast_to(h, (*batch, *h.shape[-2:]))
            index = tuple(slice(0, 1) if all(a.shape[ax] == 1 or a.strides[ax] == 0 for a in (f, h))
                          else slice(None) for ax in range(len(batch)))
            return f[index], h[index]
        if not (self.el_b.any() or self.el_e.any()):  # nodes in the x-y plane: exactly the ULA code of old
            (r_b, psi_b, r_e, psi_e), _ = _collapse([self.r_b, self.psi_b, self.r_e, self.psi_e])
            el_b = el_e = None
        else:
            shape = np.broadcast_shapes(*(a.shape for a in (self.r_b, self.psi_b, self.r_e, self.psi_e)),
                                        self.el_b.shape, self.el_e.shape)
            (r_b, psi_b, r_e, psi_e, el_b, el_e), _ = _collapse(
                [np.broadcast_to(a, shape) for a in (self.r_b, self.psi_b, self.r_e, self.psi_e, self.el_b,
                                                     self.el_e)])
        if np.isnan(r_b).any() or np.isnan(r_e).any():
            raise ValueError("r_b: the node positions are unknown (a scenario copied from one with its own "
                             "channels without them?)")
        return self.ula.channel(r_b, psi_b, el_b), self.ula.channel(r_e, psi_e, el_e)

    def channels(self) -> tuple[np.ndarray, np.ndarray]:
        """Channels ``f, h`` of users and Eves, each ``(..., K, N)`` (batch-broadcast).

        The near-field channels C(2)/J(1) of the nodes, or the given ones (:meth:`from_channels`).
        """
        if "fh" not in self._cache:
            from ..engine.reduced import geometry  # the channels are computed once, on the node batch shape

            geo = geometry(self)
            shape = (*self.batch_shape, self.n_users, self.n_ant)
            self._cache["fh"] = (np.broadcast_to(geo.f, shape), np.broadcast_to(geo.h, shape))
        return self._cache["fh"]

    # ------------------------------------------------------------ noise, J(5)-(11)
    @property
    def var_nb(self) -> np.ndarray:
        r"""User estimation noise :math:`\sigma_b^2/V`, shape ``(..., 1)``."""
        return (self.sigma2_b / self.pilot_length)[..., None]

    @property
    def var_ne(self) -> np.ndarray:
        r"""Eve estimation noise :math:`\sigma_e^2/V`, shape ``(..., 1)``."""
        return (self.sigma2_e / self.pilot_length)[..., None]

    def var_na(self, p_a: ArrayLike) -> np.ndarray:
        r"""BS noise after precoding :math:`P_{a,k}\sigma_a^2/(VP_b)`, J(11); ``p_a`` is ``(..., K)``."""
        return _arr(p_a) * (self.sigma2_a / (self.pilot_length * self.p_b))[..., None]

    @property
    def var_na_worst(self) -> np.ndarray:
        r"""Worst-case BS noise :math:`P_{\max}\sigma_a^2/(VP_b)` used inside the optimiser, J III-D."""
        return self.var_na(self.p_max[..., None])
