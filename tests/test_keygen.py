"""The whole protocol: probing, quantisation, reconciliation, confirmation, amplification (nfkg.protocol.keygen)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from nfkg.protocol import keygen as kg
from nfkg.model.channel import ULA
from nfkg.cli import main
from nfkg.schemes.precoding import evaluate
from nfkg.model.scenario import Scenario

FIELDS = {"quantized_bits", "kdr", "eve_kdr", "leaked_bits", "efficiency", "key_bits", "keys_match",
          "eve_agreement", "nist_passed", "bits_per_probing", "one_way_bound", "analytic_skr", "key_sha256",
          "direction", "gaussian_one_way_bs", "gaussian_one_way_user", "fraction_of_skr", "fraction_of_bound",
          "fraction_of_one_way_bs", "fraction_of_one_way_user", "aep_key_bits", "asymptotic_key_bits", "status"}


def _scen(de=0.02, pt=20.0, n_ant=256, dpsi=0.0):
    return Scenario.from_dbm(ULA(n_ant, 30e9), users=[(12.0, -0.6), (13.0, 0.6)],
                             eves=[(12.0 - de, -0.6 + dpsi), (13.0 - de, 0.6 + dpsi)], pt_dbm=pt)


def _aside(n_ant=64):
    """Eves 0.2 rad off their users' angle: the user has the advantage, keys come out."""
    return _scen(0.0, 20.0, n_ant, dpsi=0.2)


@pytest.fixture(scope="module")
def far():
    s = _aside(256)
    return s, kg.keygen(s, "svd", rounds=30_000, seed=3, quantizer="one-bit", direction="bs", finite_size="aep")


def test_json_fields_and_types(far):
    _, res = far
    d = json.loads(res.to_json())
    assert d["scheme"] == "svd" and d["rounds"] == 30_000 and d["seed"] == 3 and d["quantizer"] == "one-bit"
    assert d["direction"] == "bs" and d["finite_size"] == "aep"
    assert len(d["users"]) == 2
    for u in d["users"]:
        assert FIELDS <= set(u)
        assert u["quantized_bits"] == 60_000 and len(u["key_sha256"]) == 64


def test_far_eves_give_matching_keys_eve_knows_nothing(far):
    s, res = far
    for u in res.users:
        assert u.key_bits > 0 and u.keys_match
        assert u.bits_per_probing <= u.one_way_bound + 1e-12  # never above what one-way allows
        assert u.one_way_bound <= u.analytic_skr + 1e-9
        assert abs(u.eve_agreement - 0.5) < 4 / math.sqrt(u.key_bits) + 0.01  # Eve: a coin flip per bit
        assert u.failed_blocks < u.blocks


def test_same_seed_same_key():
    s = _aside()
    a = kg.keygen(s, "svd", rounds=4000, seed=11, finite_size=False)
    b = kg.keygen(s, "svd", rounds=4000, seed=11, finite_size=False)
    c = kg.keygen(s, "svd", rounds=4000, seed=12, finite_size=False)
    assert [u.key_sha256 for u in a.users] == [u.key_sha256 for u in b.users]
    assert all(np.array_equal(x.key, y.key) for x, y in zip(a.users, b.users))
    assert [u.key_sha256 for u in a.users] != [u.key_sha256 for u in c.users]
    assert all(u.key_bits > 0 for u in a.users)


def test_close_eve_one_bit_direct_gives_no_key_honestly():
    """J5, one-bit from the BS: Eve 2 cm from her user knows z_a as well as the user; no key, said so."""
    res = kg.keygen(_scen(0.02, 20.0), "svd-pa", rounds=4000, seed=1, quantizer="one-bit", direction="bs")
    for u in res.users:
        assert u.analytic_skr > 0.5 and u.one_way_bound < 0.01
        assert u.key_bits == 0 and u.keys_match and u.nist_passed == "too short" and u.status.startswith("no key")
        assert abs(u.eve_kdr - u.kdr) < 0.01


@pytest.fixture(scope="module")
def j5_opt():
    s = _scen(0.02, 20.0)
    return s, kg.keygen(s, "svd-opt", rounds=20_000, seed=2)


def test_j5_reverse_multilevel_gives_a_key(j5_opt):
    """J5, svd-opt: from the BS nothing (I(a;b) - I(a;e) < 0.01), from the user a key of at least 40 %
    of the Gaussian one-way rate at 20,000 probings, with finite-size terms; keys match; Eve a coin flip."""
    _, res = j5_opt
    for u in res.users:
        assert u.direction == "user" and u.quantizer == "multilevel" and u.bits_per_sample >= 8
        assert u.gaussian_one_way_bs < 0.01 < 0.9 < u.gaussian_one_way_user
        assert u.keys_match and u.failed_blocks == 0 and u.status == "ok"
        assert u.bits_per_probing >= 0.4 * u.gaussian_one_way_user
        assert u.bits_per_probing <= u.one_way_bound <= u.gaussian_one_way_user + 1e-9
        assert abs(u.eve_agreement - 0.5) < 5 / math.sqrt(u.key_bits)
        assert u.fraction_of_one_way_user == pytest.approx(u.bits_per_probing / u.gaussian_one_way_user)
        assert u.fraction_of_one_way_bs is None


def test_auto_direction_takes_the_larger_gaussian_bound(j5_opt):
    """'auto' agrees with the closed-form Gaussian one-way rates where they differ clearly."""
    s = _aside(64)
    for scen, res in ((j5_opt[0], j5_opt[1]), (s, kg.keygen(s, "svd", rounds=2000, seed=1, quantizer="one-bit"))):
        ev = evaluate(scen, res.scheme)
        for k, u in enumerate(res.users):
            c = ev.cov[k]
            i = [-math.log2(1 - abs(c[x, y]) ** 2 / (c[x, x].real * c[y, y].real)) for x, y in ((0, 1), (0, 2), (1, 2))]
            bs, user = i[0] - i[1], i[0] - i[2]
            if abs(bs - user) > 0.1:
                assert u.direction == ("user" if user > bs else "bs")


def test_finite_size_lengths_are_ordered(j5_opt):
    """Renyi length <= asymptotic length; the Renyi bound beats the AEP term (the AEP gives nothing here)."""
    _, res = j5_opt
    for u in res.users:
        assert u.aep_key_bits < u.key_bits <= u.asymptotic_key_bits


def test_tampered_syndrome_is_caught_by_confirmation(monkeypatch):
    """A decoder that 'succeeds' on wrong bits is caught by the tag: the block is discarded and counted."""
    from nfkg.protocol import reconciliation

    real = reconciliation.reconcile

    def tampered(bits_a, bits_b, p_err, seed, **kw):
        r = real(bits_a, bits_b, p_err, seed, **kw)
        bad = r.bits.copy()
        bad[7] ^= 1                                       # one flipped bit after a "successful" decode
        return reconciliation.Reconciled(bad, True, r.leaked_bits, r.increments, r.rate_history, r.message,
                                         r.f, r.nit, r.code)

    monkeypatch.setattr(reconciliation, "reconcile", tampered)
    for q in ("one-bit", "multilevel"):
        res = kg.keygen(_aside(), "svd", rounds=4000, seed=2, finite_size=False, quantizer=q)
        for u in res.users:
            assert u.failed_blocks == u.blocks == 1 and u.key_bits == 0 and u.keys_match
            assert "discarded" in u.status


def test_reconciliation_that_must_fail_says_so(monkeypatch):
    """The user's soft information claims far fewer errors than there are: decoding fails, no key."""
    orig = kg.bit_posteriors

    def overconfident(z, c_aa, c_xx, c_ax, bits=1, keep=None):
        p = orig(z, c_aa, c_xx, c_ax, bits, keep)
        flip = np.random.default_rng(0).random(p.size) < 0.3    # 30 % of the user's bits wrong ...
        return np.where(flip, 1 - np.round(p), np.round(p)) * 0.98 + 0.01  # ... claimed at 1 % error

    monkeypatch.setattr("nfkg.protocol.keygen_blocks.bit_posteriors", overconfident)  # read by the one-bit blocks
    res = kg.keygen(_aside(), "svd", rounds=3000, seed=5, finite_size=False, quantizer="one-bit")
    for u in res.users:
        assert u.failed_blocks == u.blocks and u.key_bits == 0 and u.keys_match


def test_multi_bit_quantizer():
    res = kg.keygen(_aside(), "svd", rounds=4000, seed=3, quantizer="multi-bit", bits=2,
                    finite_size=False)
    for u in res.users:
        assert u.quantized_bits == 2 * 2 * 4000 and u.keys_match
    assert res.params["bits_per_sample"] == 2


def test_bad_options():
    s = _aside()
    with pytest.raises(ValueError, match="quantizer"):
        kg.keygen(s, "svd", rounds=100, quantizer="three-bit")
    with pytest.raises(ValueError, match="block_bits"):
        kg.keygen(s, "svd", rounds=100, block_bits=10)
    with pytest.raises(ValueError, match="direction"):
        kg.keygen(s, "svd", rounds=100, direction="eve")
    with pytest.raises(ValueError, match="finite_size"):
        kg.keygen(s, "svd", rounds=100, finite_size="exact")
    with pytest.raises(ValueError, match="step"):
        kg.keygen(s, "svd", rounds=100, step=-1.0)


def test_cli_keygen(tmp_path, capsys):
    p = tmp_path / "s.toml"
    p.write_text("antennas = 64\npt_dbm = 30\nusers = [{r = 12.0, psi = -0.6}, {r = 13.0, psi = 0.6}]\n"
                 "eves = [{r = 12.0, psi = -0.4}, {r = 13.0, psi = 0.8}]\n")
    out = tmp_path / "k.json"
    assert main(["keygen", str(p), "--scheme", "svd", "--rounds", "3000", "--seed", "4", "--json", str(out),
                 "--quiet", "--quantizer", "one-bit"]) == 0
    text = capsys.readouterr().out
    assert "scheme svd, 3,000 probings, seed 4, one-bit quantiser, direction auto" in text and "wrote" in text
    assert "from" in text and "1-way user" in text
    d = json.loads(out.read_text())
    assert {"scheme", "rounds", "seed", "users"} <= set(d) and FIELDS <= set(d["users"][0])
    assert main(["keygen", str(p), "--quantizer", "two-bit"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--quantizer" in err[0]


def test_cli_keygen_says_why_there_is_no_key(tmp_path, capsys):
    """The terminal table states the direction and, when no key results, the status line."""
    p = tmp_path / "s.toml"
    p.write_text("antennas = 256\npt_dbm = 20\nusers = [{r = 12.0, psi = -0.6}]\neves = [{r = 11.98, psi = -0.6}]\n")
    assert main(["keygen", str(p), "--scheme", "svd-pa", "--rounds", "2000", "--quantizer", "one-bit",
                 "--direction", "bs", "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "direction bs" in text and "user 1: no key" in text


@pytest.mark.parametrize("quantizer", ["one-bit", "multilevel"])
def test_low_kdr_codes_are_built_issue_case(quantizer):
    """Issue 18 item 1: KDR ~2e-4 (user and Eve 0.2 rad apart at 12.2 m) used to stop with 'could not
    remove repeated edges from the parity-check matrix' (seeds 0, 2, 5)."""
    s = Scenario.from_dbm(ULA(256, 30e9), users=[(12.2, 0.2)], eves=[(12.2, 0.4)], pt_dbm=20.0)
    for seed in (0, 2, 5):
        res = kg.keygen(s, "svd-pa", rounds=5000, seed=seed, quantizer=quantizer)
        u = res.users[0]
        assert u.keys_match and u.blocks >= 1                   # no exception; a failed decode is counted
        assert (u.failed_blocks == 0) == ("discarded" not in u.status)


def test_parallel_users_give_the_same_keys():
    """Users in threads or one after the other: the same keys and records (each user's codes, tags
    and hashes come from the seed alone)."""
    s = _scen(0.02, 20.0)
    one = kg.keygen(s, "svd-opt", rounds=6000, seed=4, workers=1)
    two = kg.keygen(s, "svd-opt", rounds=6000, seed=4, workers=2)
    for a, b in zip(one.users, two.users):
        assert a.key_sha256 == b.key_sha256 and a.key_bits > 0
        assert a.levels == b.levels
    with pytest.raises(ValueError, match="workers"):
        kg.keygen(s, "svd-opt", rounds=100, seed=4, workers=0)


def test_tail_test_against_monte_carlo():
    """P(|e + delta| > 4.5) of _tail_rate against a Monte Carlo of the Gaussian residual plus the
    cell's uniform offset; _heavy accepts Gaussian counts and flags svd-mf-like ones."""
    rng = np.random.default_rng(0)
    n, step = 4_000_000, 0.4
    r = rng.standard_normal(n) + (rng.random(n) - 0.5) * step
    mc = float(np.mean(np.abs(r) > kg.TAIL_TEST))
    p = kg._tail_rate(step)
    assert mc == pytest.approx(p, rel=5 * math.sqrt(1 / (n * p)))
    expected = 2e5 * p                                  # two blocks of 10^5 samples
    assert not kg._heavy(int(round(expected)), expected)
    assert not kg._heavy(int(expected + 3 * math.sqrt(expected)), expected)
    assert kg._heavy(int(2e5 * 1e-4), expected)         # svd-mf: P(|r| > 4.5) about 1e-4
