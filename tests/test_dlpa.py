"""SVD w/ DLPA: KGSVD-Net's loss, outputs, files, training and the registered scheme (J V)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from nfkg.schemes import dlpa  # noqa: E402
from nfkg.model.channel import ULA  # noqa: E402
from nfkg.cli import main  # noqa: E402
from nfkg.schemes.network import KGSVDNet, sum_skr, user_skr  # noqa: E402
from nfkg.schemes.optimum import true_skr  # noqa: E402
from nfkg.schemes.precoding import evaluate, precode, true_objective  # noqa: E402
from nfkg.model.scenario import Scenario  # noqa: E402
from nfkg.schemes.training import dataset, sample_scenarios, train  # noqa: E402


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A tiny K = 2 model trained for a few epochs (seconds)."""
    out = tmp_path_factory.mktemp("tiny")
    res = train(2, 7, out, n_train=512, n_val=256, hidden=(16, 16), epochs=6, patience=50, batch_size=64)
    return res, out


def _random_instances(k, n, seed, part="test"):
    x, inst, scens = dataset(k, n, seed, part)
    return x, inst, scens


# --------------------------------------------------------------------------- the loss
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
    for name in ("kgsvd-net.pt", "kgsvd-net.json", "training.csv", "training.png", "training.pdf"):
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


def test_missing_model(tmp_path):
    with pytest.raises(dlpa.ModelError, match="does not exist"):
        dlpa.load_model(tmp_path / "nope")
    with pytest.raises(dlpa.ModelError, match="no kgsvd-net.json"):
        dlpa.load_model(tmp_path)


def test_corrupt_weights(tiny, tmp_path):
    d = _copy(tiny[1], tmp_path)
    (d / "kgsvd-net.pt").write_bytes(b"not a torch file")
    with pytest.raises(dlpa.ModelError, match="SHA-256"):
        dlpa.load_model(d)
    meta = json.loads((d / "kgsvd-net.json").read_text())
    import hashlib

    meta["weights_sha256"] = hashlib.sha256(b"not a torch file").hexdigest()
    (d / "kgsvd-net.json").write_text(json.dumps(meta))
    with pytest.raises(dlpa.ModelError, match="cannot be loaded"):
        dlpa.load_model(d)


def test_corrupt_json(tiny, tmp_path):
    d = _copy(tiny[1], tmp_path)
    (d / "kgsvd-net.json").write_text("{ not json")
    with pytest.raises(dlpa.ModelError, match="not a readable JSON"):
        dlpa.load_model(d)
    (d / "kgsvd-net.json").write_text(json.dumps({"format": dlpa.FORMAT}))
    with pytest.raises(dlpa.ModelError, match="lacks the key"):
        dlpa.load_model(d)


def test_missing_weights(tiny, tmp_path):
    d = _copy(tiny[1], tmp_path)
    (d / "kgsvd-net.pt").unlink()
    with pytest.raises(dlpa.ModelError, match="is missing"):
        dlpa.load_model(d)


def test_wrong_k(tiny):
    scen = Scenario.from_dbm(ULA(64, 30e9), users=[(12.0, -0.6), (13.0, 0.0), (14.0, 0.6)],
                             eves=[(11.98, -0.6), (12.98, 0.0), (13.98, 0.6)], pt_dbm=20)
    with pytest.raises(dlpa.ModelError, match="trained for K = 2 users, the scenario has K = 3"):
        precode(scen, "svd-dlpa", model=tiny[1])
    with pytest.raises(dlpa.ModelError, match="no KGSVD-Net model ships for K = 3"):
        precode(scen, "svd-dlpa")


def test_wrong_shaping(tiny):
    scen = Scenario.from_dbm(ULA(64, 30e9), users=[(12.0, -0.6), (13.0, 0.6)], eves=[(11.98, -0.6), (12.98, 0.6)],
                             pt_dbm=20)
    with pytest.raises(dlpa.ModelError, match="trained for shaping 'isotropic', not 'matched'"):
        precode(scen, "svd-dlpa", "matched", model=tiny[1])


# --------------------------------------------------------------------------- CLI
def _toml(tmp_path, users=((12.0, -0.6), (13.0, 0.6)), eves=((11.98, -0.6), (12.98, 0.6))):
    lines = ["antennas = 256", "pt_dbm = 20"]
    for who, nodes in (("users", users), ("eves", eves)):
        for r, psi in nodes:
            lines += [f"[[{who}]]", f"r = {r}", f"psi = {psi}"]
    p = tmp_path / "s.toml"
    p.write_text("\n".join(lines) + "\n")
    return p


def test_cli_model_errors(tiny, tmp_path, capsys):
    p = _toml(tmp_path)
    assert main(["evaluate", str(p), "--scheme", "svd-dlpa", "--model", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "does not exist" in err[0]
    assert main(["evaluate", str(p), "--scheme", "svd", "--model", str(tiny[1])]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--model applies to --scheme svd-dlpa only" in err[0]
    p3 = _toml(tmp_path, users=((12.0, -0.6), (13.0, 0.0), (14.0, 0.6)),
               eves=((11.98, -0.6), (12.98, 0.0), (13.98, 0.6)))
    assert main(["evaluate", str(p3), "--scheme", "svd-dlpa", "--model", str(tiny[1])]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "trained for K = 2" in err[0]


def test_cli_evaluate_with_model(tiny, tmp_path, capsys):
    p = _toml(tmp_path)
    assert main(["evaluate", str(p), "--scheme", "svd-dlpa", "--model", str(tiny[1]), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["scheme"] == "svd-dlpa" and out["sum_skr"] > 0
    assert sum(u["p_a"] for u in out["users"]) == pytest.approx(0.1, rel=1e-12)


def test_cli_train_bad_hidden(tmp_path, capsys):
    assert main(["train", "--users", "2", "--out", str(tmp_path), "--hidden", "8"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--hidden" in err[0]


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
