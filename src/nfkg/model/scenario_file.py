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
parse_config, load_config
    Dict / TOML file to :class:`~nfkg.model.scenario_config.ScenarioConfig`.
parse_scenario, load_scenario
    Dict / TOML file to a numeric :class:`~nfkg.model.scenario.Scenario`.
MAX_FILE_BYTES
    Most bytes of a scenario file.
NodeConfig, ScenarioConfig, DBM_RANGE, NOISE_DBM_RANGE
    The schema of the file's tables, re-exported from :mod:`nfkg.model.scenario_config`.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from . import limits
from . import scenario_config as _config
from .scenario import Scenario
from .scenario_config import NodeConfig, ScenarioConfig

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

# The schema's constants, importable from here too (the same objects as in nfkg.model.scenario_config).
#: Accepted range [dBm] of ``pt_dbm`` and ``ue_dbm``: :data:`nfkg.model.scenario_config.DBM_RANGE`.
DBM_RANGE = _config.DBM_RANGE
#: Accepted range [dBm] of the noise powers: :data:`nfkg.model.scenario_config.NOISE_DBM_RANGE`.
NOISE_DBM_RANGE = _config.NOISE_DBM_RANGE


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
