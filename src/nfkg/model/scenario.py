"""Scenarios: the array, the nodes, the powers and the noise (SPEC 1-3, 10).

A :class:`Scenario` holds arrays that broadcast over a batch of leading axes, so
that one object describes a whole sweep (a figure's x-axis) and every downstream
computation is vectorised over it.

Every quantity is checked against the bounds of :mod:`nfkg.model.limits` (the same table
as the scenario file's, e.g. 1 ... 65,536 antennas, 0.1 ... 1,000 GHz, -50 ... 60 dBm
of transmit power, 0 < r <= 10 km, |psi| <= pi/2, every node at least 1 mm from
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
from .limits import (LimitError, check, check_array, check_clearance, check_count, check_ula,
                     check_watts, numbers)
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
    r"""A batch of key-generation scenarios (SPEC 3).

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
    _cache: dict = field(default_factory=dict, repr=False, compare=False)
    checked: InitVar[bool] = False

    def __post_init__(self, checked: bool) -> None:
        for name in ("r_b", "psi_b", "r_e", "psi_e", "p_max", "p_b", "sigma2_a", "sigma2_b", "sigma2_e"):
            object.__setattr__(self, name, _arr(getattr(self, name)))
        if not checked:
            self.validate()

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
        """Build a scenario from ``(r, psi)`` pairs and powers in dBm (SPEC 10 defaults).

        Parameters
        ----------
        users, eves : array_like, shape ``(..., K, 2)``
            ``(r [m], psi [rad])`` of each node.
        pt_dbm : array_like
            :math:`P_{\\max}`, and :math:`P_b` unless ``ue_dbm`` is given.
        noise_dbm : array_like
            Common noise power; overridden per node kind by ``noise_{a,b,e}_dbm``.
        """
        check_ula(ula)
        users = numbers(users, "users")
        eves = numbers(eves, "eves")
        for who, nodes in (("users", users), ("eves", eves)):
            if nodes.ndim < 2 or nodes.shape[-1] != 2:
                raise LimitError(f"must be given as (r, psi) pairs, shape (..., K, 2) (got shape {nodes.shape})", who)
        check_count(users.shape[-2], "users")
        if eves.shape[-2] != users.shape[-2]:
            raise LimitError(f"need exactly one Eve per user (got {eves.shape[-2]} Eve(s) for "
                             f"{users.shape[-2]} user(s))", "eves")
        for who, nodes in (("users", users), ("eves", eves)):
            def at(idx: tuple[int, ...], who: str = who, part: str = "") -> str:
                return f"{who}[{', '.join(str(i) for i in idx)}]{part}"

            check_array("r", nodes[..., 0], who, name_at=lambda idx, at=at: at(idx, part=".r"))
            check_array("psi", nodes[..., 1], who, name_at=lambda idx, at=at: at(idx, part=".psi"))
            check_clearance(nodes[..., 0], nodes[..., 1], ula.n_ant, ula.spacing, at)
        for name, value in (("pt_dbm", pt_dbm), ("ue_dbm", ue_dbm), ("noise_dbm", noise_dbm),
                            ("noise_a_dbm", noise_a_dbm), ("noise_b_dbm", noise_b_dbm),
                            ("noise_e_dbm", noise_e_dbm)):
            if value is not None:
                check_array(name, value, name)
        check("pilot_length", pilot_length, "pilot_length")
        pick = lambda x: noise_dbm if x is None else x  # noqa: E731
        return cls(
            ula=ula,
            r_b=users[..., 0], psi_b=users[..., 1],
            r_e=eves[..., 0], psi_e=eves[..., 1],
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
        for r_name, psi_name in (("r_b", "psi_b"), ("r_e", "psi_e")):
            r, psi = getattr(self, r_name), getattr(self, psi_name)
            check_array("r", r, r_name)
            check_array("psi", psi, psi_name)
            check_clearance(*np.broadcast_arrays(r, psi), ula.n_ant, ula.spacing,
                            lambda idx, n=r_name: f"{n}[{', '.join(str(i) for i in idx)}]")
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
        shapes += [a.shape for a in (self.p_max, self.p_b, self.sigma2_a, self.sigma2_b, self.sigma2_e)]
        return tuple(np.broadcast_shapes(*shapes))

    def channels(self) -> tuple[np.ndarray, np.ndarray]:
        """Near-field channels ``f, h`` of users and Eves, each ``(..., K, N)`` (batch-broadcast)."""
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
