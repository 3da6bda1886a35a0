"""Tanner-graph helpers of the LDPC construction (nfkg.protocol.ldpc_graph): the sorts and the
search for repeated edges and 4-cycles, against plain-Python references."""

from __future__ import annotations

from collections import defaultdict
from itertools import combinations

import numpy as np
import pytest

from nfkg.protocol import ldpc_graph as g
from nfkg.protocol.ldpc_codes import extend_code, make_code


@pytest.mark.parametrize("size,high", [(0, 5), (1, 5), (1000, 7), (5000, 10 ** 12), (3000, 2)])
def test_stable_order_is_the_stable_argsort(size, high):
    key = np.random.default_rng(size).integers(0, high, size)
    assert np.array_equal(g._stable_order(key), np.argsort(key, kind="stable"))


def test_later_copies_against_a_dictionary():
    key = np.random.default_rng(1).integers(0, 300, 2000)
    seen, want = set(), []
    for j, k in enumerate(key.tolist()):
        if k in seen:
            want.append(j)
        seen.add(k)
    got = g._later_copies(key)
    assert sorted(got.tolist()) == want
    assert g._later_copies(np.arange(10)).size == 0


def _bad_edges_reference(rows, cols, m, movable, cycles, touched):
    """The edges _bad_edges moves, by dictionaries: the later copies of repeated edges, else per
    row pair shared by several columns (pairs listed column by column in order of degree, then
    column, then pair), every column after the first, fixed columns first; its movable edge."""
    look = [i for i in range(rows.size) if movable[i] and (touched is None or touched[rows[i]])]
    seen, dup = set(), set()
    for i in look:
        k = (int(rows[i]), int(cols[i]))
        if k in seen:
            dup.add(i)
        seen.add(k)
    if dup or not cycles:
        return sorted(dup)
    open_row = np.zeros(m, bool)
    open_row[rows[movable]] = True
    edges = defaultdict(list)
    for i in np.argsort(cols, kind="stable").tolist():
        edges[int(cols[i])].append(i)
    listed = []
    deg = {c: len(e) for c, e in edges.items()}
    for d in sorted(set(deg.values())):
        for c in sorted(c for c in edges if deg[c] == d and d >= 2):
            for e1, e2 in combinations(edges[c], 2):
                keep = movable[e1] or movable[e2] or (open_row[rows[e1]] and open_row[rows[e2]])
                if touched is not None:
                    keep = keep and (touched[rows[e1]] or touched[rows[e2]])
                if keep:
                    listed.append((int(rows[e1]), int(rows[e2]), bool(movable[e1] or movable[e2]), e1, e2))
    by_pair = defaultdict(list)
    for r1, r2, mov, e1, e2 in listed:
        by_pair[(r1, r2)].append((mov, e1, e2))
    out = set()
    for entries in by_pair.values():
        entries = sorted(entries, key=lambda t: t[0])          # stable: fixed first, then listing order
        for mov, e1, e2 in entries[1:]:
            e = e2 if movable[e2] else e1
            if movable[e]:
                out.add(e)
    return sorted(out)


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("seed", range(6))
def test_bad_edges_against_the_reference(seed, compiled, monkeypatch):
    """The search (NumPy, and numba where installed) against plain dictionaries."""
    if compiled:
        pytest.importorskip("numba")
        monkeypatch.delenv("NFKG_NO_NUMBA", raising=False)
    else:
        monkeypatch.setenv("NFKG_NO_NUMBA", "1")
    assert g._compiled() == compiled
    rng = np.random.default_rng(seed)
    m, n = 12, 30
    deg = rng.integers(1, 5, n)
    cols = np.repeat(np.arange(n), deg)
    rows = rng.integers(0, m, cols.size)
    o = np.argsort(rows, kind="stable")
    rows, cols = rows[o], cols[o]
    movable = rng.random(rows.size) < 0.8
    touched = None if seed % 2 else rng.random(m) < 0.5
    for cyc in (False, True):
        rows_u = rows.copy()
        if cyc:                                  # drop the repeated edges: the cycle search runs
            key = rows_u * n + cols
            _, first = np.unique(key, return_index=True)
            keep = np.zeros(rows.size, bool)
            keep[first] = True
            rows_u, cols_u, mov_u = rows_u[keep], cols[keep], movable[keep]
        else:
            cols_u, mov_u = cols, movable
        got, looked = g._bad_edges(rows_u, cols_u, m, n, mov_u, cyc, touched)
        assert got.tolist() == _bad_edges_reference(rows_u, cols_u, m, mov_u, cyc, touched)
        assert looked == cyc


def test_codes_without_4_cycles_where_few():
    """A code whose random graph has few 4-cycles comes out with none (brute force over row pairs)."""
    code = make_code(600, 300, seed=4, column_weight={2: 0.3, 3: 0.6, 6: 0.1}, cache=False)
    H = code.H.toarray().astype(int)
    overlap = H @ H.T
    np.fill_diagonal(overlap, 0)
    assert overlap.max() <= 1
    assert set(H.sum(axis=0).tolist()) <= {2, 3, 6}


def test_columns_by_degree_is_the_lexsort():
    """extend_code's column order (decreasing degree, then the random key, then index) equals
    NumPy's two-key lexsort, equal keys included."""
    from nfkg.protocol.ldpc_codes import _by_degree

    rng = np.random.default_rng(2)
    deg = rng.integers(1, 6, 5000)
    for r in (rng.random(5000), np.round(rng.random(5000), 2)):      # distinct keys; many ties
        assert np.array_equal(_by_degree(deg, r), np.lexsort((r, -deg)))


def test_untangle_stops_only_where_a_full_look_finds_nothing(monkeypatch):
    """_untangle stops after an empty look at the touched rows without the full look when every
    4-cycle found since the last full look had an edge moved; the full look it saves finds
    nothing (checked on the final graph of each construction)."""
    calls = []
    orig = g._find_bad

    def spy(rows, cols, m, n, movable, cycles, touched):
        out = orig(rows, cols, m, n, movable, cycles, touched)
        calls.append((rows, cols.copy(), m, n, movable, cycles, touched, out))
        return out

    monkeypatch.setattr(g, "_find_bad", spy)
    skipped = 0
    cases = [(3000, 1200, {2: 0.3, 3: 0.55, 12: 0.15}), (4000, 1700, {2: 0.4, 3: 0.45, 8: 0.15}),
             (2000, 900, 3), (6000, 2500, {2: 0.2, 3: 0.67, 20: 0.13})]
    for seed, (n, m, w) in enumerate(cases):
        calls.clear()
        make_code(n, m, seed, w, cache=False)
        rows, cols, m_, n_, movable, cycles, touched, (bad, looked, _) = calls[-1]
        if cycles and looked and touched is not None and bad.size == 0:
            skipped += 1
            full, _ = g._bad_edges(rows, cols, m_, n_, movable, True, None)
            assert full.size == 0
    assert skipped >= 2


def test_compiled_construction_gives_the_same_codes(monkeypatch):
    """make_code / extend_code with the numba search (fast extra) build NumPy's matrices exactly."""
    pytest.importorskip("numba")
    cases = [(4000, 1700, {2: 0.4, 3: 0.45, 12: 0.15}), (3000, 120, {2: 0.003, 3: 0.887, 20: 0.11}),
             (2000, 900, 3), (5000, 300, {2: 0.05, 3: 0.7, 12: 0.25})]
    built = {}
    for flag in ("1", ""):
        monkeypatch.setenv("NFKG_NO_NUMBA", flag)
        out = []
        for seed, (n, m, w) in enumerate(cases):
            code = make_code(n, m, seed, w, cache=False)
            ext = extend_code(code, 40, cache=False)
            out += [code.H.indptr.tobytes(), code.H.indices.tobytes(), ext.H.indptr.tobytes(), ext.H.indices.tobytes()]
        built[flag] = out
    assert built["1"] == built[""]
