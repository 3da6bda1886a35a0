"""SVD w/ DLPA: KGSVD-Net's loss, outputs, files, training and the registered scheme (J V).

The forward pass runs in NumPy (no torch); the tests marked ``needs_torch`` (training, the
torch loss, the comparison with torch's forward pass) are skipped where torch is absent.
"""

from __future__ import annotations

import copy
import json
import shutil

import numpy as np
import pytest

from nfkg.schemes import dlpa
from nfkg.model.channel import ULA
from nfkg.cli import main
from nfkg.schemes.optimum import true_skr
from nfkg.schemes.precoding import evaluate, precode, true_objective
from nfkg.model.scenario import Scenario
from nfkg.schemes.training import dataset, sample_scenarios, train

try:
    import torch

    from nfkg.schemes.network import KGSVDNet, sum_skr, user_skr
except ImportError:  # the light install: no 'train' extra
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="needs torch (pip install 'nfkg[train]')")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A tiny K = 2 model trained for a few epochs (seconds)."""
    if torch is None:
        pytest.skip("needs torch (pip install 'nfkg[train]')")
    out = tmp_path_factory.mktemp("tiny")
    res = train(2, 7, out, n_train=512, n_val=256, hidden=(16, 16), epochs=6, patience=50, batch_size=64)
    return res, out


def _random_instances(k, n, seed, part="test"):
    x, inst, scens = dataset(k, n, seed, part)
    return x, inst, scens


# --------------------------------------------------------------------------- the loss
@needs_torch
@pytest.mark.parametrize("k,part", [(1, "test"), (2, "close"), (3, "test"), (4, "close")])
def test_torch_loss_equals_numpy_true_skr(k, part):
    """J(41) in torch on the dimensionless instance == nfkg.schemes.optimum.true_skr on raw coefficients."""
    rng = np.random.default_rng(k)
    scen = next(sample_scenarios(k, 64, 11, part))
    (sig, jam), s, inst = dlpa.scenario_instance(scen)
    frac = rng.dirichlet(np.ones(2 * k), 64)
    frac[:5] = np.eye(2 * k)[rng.integers(0, 2 * k, 5)]  # corners: all power on one shape
    pm = scen.p_max[..., None]
    ref = true_objective(scen, s, sig, jam, frac[:, :k] * pm, frac[:, k:] * pm)
    got = user_skr({k_: torch.as_tensor(v) for k_, v in inst.items()}, torch.as_tensor(frac)).numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-12)


@needs_torch
def test_torch_loss_s3_term():
    """The s3 term of J(42) (0 for SVD designs) against true_skr with made-up s3 != 0."""
    rng = np.random.default_rng(3)
    n, k = 50, 2
    s2, s4, s5 = (10 ** rng.uniform(-12, -6, (n, k)) for _ in range(3))
    s1 = s2 * s5 * rng.uniform(0, 1, (n, k))
    s3 = rng.uniform(-1, 1, (n, k)) * np.sqrt(s4 * s5 * s2 * s5) * 0.3
    s = {"s1": s1, "s2": s2, "s3": s3, "s4": s4, "s5": s5}
    pm, kap, nb, ne = 0.1, 3e-14 / 0.1, 3e-14, 3e-14
    t = np.ones((n, k))
    inst = dlpa.instance(s, t, t, pm, kap, nb, ne)
    frac = rng.dirichlet(np.ones(2 * k), n)
    ref = true_skr(s, frac[:, :k] * pm, frac[:, k:] * pm, t, t, kap, nb, ne)
    got = user_skr({k_: torch.as_tensor(v) for k_, v in inst.items()}, torch.as_tensor(frac)).numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-12)


@needs_torch
def test_torch_loss_gradient_flows():
    scen = next(sample_scenarios(2, 8, 1, "close"))
    _, _, inst = dlpa.scenario_instance(scen)
    logits = torch.zeros(8, 4, requires_grad=True)
    val = sum_skr({k: torch.as_tensor(v) for k, v in inst.items()}, torch.softmax(logits, -1)).mean()
    val.backward()
    assert torch.isfinite(logits.grad).all() and logits.grad.abs().sum() > 0


# --------------------------------------------------------------------------- features
def test_features_finite_and_clipped():
    scen = Scenario.from_dbm(ULA(3, 30e9), users=[(12.0, -0.6), (13.0, 0.6)], eves=[(11.98, -0.6), (12.98, 0.6)],
                             pt_dbm=-50)
    _, _, inst = dlpa.scenario_instance(scen)  # N = 2K-1: empty jamming subspace, t_n = 0
    x = dlpa.features(inst)
    assert x.shape == (15,) and np.all(np.isfinite(x))
    assert np.all(inst["t_n"] == 0) and np.all(x[[2, 9]] == -60.0)  # g4 of an empty subspace: the floor


# --------------------------------------------------------------------------- the network
def test_outputs_positive_sum_to_pmax(tiny):
    res, _ = tiny
    x, inst, scens = _random_instances(2, 300, 5)
    pm = np.concatenate([np.broadcast_to(s.p_max, s.batch_shape) for s in scens])
    p_s, p_n = res.model.allocate(inst, pm)
    assert np.all(p_s > 0) and np.all(p_n > 0)
    np.testing.assert_allclose(p_s.sum(-1) + p_n.sum(-1), pm, rtol=1e-14)


@needs_torch
def test_forward_is_softmax_of_head():
    net = KGSVDNet(15, 2, (8, 8))
    x = torch.randn(5, 15)
    out = net(x)
    ref = torch.exp(net.head(net.body(x)))
    torch.testing.assert_close(out, ref / ref.sum(-1, keepdim=True))
    with pytest.raises(ValueError, match="two hidden layers"):
        KGSVDNet(15, 2, (8, 8, 8))


def test_loss_falls_on_tiny_training(tiny):
    res, _ = tiny
    h = res.history
    assert h[-1]["train_loss"] < h[0]["train_loss"]
    assert max(r["val_skr"] for r in h) > h[0]["val_skr"]


def test_training_files_and_curve(tiny):
    res, out = tiny
    for name in ("kgsvd-net.pt", "kgsvd-net.npz", "kgsvd-net.json", "training.csv", "training.png", "training.pdf"):
        assert (out / name).stat().st_size > 0
    rows = (out / "training.csv").read_text().splitlines()
    assert rows[0] == "epoch,train_loss,val_loss,train_mean_sum_skr,val_mean_sum_skr"
    assert len(rows) == 1 + len(res.history)
    meta = json.loads((out / "kgsvd-net.json").read_text())
    assert meta["n_users"] == 2 and meta["seed"] == 7 and meta["versions"]["torch"].startswith("2.13.0")
    assert meta["ranges"]["pt_dbm"] == [0.0, 30.0] and len(meta["mean"]) == meta["n_features"] == 15


def test_same_seed_same_weights(tiny, tmp_path):
    res, out = tiny
    again = train(2, 7, tmp_path, n_train=512, n_val=256, hidden=(16, 16), epochs=6, patience=50, batch_size=64)
    a, b = res.model.net.state_dict(), again.model.net.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_save_load_identical_outputs(tiny):
    res, out = tiny
    loaded = dlpa.load_model(out)
    assert loaded.net is None  # read from its NumPy copy, without torch
    _, inst, _ = _random_instances(2, 100, 9)
    np.testing.assert_array_equal(loaded.fractions(inst), res.model.fractions(inst))


def test_dataset_independent_of_count():
    """Chunk i is seeded by (seed, part, i): the first chunk does not change with n."""
    a = next(sample_scenarios(2, 300, 4))
    b = next(sample_scenarios(2, 5000, 4))
    np.testing.assert_array_equal(a.r_e, b.r_e)
    c = next(sample_scenarios(2, 300, 4, "validation"))
    assert not np.array_equal(a.r_b, c.r_b)


def test_close_set_is_close():
    scen = next(sample_scenarios(3, 256, 0, "close"))
    from nfkg.model.channel import node_position

    d = np.linalg.norm(node_position(scen.r_b, scen.psi_b) - node_position(scen.r_e, scen.psi_e), axis=-1)
    assert d.min() >= 0.01 - 1e-12 and d.max() <= 0.0711


# --------------------------------------------------------------------------- model files
def _copy(out, tmp_path):
    d = tmp_path / "m"
    shutil.copytree(out, d)
    return d


@pytest.fixture
def k2dir(tmp_path):
    """A copy of the shipped K = 2 model (.pt, .npz, .json): a model directory needing no torch."""
    return _copy(dlpa.shipped_model(2).path, tmp_path)


def test_missing_model(tmp_path):
    with pytest.raises(dlpa.ModelError, match="does not exist"):
        dlpa.load_model(tmp_path / "nope")
    with pytest.raises(dlpa.ModelError, match="no kgsvd-net.json"):
        dlpa.load_model(tmp_path)


def test_corrupt_weights(k2dir):
    (k2dir / "kgsvd-net.pt").write_bytes(b"not a torch file")
    with pytest.raises(dlpa.ModelError, match="SHA-256"):
        dlpa.load_model(k2dir)


@needs_torch
def test_corrupt_pt_without_its_copy(tiny, tmp_path):
    """A .pt that matches the JSON but is no torch file: its stale NumPy copy is not used."""
    d = _copy(tiny[1], tmp_path)
    (d / "kgsvd-net.pt").write_bytes(b"not a torch file")
    meta = json.loads((d / "kgsvd-net.json").read_text())
    import hashlib

    meta["weights_sha256"] = hashlib.sha256(b"not a torch file").hexdigest()
    (d / "kgsvd-net.json").write_text(json.dumps(meta))
    with pytest.raises(dlpa.ModelError, match="cannot be loaded"):
        dlpa.load_model(d)


def test_corrupt_npz(k2dir):
    (k2dir / "kgsvd-net.npz").write_bytes(b"not an npz file")
    with pytest.raises(dlpa.ModelError, match="kgsvd-net.npz is not a readable NumPy copy"):
        dlpa.load_model(k2dir)
    good = dict(np.load(dlpa.shipped_model(2).path / "kgsvd-net.npz"))
    good["head.bias"] = good["head.bias"][:3]
    np.savez(k2dir / "kgsvd-net.npz", **good)
    with pytest.raises(dlpa.ModelError, match=r"head.bias: has shape \(3,\), the JSON's sizes give \(4,\)"):
        dlpa.load_model(k2dir)
    good["head.bias"] = np.array([0.0, np.nan, 0.0, 0.0], np.float32)
    np.savez(k2dir / "kgsvd-net.npz", **good)
    with pytest.raises(dlpa.ModelError, match="head.bias: holds a NaN"):
        dlpa.load_model(k2dir)


def test_corrupt_json(k2dir):
    d = k2dir
    (d / "kgsvd-net.json").write_text("{ not json")
    with pytest.raises(dlpa.ModelError, match="not a readable JSON"):
        dlpa.load_model(d)
    (d / "kgsvd-net.json").write_text(json.dumps({"format": dlpa.FORMAT}))
    with pytest.raises(dlpa.ModelError, match="lacks the key"):
        dlpa.load_model(d)


def test_missing_weights(k2dir):
    d = k2dir
    (d / "kgsvd-net.pt").unlink()
    with pytest.raises(dlpa.ModelError, match="is missing"):
        dlpa.load_model(d)


def test_wrong_k(k2dir):
    scen = Scenario.from_dbm(ULA(64, 30e9), users=[(12.0, -0.6), (13.0, 0.0), (14.0, 0.6)],
                             eves=[(11.98, -0.6), (12.98, 0.0), (13.98, 0.6)], pt_dbm=20)
    with pytest.raises(dlpa.ModelError, match="trained for K = 2 users, the scenario has K = 3"):
        precode(scen, "svd-dlpa", model=k2dir)
    with pytest.raises(dlpa.ModelError, match="no KGSVD-Net model ships for K = 3"):
        precode(scen, "svd-dlpa")


def test_wrong_shaping(k2dir):
    scen = Scenario.from_dbm(ULA(64, 30e9), users=[(12.0, -0.6), (13.0, 0.6)], eves=[(11.98, -0.6), (12.98, 0.6)],
                             pt_dbm=20)
    with pytest.raises(dlpa.ModelError, match="trained for shaping 'isotropic', not 'matched'"):
        precode(scen, "svd-dlpa", "matched", model=k2dir)


# --------------------------------------------------------------------------- CLI
def _toml(tmp_path, users=((12.0, -0.6), (13.0, 0.6)), eves=((11.98, -0.6), (12.98, 0.6))):
    lines = ["antennas = 256", "pt_dbm = 20"]
    for who, nodes in (("users", users), ("eves", eves)):
        for r, psi in nodes:
            lines += [f"[[{who}]]", f"r = {r}", f"psi = {psi}"]
    p = tmp_path / "s.toml"
    p.write_text("\n".join(lines) + "\n")
    return p


def test_cli_model_errors(k2dir, tmp_path, capsys):
    p = _toml(tmp_path)
    assert main(["evaluate", str(p), "--scheme", "svd-dlpa", "--model", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "does not exist" in err[0]
    assert main(["evaluate", str(p), "--scheme", "svd", "--model", str(k2dir)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--model applies to --scheme svd-dlpa only" in err[0]
    p3 = _toml(tmp_path, users=((12.0, -0.6), (13.0, 0.0), (14.0, 0.6)),
               eves=((11.98, -0.6), (12.98, 0.0), (13.98, 0.6)))
    assert main(["evaluate", str(p3), "--scheme", "svd-dlpa", "--model", str(k2dir)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "trained for K = 2" in err[0]


def test_cli_evaluate_with_model(k2dir, tmp_path, capsys):
    p = _toml(tmp_path)
    assert main(["evaluate", str(p), "--scheme", "svd-dlpa", "--model", str(k2dir), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["scheme"] == "svd-dlpa" and out["sum_skr"] > 0
    assert sum(u["p_a"] for u in out["users"]) == pytest.approx(0.1, rel=1e-12)


@needs_torch
def test_cli_train_bad_hidden(tmp_path, capsys):
    assert main(["train", "--users", "2", "--out", str(tmp_path), "--hidden", "8"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--hidden" in err[0]


@needs_torch
def test_cli_train_tiny(tmp_path, capsys):
    out = tmp_path / "m"
    assert main(["train", "--users", "1", "--seed", "3", "--out", str(out), "--samples", "256", "--epochs", "2",
                 "--hidden", "8,8", "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "KGSVD-Net K = 1: 2 epochs" in text and (out / "training.png").exists()
    assert dlpa.load_model(out).n_users == 1


# --------------------------------------------------------------------------- shipped models, the scheme
@pytest.mark.parametrize("k", [2, 4, 6])
def test_shipped_models_load(k):
    m = dlpa.shipped_model(k)
    assert m.n_users == k and m.meta["seed"] == 0 and m.meta["shaping"] == "isotropic"
    assert k in dlpa.shipped_users()


@pytest.mark.parametrize("k", [2, 4])
def test_dlpa_never_above_svd_opt(k):
    """svd-dlpa <= svd-opt (the optimum over a larger set) on held-out scenarios, to round-off."""
    scen = next(sample_scenarios(k, 12, 0, "close"))
    dl = evaluate(scen, "svd-dlpa")
    op = evaluate(scen, "svd-opt", n_random=1)
    assert np.all(dl.sum_skr <= op.sum_skr * (1 + 1e-9) + 1e-12)
    # the engine's SKR equals J(41) with the true noise for the network's split
    sig, jam = dl.result.views
    s = dl.result.extra["coefficients"]
    ref = true_objective(scen, s, sig, jam, dl.result.powers[..., 0], dl.result.powers[..., 1])
    np.testing.assert_allclose(dl.skr, ref, rtol=1e-9)


def test_dlpa_batched_equals_single():
    scen = next(sample_scenarios(2, 6, 2, "test"))
    batch = evaluate(scen, "svd-dlpa").skr
    for b in range(3):
        one = Scenario(scen.ula, scen.r_b[b], scen.psi_b[b], scen.r_e[b], scen.psi_e[b], scen.p_max[b],
                       scen.p_b[b], scen.sigma2_a, scen.sigma2_b, scen.sigma2_e, scen.pilot_length)
        np.testing.assert_allclose(evaluate(one, "svd-dlpa").skr, batch[b], rtol=1e-6)


@pytest.mark.parametrize("n_ant,pt,noise,v,dr", [
    (3, -50.0, -105.0, 1, 0.02), (3, 60.0, -105.0, 1, 0.02), (256, 60.0, -200.0, 1, 0.001),
    (256, -50.0, -60.0, 10**6, 2.0), (1024, 30.0, -105.0, 1, 1e-3), (64, 0.0, -200.0, 1000, -0.5),
])
def test_dlpa_edges_of_the_accepted_ranges(n_ant, pt, noise, v, dr):
    """Far outside the training ranges: finite, non-negative, total P_max, never above svd-opt."""
    scen = Scenario.from_dbm(ULA(n_ant, 30e9), users=[(12.0, -0.6), (13.0, 0.6)],
                             eves=[(12.0 + dr, -0.6), (13.0 + dr, 0.6)], pt_dbm=pt, noise_dbm=noise,
                             pilot_length=v)
    dl = evaluate(scen, "svd-dlpa")
    assert np.all(np.isfinite(dl.skr)) and np.all(dl.skr >= 0)
    assert dl.result.powers.sum() == pytest.approx(float(scen.p_max), rel=1e-12)
    op = evaluate(scen, "svd-opt", n_random=1)
    assert dl.sum_skr <= op.sum_skr * (1 + 1e-9) + 1e-12


# --------------------------------------------------------------------------- NumPy forward pass vs torch
def _torch64(net):
    """The same network in torch, float64 (an independent implementation of the forward pass)."""
    return copy.deepcopy(net).double().eval()


@needs_torch
@pytest.mark.parametrize("hidden", [(16, 16), (128, 64), (7, 33)])
def test_numpy_forward_equals_torch_random_networks(hidden):
    """dlpa.forward == KGSVDNet.forward (torch, float64) on random weights and inputs, to 1e-12."""
    torch.manual_seed(sum(hidden))
    net = KGSVDNet(22, 3, hidden)
    for p in net.parameters():  # beyond the initial scale: large logits test the softmax's shift
        p.data.mul_(4.0)
    x = np.random.default_rng(1).normal(0.0, 5.0, (3000, 22))
    with torch.no_grad():
        ref = _torch64(net)(torch.as_tensor(x)).numpy()
    got = dlpa.forward({k: v.numpy() for k, v in net.state_dict().items()}, x, batch=1000)
    assert got.shape == (3000, 6)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(got.sum(-1), 1.0, rtol=0, atol=1e-14)


@needs_torch
@pytest.mark.parametrize("k", [2, 4, 6])
def test_numpy_forward_equals_torch_shipped_models(k):
    """Every shipped model: the NumPy copy holds the .pt's float32 weights exactly, and its forward
    pass equals torch's to 1e-12 (float64) and to float32 rounding (torch's float32 pass, 1e-5)."""
    m = dlpa.shipped_model(k)
    assert m.net is None  # the shipped models load from their NumPy copies
    state = torch.load(m.path / dlpa.WEIGHTS, weights_only=True)
    with np.load(m.path / dlpa.WEIGHTS_NPZ) as z:
        for name in dlpa.LAYERS:
            assert z[name].dtype == np.float32 and np.array_equal(z[name], state[name].numpy())
    net = KGSVDNet(7 * k + 1, k, m.meta["hidden"])
    net.load_state_dict(state)
    rng = np.random.default_rng(k)
    _, inst, _ = dataset(k, 512, 3, "close")
    for x in (rng.normal(0.0, 3.0, (2000, 7 * k + 1)), m.standardise(dlpa.features(inst))):
        with torch.no_grad():
            ref64 = _torch64(net)(torch.as_tensor(x)).numpy()
            ref32 = net.eval()(torch.as_tensor(x, dtype=torch.float32)).double().numpy()
        got = dlpa.forward(m.weights, x)
        np.testing.assert_allclose(got, ref64, rtol=0, atol=1e-12)
        np.testing.assert_allclose(got, ref32, rtol=0, atol=1e-5)  # measured up to 2.9e-6
    np.testing.assert_allclose(m.fractions(inst), ref64, rtol=0, atol=1e-12)


@needs_torch
@pytest.mark.parametrize("k", [2, 4, 6])
def test_svd_dlpa_equals_the_torch_path(k, monkeypatch):
    """svd-dlpa's SKR with the NumPy forward pass == with torch's float32 pass (nfkg before), to 1e-6."""
    scen = next(sample_scenarios(k, 48, 5, "close"))
    got = evaluate(scen, "svd-dlpa").skr
    m = dlpa.shipped_model(k)
    net = KGSVDNet(7 * k + 1, k, m.meta["hidden"])
    net.load_state_dict(torch.load(m.path / dlpa.WEIGHTS, weights_only=True))
    net.eval()

    def torch_fractions(self, inst, batch=65536):
        with torch.no_grad():
            x = torch.as_tensor(self.standardise(dlpa.features(inst)), dtype=torch.float32)
            out = net(x).double().numpy()
        return out / out.sum(-1, keepdims=True)

    monkeypatch.setattr(dlpa.KGSVDModel, "fractions", torch_fractions)
    scen._cache.clear()
    ref = evaluate(scen, "svd-dlpa").skr
    np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-12)  # measured 1e-8


def test_stale_npz_is_not_used(k2dir):
    """A NumPy copy made from another .pt is ignored: the .pt (checked by the JSON) is read instead."""
    other = dlpa.shipped_model(4).path / dlpa.WEIGHTS_NPZ
    shutil.copy(other, k2dir / dlpa.WEIGHTS_NPZ)
    if torch is None:
        from nfkg._extras import MissingExtra

        with pytest.raises(MissingExtra, match=r"kgsvd-net.pt .* needs the 'train' extra: pip install 'nfkg\[train\]'"):
            dlpa.load_model(k2dir)
    else:
        m = dlpa.load_model(k2dir)
        assert m.net is not None
        for name in dlpa.LAYERS:
            np.testing.assert_array_equal(m.weights[name], dlpa.shipped_model(2).weights[name])


def test_forward_batches_and_shapes():
    m = dlpa.shipped_model(2)
    x = np.random.default_rng(0).normal(size=(3, 5, 15))
    whole = dlpa.forward(m.weights, x)
    assert whole.shape == (3, 5, 4)
    np.testing.assert_array_equal(dlpa.forward(m.weights, x, batch=4), whole)
    np.testing.assert_allclose(dlpa.forward(m.weights, x[1, 2]), whole[1, 2], rtol=0, atol=1e-14)  # gemv vs gemm
