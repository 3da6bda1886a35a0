r"""The scenario file: a TOML description of one key-generation scenario.

A scenario file is the public, stable way to describe a scenario outside Python (the
``nfkg evaluate`` and ``nfkg info`` commands read it). Every key has a default except
the node positions (or a channel file)::

    carrier_ghz = 30          # f_c [GHz]
    antennas = 256            # N
    spacing_wavelengths = 0.5 # d / lambda
    pathloss_exponent = 2.0   # epsilon
    pt_dbm = 20               # P_max [dBm]; also P_b unless ue_dbm is given
    ue_dbm = 20               # optional: P_b [dBm]
    noise_dbm = -105          # sigma_a^2 = sigma_b^2 = sigma_e^2 [dBm] ...
    # noise_a_dbm, noise_b_dbm, noise_e_dbm  # ... unless these split keys are given
    pilot_length = 1          # V
    users = [ {r = 12.0, psi = -0.6}, {r = 13.0, psi = 0.6} ]    # r [m], psi [rad]
    eves  = [ {r = 11.98, psi = -0.6}, {r = 12.98, psi = 0.6} ]  # Eve k targets user k

A planar array (UPA) has ``array_rows = R`` rows of ``antennas / R`` columns in the x-z
plane, and each node may carry an elevation ``el`` [rad] (default 0)::

    antennas = 1024
    array_rows = 32                                    # a 32 x 32 UPA
    users = [ {r = 12.0, psi = -0.6, el = 0.1} ]       # (r cos el sin psi, r cos el cos psi, r sin el)

One's own channels replace the positions: ``channels`` names a ``.npz`` (numpy) or
``.mat`` (MATLAB up to v7) file, relative to the scenario file, holding arrays ``f``
(users) and ``h`` (Eves) of shape ``(K, N)`` (:func:`nfkg.model.channel_file.read_channels`); ``antennas``
then comes from the arrays and ``users``/``eves`` are optional (for information)::

    channels = "measured.npz"
    pt_dbm = 30
    noise_dbm = -95

Validation is strict: unknown (e.g. misspelt) keys are errors, numbers must be TOML
numbers (a string such as ``"20"`` is rejected), integers must be TOML integers (not
``256.0`` nor ``true``), every number must be finite and inside the range below, and
each failure raises one :class:`ScenarioError` whose message is a single line naming
the file and the key path (nodes are numbered from 0), e.g.
``scenario.toml: users[0].r: must be > 0 and <= 10,000 m (got -1.0)``.

Keys, units, defaults and accepted ranges
-----------------------------------------
The bounds come from one table, :data:`nfkg.model.limits.LIMITS`, which also checks the
``--param`` overrides of ``nfkg figure`` and the Python API.

=========================  ========  ===========  ======================================
key                        unit      default      accepted values
=========================  ========  ===========  ======================================
carrier_ghz                GHz       30           0.1 ... 1,000
antennas                   --        256          integer 1 ... 65,536
spacing_wavelengths        --        0.5          0.01 ... 100 (d / lambda)
pathloss_exponent          --        2.0          0 ... 6
pt_dbm                     dBm       20           -50 ... 60 (10 nW ... 1 kW)
ue_dbm                     dBm       pt_dbm       -50 ... 60
noise_dbm                  dBm       -105         -200 ... 60
noise_a/b/e_dbm            dBm       noise_dbm    -200 ... 60
pilot_length               --        1            integer 1 ... 1,000,000
users                      --        (required)   1 ... 64 ``{r, psi}`` tables
eves                       --        (required)   exactly one per user (Eve k targets user k)
users[k].r, eves[k].r      m         (required)   > 0 and <= 10,000
users[k].psi, eves[k].psi  rad       (required)   -pi/2 ... pi/2
users[k].el, eves[k].el    rad       0            -pi/2 ... pi/2 (elevation)
array_rows                 --        1            integer 1 ... 65,536 dividing antennas
channels                   --        (none)       a .npz / .mat file with f, h (K, N)
=========================  ========  ===========  ======================================

Every node must also be at least 1 mm from every antenna of the array (else
``users[0]: sits on an antenna of the array ...``). A file is at most 16 MiB
(:data:`MAX_FILE_BYTES`); a larger one is refused without reading it whole.

Contents
--------
ScenarioError
    One-line error naming the file and the key.
NodeConfig, ScenarioConfig
    The validated contents of a scenario file (pydantic models).
parse_config, load_config
    Dict / TOML file to :class:`ScenarioConfig`.
parse_scenario, load_scenario
    Dict / TOML file to a numeric :class:`~nfkg.model.scenario.Scenario`.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import (AfterValidator, BaseModel, ConfigDict, PlainValidator, ValidationError, ValidationInfo,
                      field_validator, model_serializer, model_validator)
from pydantic_core import PydanticCustomError

from . import limits
from .channel import ULA
from .channel_file import read_channels
from .limits import LIMITS, LimitError
from .scenario import Scenario

__all__ = [
    "ScenarioError",
    "NodeConfig",
    "ScenarioConfig",
    "DBM_RANGE",
    "NOISE_DBM_RANGE",
    "MAX_FILE_BYTES",
    "parse_config",
    "load_config",
    "parse_scenario",
    "load_scenario",
]

#: Accepted range [dBm] of the transmit powers ``pt_dbm`` and ``ue_dbm`` (from :data:`nfkg.model.limits.LIMITS`).
DBM_RANGE: tuple[float, float] = (LIMITS["pt_dbm"].lo, LIMITS["pt_dbm"].hi)
#: Accepted range [dBm] of the noise powers ``noise_dbm`` and ``noise_{a,b,e}_dbm``.
NOISE_DBM_RANGE: tuple[float, float] = (LIMITS["noise_dbm"].lo, LIMITS["noise_dbm"].hi)


class ScenarioError(ValueError):
    """An invalid scenario file or value; ``str()`` is one line naming the file and the key.

    Parameters
    ----------
    reason : str
        What is wrong, e.g. ``"must be > 0 (got -1.0)"``.
    source : str, optional
        The file (or other origin) of the scenario, e.g. ``"scenario.toml"``.
    key : str, optional
        The key path, e.g. ``"users[0].r"``.

    Examples
    --------
    >>> str(ScenarioError("must be > 0 (got -1.0)", source="scenario.toml", key="users[0].r"))
    'scenario.toml: users[0].r: must be > 0 (got -1.0)'
    >>> str(ScenarioError("no such file", source="missing.toml"))
    'missing.toml: no such file'
    """

    def __init__(self, reason: str, *, source: str | None = None, key: str | None = None) -> None:
        self.reason = _one_line(reason)
        self.source = None if source is None else _one_line(str(source))
        self.key = key
        super().__init__(": ".join(p for p in (self.source, self.key, self.reason) if p))

    def with_source(self, source: str | os.PathLike | None) -> "ScenarioError":
        """A copy of this error attributed to ``source`` (a file name)."""
        return ScenarioError(self.reason, source=None if source is None else os.fspath(source), key=self.key)


def _one_line(text: str) -> str:
    return " ".join(line.strip() for line in str(text).splitlines() if line.strip())


# --------------------------------------------------------------------------- reading
#: Most bytes of a scenario or sweep file (16 MiB); a larger file (or /dev/zero) is refused unread.
MAX_FILE_BYTES = 16 * 2**20


class FileTooLarge(ValueError):
    """A file over :data:`MAX_FILE_BYTES`: ``'larger than 16 MiB, the most a scenario file may hold'``."""


def read_limited(path: str | os.PathLike, limit: int = MAX_FILE_BYTES, what: str = "a scenario file") -> bytes:
    """The bytes of ``path``, reading at most ``limit + 1`` of them; :class:`FileTooLarge` beyond ``limit``."""
    with open(path, "rb") as fh:
        raw = fh.read(limit + 1)
    if len(raw) > limit:
        raise FileTooLarge(f"larger than {limit / 2**20:g} MiB ({limit:,} bytes), the most {what} may hold")
    return raw


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

    Attributes mirror the file's keys one to one; see the module docstring for the
    meaning, unit and accepted range of each. Unknown keys are rejected.

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


# --------------------------------------------------------------------------- error messages
_TYPE_WORDS = {
    "float_type": "must be a number",
    "int_type": "must be an integer",
    "list_type": "must be a list of {r, psi} tables",
    "model_type": "must be a table {r = ..., psi = ...}",
    "dict_type": "must be a table",
    "finite_number": "must be a finite number",
}


def _key_path(loc: tuple[Any, ...]) -> str:
    """``('users', 0, 'r')`` -> ``'users[0].r'``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _known_keys(loc: tuple[Any, ...]) -> list[str]:
    """Keys allowed in the table that contains ``loc[-1]``."""
    if any(isinstance(p, int) for p in loc[:-1]):
        return list(NodeConfig.model_fields)
    return list(ScenarioConfig.model_fields)


def _describe(err: Mapping[str, Any]) -> tuple[str | None, str]:
    """Key path and one-line reason for one pydantic error."""
    loc = tuple(err.get("loc", ()))
    kind = err.get("type", "")
    value = err.get("input")
    if kind == "extra_forbidden":
        name = str(loc[-1]) if loc else "?"
        reason = f"unknown key {name!r}"
        close = difflib.get_close_matches(name, _known_keys(loc), n=1)
        if close:
            reason += f" (did you mean {close[0]!r}?)"
        return _key_path(loc[:-1]) or None, reason
    key = _key_path(loc) or None
    if kind == "missing":
        return key, "missing required key"
    if kind in ("missing_nodes", "bad_rows"):
        ctx = err.get("ctx") or {}
        return ctx.get("key", key), str(err.get("msg", "missing required key"))
    if kind == "too_short":
        return key, "must contain at least one {r, psi} table"
    if kind == "value_error":
        msg = str(err.get("msg", ""))
        return key, msg.removeprefix("Value error, ")
    if kind in _TYPE_WORDS:
        return key, f"{_TYPE_WORDS[kind]} (got {limits.show(value)})"
    return key, f"{err.get('msg', 'invalid value')} (got {limits.show(value)})"


def parse_config(data: Mapping[str, Any], source: str | os.PathLike | None = None, *,
                 base_dir: str | os.PathLike | None = None) -> ScenarioConfig:
    """Validate the parsed contents of a scenario file.

    Parameters
    ----------
    data : mapping
        The file's top-level table (e.g. from :func:`tomllib.load`).
    source : str or path-like, optional
        Name used in error messages (the file name).
    base_dir : str or path-like, optional
        Folder against which a relative ``channels`` file name is resolved (the scenario
        file's folder; :func:`load_config` passes it); the working directory by default.

    Returns
    -------
    ScenarioConfig

    Raises
    ------
    ScenarioError
        On the first invalid or unknown key; the message names it.
    """
    src = None if source is None else os.fspath(source)
    if not isinstance(data, Mapping):
        raise ScenarioError(f"a scenario must be a table of keys, got {type(data).__name__}", source=src)
    try:
        context = None if base_dir is None else {"base_dir": os.fspath(base_dir)}
        return ScenarioConfig.model_validate(dict(data), context=context)
    except ValidationError as e:
        # an unknown key first: a misspelt key also makes the intended key "missing"
        errors = sorted(e.errors(include_url=False), key=lambda err: err.get("type") != "extra_forbidden")
        key, reason = _describe(errors[0]) if errors else (None, _one_line(str(e)))
        raise ScenarioError(reason, source=src, key=key) from None


def parse_scenario(data: Mapping[str, Any], source: str | os.PathLike | None = None, *,
                   base_dir: str | os.PathLike | None = None) -> Scenario:
    """Build a :class:`~nfkg.model.scenario.Scenario` from the contents of a scenario file.

    Parameters
    ----------
    data : mapping
        Scenario-file keys and values (powers in dBm, distances in m, angles in rad).
    source : str or path-like, optional
        Name used in error messages.
    base_dir : str or path-like, optional
        Folder of a relative ``channels`` file (see :func:`parse_config`).

    Returns
    -------
    Scenario
        Unbatched (``batch_shape == ()``), powers in watts.

    Raises
    ------
    ScenarioError
        One line naming the key, e.g. ``users[0].r: must be > 0 and <= 10,000 m (got -1.0)``.

    Examples
    --------
    >>> s = parse_scenario({"pt_dbm": 30, "users": [{"r": 12.2, "psi": 0.2}],
    ...                     "eves": [{"r": 12.0, "psi": 0.2}]})
    >>> s.n_ant, s.n_users, float(s.p_max), float(s.sigma2_a) == 10 ** -13.5
    (256, 1, 1.0, True)
    >>> parse_scenario({"antenas": 8, "users": [{"r": 12.2, "psi": 0.2}],
    ...                 "eves": [{"r": 12.0, "psi": 0.2}]}, source="scenario.toml")
    Traceback (most recent call last):
    ...
    nfkg.model.scenario_file.ScenarioError: scenario.toml: unknown key 'antenas' (did you mean 'antennas'?)
    """
    cfg = parse_config(data, source, base_dir=base_dir)
    try:
        return cfg.to_scenario()
    except ScenarioError as e:
        raise e.with_source(source) from e.__cause__


def load_config(path: str | os.PathLike) -> ScenarioConfig:
    """Read and validate a TOML scenario file without building the numeric scenario.

    Raises
    ------
    ScenarioError
        If the file cannot be read, is not valid TOML, or has an invalid key.
    """
    name = os.fspath(path)
    try:
        data = tomllib.loads(read_limited(path).decode("utf-8"))
    except FileTooLarge as e:
        raise ScenarioError(str(e), source=name) from None
    except FileNotFoundError:
        raise ScenarioError("no such file", source=name) from None
    except IsADirectoryError:
        raise ScenarioError("is a directory, not a scenario file", source=name) from None
    except PermissionError:
        raise ScenarioError("permission denied", source=name) from None
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(f"invalid TOML: {e}", source=name) from None
    except UnicodeDecodeError:
        raise ScenarioError("invalid TOML: the file is not UTF-8 text", source=name) from None
    except RecursionError:
        raise ScenarioError("invalid TOML: arrays or tables nested too deeply", source=name) from None
    except ValueError as e:  # e.g. an integer of more than 4300 digits
        raise ScenarioError(f"invalid TOML: {str(e).split(';')[0]}", source=name) from None
    except OSError as e:
        raise ScenarioError(f"cannot read the file ({e.strerror or e})", source=name) from None
    return parse_config(data, name, base_dir=os.path.dirname(os.path.abspath(name)))


def load_scenario(path: str | os.PathLike) -> Scenario:
    """Read a TOML scenario file.

    Parameters
    ----------
    path : str or path-like
        The ``.toml`` file.

    Returns
    -------
    Scenario
        Unbatched, powers in watts (``W = 10**((dBm - 30)/10)``).

    Raises
    ------
    ScenarioError
        One line naming the file and the key, e.g.
        ``scenario.toml: users[0].r: must be > 0 and <= 10,000 m (got -1.0)``,
        ``scenario.toml: unknown key 'antenas'`` or ``missing.toml: no such file``.

    See Also
    --------
    parse_scenario : the same from an already parsed dict.
    """
    cfg = load_config(path)
    try:
        return cfg.to_scenario()
    except ScenarioError as e:
        raise e.with_source(path) from e.__cause__
