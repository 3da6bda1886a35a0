r"""The schema of a scenario file: what each of its tables may hold, checked key by key.

:class:`ScenarioConfig` (the top-level table) and :class:`NodeConfig` (a ``{r, psi}``
table of ``users`` and ``eves``) are pydantic models. Each key is checked against its row
of :data:`nfkg.model.ranges.LIMITS` with the checks of :mod:`nfkg.model.limits` (types
included: ``"20"``, ``256.0`` and ``true`` are rejected where they do not belong), unknown
keys are rejected, and ``channels`` is resolved against the scenario file's folder. A
model dumps (``model_dump``) only the keys in use, so that dumps and the hashes of sweeps
made from them stay stable, and converts itself to a numeric
:class:`~nfkg.model.scenario.Scenario` (:meth:`ScenarioConfig.to_scenario`).

Reading a file, the one-line messages of invalid keys and the keys' table are those of
:mod:`nfkg.model.scenario_file`, from which every name of this module is importable too.

Contents
--------
NodeConfig, ScenarioConfig
    The validated contents of a scenario file (pydantic models).
DBM_RANGE, NOISE_DBM_RANGE
    Accepted ranges [dBm] of the transmit and the noise powers.
"""

from __future__ import annotations

import os
from typing import Annotated, Any

from pydantic import (AfterValidator, BaseModel, ConfigDict, PlainValidator, ValidationInfo, field_validator,
                      model_serializer, model_validator)
from pydantic_core import PydanticCustomError

from . import limits
from .channel import ULA
from .channel_file import read_channels
from .limits import LIMITS, LimitError
from .scenario import Scenario

__all__ = [
    "NodeConfig",
    "ScenarioConfig",
    "DBM_RANGE",
    "NOISE_DBM_RANGE",
]

#: Accepted range [dBm] of the transmit powers ``pt_dbm`` and ``ue_dbm`` (from :data:`nfkg.model.ranges.LIMITS`).
DBM_RANGE: tuple[float, float] = (LIMITS["pt_dbm"].lo, LIMITS["pt_dbm"].hi)
#: Accepted range [dBm] of the noise powers ``noise_dbm`` and ``noise_{a,b,e}_dbm``.
NOISE_DBM_RANGE: tuple[float, float] = (LIMITS["noise_dbm"].lo, LIMITS["noise_dbm"].hi)


# --------------------------------------------------------------------------- validators
def _checked(key: str, optional: bool = False):
    """A pydantic validator applying the row ``key`` of :data:`nfkg.model.limits.LIMITS` (types included)."""

    def validate(value: Any) -> Any:
        if value is None and optional:
            return None
        return limits.check(key, value)  # LimitError (a ValueError): the reason, pydantic adds the key

    return PlainValidator(validate)


def _count(value: list) -> list:
    limits.check_count(len(value), None, "{r, psi} table")
    return value


def _count_or_none(value: list | None) -> list | None:
    return None if value is None else _count(value)


def _channels_path(value: Any, info: ValidationInfo) -> str | None:
    """The ``channels`` key: a file name, made absolute against the scenario file's folder."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"must be a file name, a string such as \"channels.npz\" (got {limits.show(value)})")
    if not value.strip():
        raise ValueError("must be a file name, not an empty string")
    base = (info.context or {}).get("base_dir") if info is not None else None
    if base is not None and not os.path.isabs(value):
        value = os.path.join(base, value)
    return value


class NodeConfig(BaseModel):
    """Position of a user or an eavesdropper: ``{r = 12.0, psi = -0.6}`` (``el = 0.1`` optional).

    Attributes
    ----------
    r : float
        Distance from the array centre [m], > 0.
    psi : float
        Angle from the array broadside (the y-axis) [rad], ``|psi| <= pi/2``.
    el : float
        Elevation above the x-y plane [rad], ``|el| <= pi/2`` (0 by default); the node
        sits at ``(r cos(el) sin(psi), r cos(el) cos(psi), r sin(el))``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    r: Annotated[float, _checked("r")]
    psi: Annotated[float, _checked("psi")]
    el: Annotated[float, _checked("el")] = 0.0

    @model_serializer(mode="wrap")
    def _dump(self, handler):
        out = handler(self)
        if self.el == 0.0:  # written only when used: older dumps (and sweep hashes) stay as they were
            out.pop("el", None)
        return out


class ScenarioConfig(BaseModel):
    """The validated contents of a scenario file (powers still in dBm).

    Attributes mirror the file's keys one to one; see :mod:`nfkg.model.scenario_file` for
    the meaning, unit and accepted range of each. Unknown keys are rejected.

    Examples
    --------
    >>> cfg = ScenarioConfig(users=[{"r": 12.2, "psi": 0.2}], eves=[{"r": 12.0, "psi": 0.2}])
    >>> cfg.antennas, cfg.pt_dbm, cfg.p_b_dbm, cfg.noise_dbm
    (256, 20.0, 20.0, -105.0)
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    carrier_ghz: Annotated[float, _checked("carrier_ghz")] = LIMITS["carrier_ghz"].default
    antennas: Annotated[int, _checked("antennas")] = LIMITS["antennas"].default
    spacing_wavelengths: Annotated[float, _checked("spacing_wavelengths")] = LIMITS["spacing_wavelengths"].default
    pathloss_exponent: Annotated[float, _checked("pathloss_exponent")] = LIMITS["pathloss_exponent"].default
    pt_dbm: Annotated[float, _checked("pt_dbm")] = LIMITS["pt_dbm"].default
    ue_dbm: Annotated[float | None, _checked("ue_dbm", optional=True)] = None
    noise_dbm: Annotated[float, _checked("noise_dbm")] = LIMITS["noise_dbm"].default
    noise_a_dbm: Annotated[float | None, _checked("noise_a_dbm", optional=True)] = None
    noise_b_dbm: Annotated[float | None, _checked("noise_b_dbm", optional=True)] = None
    noise_e_dbm: Annotated[float | None, _checked("noise_e_dbm", optional=True)] = None
    pilot_length: Annotated[int, _checked("pilot_length")] = LIMITS["pilot_length"].default
    array_rows: Annotated[int, _checked("array_rows")] = LIMITS["array_rows"].default
    channels: Annotated[str | None, PlainValidator(_channels_path)] = None
    users: Annotated[list[NodeConfig] | None, AfterValidator(_count_or_none)] = None
    eves: Annotated[list[NodeConfig] | None, AfterValidator(_count_or_none)] = None

    @field_validator("eves")
    @classmethod
    def _one_eve_per_user(cls, eves: list[NodeConfig] | None, info: ValidationInfo) -> list[NodeConfig] | None:
        users = info.data.get("users")
        if eves is not None and users is not None and len(eves) != len(users):
            raise ValueError(f"need exactly one Eve per user (got {len(eves)} Eve(s) for {len(users)} user(s))")
        return eves

    @model_serializer(mode="wrap")
    def _dump(self, handler):
        out = handler(self)
        for key, default in (("array_rows", 1), ("channels", None)):  # written only when used (stable dumps)
            if out.get(key, default) == default:
                out.pop(key, None)
        if self.channels is not None and "antennas" not in self.model_fields_set:
            out.pop("antennas", None)  # it comes from the channel file
        return out

    @model_validator(mode="after")
    def _positions_or_channels(self) -> "ScenarioConfig":
        if self.channels is None and self.antennas % self.array_rows:
            raise PydanticCustomError("bad_rows", "must divide antennas (N = {n} is not a multiple of R = {r})",
                                      {"key": "array_rows", "n": self.antennas, "r": self.array_rows})
        if self.channels is None:
            for key in ("users", "eves"):
                if getattr(self, key) is None:
                    raise PydanticCustomError("missing_nodes", "missing required key (or give channels = FILE)",
                                              {"key": key})
        return self

    @property
    def p_b_dbm(self) -> float:
        """Users' transmit power [dBm]: ``ue_dbm``, or ``pt_dbm`` when it is not given."""
        return self.pt_dbm if self.ue_dbm is None else self.ue_dbm

    def ula(self) -> ULA:
        """The BS array described by this file."""
        return ULA(n_ant=self.antennas, carrier_hz=self.carrier_ghz * 1e9,
                   spacing_wavelengths=self.spacing_wavelengths, pathloss_exponent=self.pathloss_exponent,
                   rows=self.array_rows)

    @property
    def _elevated(self) -> bool:
        return any(n.el != 0.0 for n in (*(self.users or ()), *(self.eves or ())))

    def to_scenario(self) -> Scenario:
        """The numeric :class:`~nfkg.model.scenario.Scenario` (powers converted to watts).

        Raises
        ------
        ScenarioError
            If :meth:`Scenario.validate <nfkg.model.scenario.Scenario.validate>` rejects it
            (e.g. a node sitting on an antenna).
        """
        from .scenario_file import ScenarioError  # imported on use: that module imports this one

        if self.channels is not None:
            return self._channel_scenario()
        try:
            return Scenario.from_dbm(
                self.ula(),
                users=[(u.r, u.psi, u.el) if self._elevated else (u.r, u.psi) for u in self.users],
                eves=[(e.r, e.psi, e.el) if self._elevated else (e.r, e.psi) for e in self.eves],
                pt_dbm=self.pt_dbm,
                ue_dbm=self.ue_dbm,
                noise_dbm=self.noise_dbm,
                noise_a_dbm=self.noise_a_dbm,
                noise_b_dbm=self.noise_b_dbm,
                noise_e_dbm=self.noise_e_dbm,
                pilot_length=self.pilot_length,
            )
        except LimitError as e:  # e.g. a node sitting on an antenna: the names match the file's
            raise ScenarioError(e.reason, key=e.name) from e
        except ValueError as e:
            raise ScenarioError(str(e) or type(e).__name__) from e

    def _channel_scenario(self) -> Scenario:
        """The scenario on the channels of the file ``channels`` (positions, if any, for information)."""
        from .scenario_file import ScenarioError

        try:
            f, h = read_channels(self.channels)
        except ValueError as e:
            raise ScenarioError(f"{self.channels}: {e}", key="channels") from None
        k, n = f.shape
        if "antennas" in self.model_fields_set and self.antennas != n:
            raise ScenarioError(f"is {self.antennas}, but the channels of {self.channels} have N = {n} (it may be "
                                f"left out: it comes from the channels)", key="antennas")
        for key in ("users", "eves"):
            nodes = getattr(self, key)
            if nodes is not None and len(nodes) != k:
                raise ScenarioError(f"has {len(nodes)} node(s), the channels of {self.channels} have K = {k}",
                                    key=key)
        if n % self.array_rows:
            raise ScenarioError(f"must divide the channels' N = {n} (R = {self.array_rows})", key="array_rows")
        array = ULA(n_ant=n, carrier_hz=self.carrier_ghz * 1e9, spacing_wavelengths=self.spacing_wavelengths,
                    pathloss_exponent=self.pathloss_exponent, rows=self.array_rows)
        pos = {key: None if getattr(self, key) is None else [(u.r, u.psi) for u in getattr(self, key)]
               for key in ("users", "eves")}
        try:
            return Scenario.from_channels(
                f, h, pt_dbm=self.pt_dbm, ue_dbm=self.ue_dbm, noise_dbm=self.noise_dbm,
                noise_a_dbm=self.noise_a_dbm, noise_b_dbm=self.noise_b_dbm, noise_e_dbm=self.noise_e_dbm,
                pilot_length=self.pilot_length, array=array, **pos)
        except LimitError as e:
            raise ScenarioError(e.reason, key=e.name) from e
