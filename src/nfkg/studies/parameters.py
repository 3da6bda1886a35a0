r"""A figure's parameters: the preset with overrides, checked before anything is computed.

:func:`resolve_params` replaces preset entries by overrides, checks each against the
bounds of :data:`nfkg.model.limits.FIGURE_LIMITS` (the scenario file's) and checks the
nodes the figure will place (none on an antenna, derived positions in range), naming the
figure's key in every error (``j6.dr: r_e = r_b + dr must be ...``).

Contents
--------
resolve_params
    The parameters of one figure, overrides applied and checked.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from ..model.channel import ULA
from ..model.limits import FIGURE_LIMITS, LIMITS, MAX_USERS, LimitError, check_array, check_clearance, show
from ..schemes.precoding import get_scheme
from .presets import _NODE_KEYS, get_preset

__all__ = ["resolve_params"]


def _coerce(fig_id: str, key: str, default: Any, value: Any, is_x: bool) -> Any:
    """Check an override against :data:`nfkg.model.limits.FIGURE_LIMITS` and convert it to the type
    of the preset entry it replaces; ``ValueError`` naming ``fig_id.key`` otherwise."""
    where = f"{fig_id}.{key}"
    if key == "schemes":
        if not isinstance(value, (str, list, tuple)):
            raise ValueError(f"{where}: must be a scheme name or a list of names, got {show(value)}")
        names = (value,) if isinstance(value, str) else tuple(value)
        if not names:
            raise ValueError(f"{where}: at least one scheme is required")
        for name in names:
            if not isinstance(name, str):
                raise ValueError(f"{where}: scheme names must be strings, got {show(name)}")
            try:
                get_scheme(name)
            except ValueError as e:
                raise ValueError(f"{where}: {str(e).removeprefix('scheme: ')}") from None
        return names
    if key == "shaping":
        if not isinstance(value, str) or value not in ("matched", "isotropic"):
            raise ValueError(f"{where}: must be 'matched' or 'isotropic', got {show(value)}")
        return str(value)
    lim = FIGURE_LIMITS.get(key)
    if lim is None:  # a preset key without a row: refuse rather than guess
        raise ValueError(f"{where}: cannot be overridden")
    arr = check_array(lim, value, where)  # types, finiteness and range, naming fig_id.key[i]
    what = "integer" if lim.integer else "number"
    if arr.size == 0:
        raise ValueError(f"{where}: must be at least one {what}, got an empty list")
    if is_x:
        if arr.ndim > 1:
            raise ValueError(f"{where}: the x-axis must be a scalar or a 1-D sequence")
        return np.atleast_1d(arr)
    if arr.ndim > 1:
        raise ValueError(f"{where}: must be a {what} or a list of {what}s, got {show(value)}")
    if lim.integer:
        if isinstance(default, tuple):
            return tuple(int(v) for v in arr.ravel())
        if arr.size != 1:
            raise ValueError(f"{where}: must be a single integer, got {show(value)}")
        return int(arr.ravel()[0])
    if isinstance(default, tuple) or (key in _NODE_KEYS and arr.ndim == 1):
        return tuple(float(v) for v in arr.ravel())
    if arr.ndim != 0:
        raise ValueError(f"{where}: must be a single number, got {show(value)}")
    return float(arr)


def _check_geometry(fig_id: str, params: Mapping[str, Any], x_key: str) -> None:
    """The nodes the figure will place, checked as :meth:`Scenario.validate` would, but
    naming the figure's keys (``j6.dr: r_e = r_b + dr must be ...``)."""
    node_keys = [k for k in _NODE_KEYS if k in params and k != x_key]
    sizes = {k: np.atleast_1d(params[k]).size for k in node_keys}
    counts = params.get("n_users")
    if counts is not None:
        for k in np.atleast_1d(counts):
            short = [key for key, n in sizes.items() if n < k]
            if short:
                raise ValueError(f"{fig_id}.n_users: K = {int(k)} needs at least {int(k)} entries in "
                                 f"{', '.join(node_keys)} ({short[0]} has {sizes[short[0]]})")
    elif len(set(sizes.values())) > 1:
        common = max(set(sizes.values()), key=list(sizes.values()).count)
        ref = next(k for k in node_keys if sizes[k] == common)
        odd = next(k for k in node_keys if sizes[k] != common)
        raise ValueError(f"{fig_id}.{odd}: need one value per user like {ref} "
                         f"(got {sizes[odd]} value(s), {ref} has {sizes[ref]})")
    for key, n in sizes.items():
        if n > MAX_USERS:
            raise ValueError(f"{fig_id}.{key}: at most {MAX_USERS} users are supported (got {n} values)")
    x = np.atleast_1d(np.asarray(params[x_key]))
    derived = {"dr": ("r_e = r_b + dr", 0, "r"), "dpsi": ("psi_e = psi_b + dpsi", 1, "psi")}
    ant_values = x if x_key == "n_ant" else np.atleast_1d(params["n_ant"])
    spacing = ULA(1, float(params["carrier_ghz"]) * 1e9, float(params["spacing_wavelengths"])).spacing
    note_x = x_key in derived or x_key in _NODE_KEYS
    for k in (np.atleast_1d(counts) if counts is not None else [None]):
        users, eves = _node_grid(params, x_key, x, None if k is None else int(k))
        if x_key in derived:
            text, col, row = derived[x_key]
            bad = LIMITS[row].reasons(eves[..., col])
            if np.any(bad):
                i, user = (int(v) for v in np.argwhere(bad)[0])
                raise ValueError(f"{fig_id}.{x_key}: {text} must be {LIMITS[row].range_text()} (got "
                                 f"{float(eves[i, user, col])!r} for user {user + 1} at {x_key} = {float(x[i])!r})")
        eve_key = x_key if x_key in ("r_e", "psi_e", "dr", "dpsi") else "r_e"
        for n in np.unique(ant_values):
            for who, key, nodes in (("user", "r_b", users), ("Eve", eve_key, eves)):
                def at(idx: tuple[int, ...], who=who, key=key, nodes=nodes) -> str:
                    r, psi = nodes[idx[0], idx[1]]
                    return (f"{fig_id}.{key}: {who} {idx[1] + 1} at r = {r:g} m, psi = {psi:g} rad"
                            f"{f' ({x_key} = {float(x[idx[0]])!r})' if note_x else ''}")
                try:
                    check_clearance(nodes[..., 0], nodes[..., 1], int(n), spacing, at,
                                    context=f" with n_ant = {int(n)}")
                except LimitError as e:
                    raise ValueError(f"{e.name} {e.reason}") from None


def resolve_params(fig_id: str, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The preset parameters of ``fig_id`` with ``overrides`` replacing entries.

    Parameters
    ----------
    fig_id : str
    overrides : mapping, optional
        ``{key: value}``; every key must be a key of the preset.

    Raises
    ------
    ValueError
        For an unknown figure, an unknown key, a value of the wrong type or outside the
        bounds of :data:`nfkg.model.limits.FIGURE_LIMITS` (the same as the scenario file's:
        ``n_ant`` is checked as ``antennas``, ``r_b``/``r_e`` as ``r``, ...), or nodes
        that would sit on an antenna; the message names ``fig_id.key``.

    >>> resolve_params("c3", {"pt_dbm": 25})["pt_dbm"]
    array([25.])
    """
    preset = get_preset(fig_id)
    params = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in preset.params.items()}
    for key, value in dict(overrides or {}).items():
        if key not in params:
            raise ValueError(f"overrides: unknown key {key!r} for figure {fig_id}; "
                             f"known keys: {', '.join(sorted(params))}")
        params[key] = _coerce(fig_id, key, params[key], value, key == preset.x_key)
    _check_geometry(fig_id, params, preset.x_key)
    return params


# --------------------------------------------------------------------------- nodes
def _nodes(params: Mapping[str, Any], x_key: str, n_users: int | None) -> dict[str, np.ndarray]:
    """Per-user node arrays ``(K,)`` from the preset's scalars/tuples (first ``n_users`` entries)."""
    out = {}
    for key in _NODE_KEYS:
        if key in params and key != x_key:
            v = np.atleast_1d(np.asarray(params[key], dtype=float))
            out[key] = v if n_users is None else v[:n_users]
    k = {v.size for v in out.values()}
    if n_users is not None and any(v.size < n_users for v in out.values()):
        raise ValueError(f"n_users: K = {n_users} needs at least {n_users} entries in "
                         f"{', '.join(_NODE_KEYS)}")
    if len(k) > 1:
        sizes = ", ".join(f"{key}={v.size}" for key, v in out.items())
        raise ValueError(f"r_b: r_b, psi_b, r_e, psi_e need one value per user, got {sizes}")
    return out


def _node_grid(params: Mapping[str, Any], x_key: str, x: np.ndarray,
               n_users: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Users' and Eves' ``(r, psi)`` over the x-axis, each ``(len(x) or 1, K, 2)``."""
    nodes = _nodes(params, x_key, n_users)
    xc = np.asarray(x, dtype=float)[:, None]
    if x_key in ("r_e", "psi_e"):
        nodes[x_key] = xc
    elif x_key == "dpsi":
        nodes["psi_e"] = nodes["psi_b"] + xc
    elif x_key == "dr":
        nodes["r_e"] = nodes["r_b"] + xc
    elif x_key not in ("n_ant", "pt_dbm"):
        raise ValueError(f"x_key: unknown sweep {x_key!r}")
    shape = (x.size if x_key not in ("n_ant", "pt_dbm") else 1, nodes["r_b"].size)
    b = {k: np.broadcast_to(v, shape) for k, v in nodes.items()}
    return np.stack([b["r_b"], b["psi_b"]], axis=-1), np.stack([b["r_e"], b["psi_e"]], axis=-1)
