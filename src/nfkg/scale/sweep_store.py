r"""Sweep results on disk: chunk files, their identity, the manifest and the results table.

Results are written chunk by chunk (``OUT/chunks/chunk-NNNNNN.parquet``, each written to
a temporary name and renamed, so a chunk file is complete or absent), each carrying in its
Parquet metadata the sweep's hash, its chunk number and its points; ``OUT/sweep.json``
records the sweep's hash. :mod:`nfkg.scale.sweep` decides what to compute; this module
only reads, checks and writes. Parquet needs pyarrow (the ``scale`` extra), imported
when a file is touched.

Contents
--------
chunk_path, chunk_identity, write_rows, chunk_belongs, rows_belong, manifest, read_chunk,
concat_checked, write_results, read_results
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from .._extras import load as _load_extra
from .sweep_spec import FORMAT, Point, Sweep, SweepError

__all__ = ["chunk_path", "chunk_identity", "write_rows", "chunk_belongs", "rows_belong", "manifest",
           "read_chunk", "concat_checked", "write_results", "read_results"]

_WHAT = "writing and reading a sweep's Parquet files"


def _pa():
    return _load_extra("pyarrow", "scale", _WHAT)


def _pq():
    _pa()
    return _load_extra("pyarrow.parquet", "scale", _WHAT)


def chunk_path(out: Path, c: int) -> Path:
    """``OUT/chunks/chunk-NNNNNN.parquet``: the file of chunk ``c``."""
    return out / "chunks" / f"chunk-{c:06d}.parquet"


_META_KEY = b"nfkg.scale.sweep"


def chunk_identity(sweep: Sweep, c: int, points: tuple[Point, ...]) -> dict[str, Any]:
    """What a chunk file carries (Parquet metadata) to say which sweep and points its rows are."""
    return {"digest": sweep.digest, "chunk": c, "first": points[0].index, "points": len(points),
            "schemes": list(sweep.config.schemes)}


def write_rows(rows: list[dict[str, Any]], path: Path, identity: dict[str, Any] | None = None) -> None:
    """Write a chunk's rows to ``path`` (through a temporary name: complete or absent)."""
    pa, pq = _pa(), _pq()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".parquet.tmp")
    table = pa.Table.from_pylist(rows)
    if identity is not None:
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), _META_KEY: json.dumps(identity)})
    pq.write_table(table, tmp)
    os.replace(tmp, path)


def chunk_belongs(path: Path, identity: dict[str, Any]) -> bool:
    """Whether the chunk file at ``path`` says it holds ``identity``'s rows (its metadata only is read).

    A file of another sweep, of another chunk of this sweep (copied or renamed), of an
    older nfkg (no identity) or unreadable does not belong: it is computed again.
    """
    pq = _pq()
    try:
        meta = pq.read_metadata(path)
        kv = meta.metadata or {}
        return (json.loads(kv[_META_KEY]) == identity
                and meta.num_rows == identity["points"] * len(identity["schemes"]))
    except (OSError, ValueError, KeyError, TypeError):
        return False


def rows_belong(table, points: tuple[Point, ...], schemes: list[str]) -> bool:
    """Whether a chunk table's rows are exactly (point, scheme) for its points x schemes, in order."""
    if table is None:
        return False
    names = table.column_names
    if "point" not in names or "scheme" not in names or table.num_rows != len(points) * len(schemes):
        return False
    want_p = np.repeat([p.index for p in points], len(schemes))
    want_s = list(schemes) * len(points)
    return bool(np.array_equal(table["point"].to_numpy(zero_copy_only=False), want_p)
                and table["scheme"].to_pylist() == want_s)


def manifest(sweep: Sweep, out: Path) -> None:
    """Write ``OUT/sweep.json`` (the sweep's hash), or refuse a folder holding another sweep."""
    man = out / "sweep.json"
    info = {"format": FORMAT, "digest": sweep.digest, "points": len(sweep.points),
            "chunks": len(sweep.chunks()), "schemes": sweep.config.schemes, "source": sweep.source}
    if man.exists():
        try:
            old = json.loads(man.read_text())
        except (OSError, ValueError):
            old = {}
        if old.get("digest") != sweep.digest:
            raise SweepError(f"out: {out} holds the results of a different sweep; use another --out "
                             "(or delete the folder)")
        return
    out.mkdir(parents=True, exist_ok=True)
    tmp = man.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(info, indent=1))
    os.replace(tmp, man)


def read_chunk(out: Path, c: int):
    """Chunk ``c``'s table (a :class:`pyarrow.Table`), or None when it cannot be read."""
    pq = _pq()
    try:
        return pq.read_table(chunk_path(out, c))
    except (OSError, ValueError):
        return None


def concat_checked(tables: list, sweep: Sweep, out: Path):
    """The chunks' tables as one, checked to hold exactly one row per point and scheme."""
    pa = _pa()
    schemes = list(sweep.config.schemes)
    table = pa.concat_tables(tables, promote_options="permissive")
    n_p, n_s = len(sweep.points), len(schemes)
    code = table["point"].to_numpy(zero_copy_only=False).astype(np.int64) * n_s + np.array(
        [schemes.index(v) if v in schemes else n_s for v in table["scheme"].to_pylist()], np.int64)
    if table.num_rows != n_p * n_s or not np.array_equal(np.sort(code), np.arange(n_p * n_s)):
        raise SweepError(f"out: the chunks of {out} do not hold exactly one row per point and scheme "
                         f"({table.num_rows} rows for {n_p} points x {n_s} schemes); delete the folder and rerun")
    return table


def write_results(table, out: Path, csv: bool = False) -> Path:
    """Write ``OUT/results.parquet`` (and ``results.csv``, list columns as JSON); return the table's path."""
    pa, pq = _pa(), _pq()
    path = out / "results.parquet"
    tmp = out / "results.parquet.tmp"
    pq.write_table(table.replace_schema_metadata(None), tmp)
    os.replace(tmp, path)
    if csv:
        pcsv = _load_extra("pyarrow.csv", "scale", _WHAT)
        cols = {}
        for name in table.column_names:
            col = table[name]
            if pa.types.is_list(col.type):
                col = pa.array([None if v is None else json.dumps(v) for v in col.to_pylist()], pa.string())
            cols[name] = col
        ctmp = out / "results.csv.tmp"
        pcsv.write_csv(pa.table(cols), ctmp)
        os.replace(ctmp, out / "results.csv")
    return path


def read_results(out_dir: str | os.PathLike):
    """The results table of a finished sweep as a :class:`pandas.DataFrame`."""
    pd = _load_extra("pandas", "scale", "reading a sweep's results as a DataFrame")
    _pa()
    return pd.read_parquet(Path(out_dir) / "results.parquet")
