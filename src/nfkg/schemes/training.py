r"""Training KGSVD-Net (SVD w/ DLPA, J V): scenario ranges, data sets, ``nfkg train``.

Training scenarios are drawn from ranges that cover every J figure and more
(:data:`RANGES`): N on the grid 32 ... 1024 in steps of :math:`\sqrt 2`, :math:`P_t` 0-30 dBm,
carrier 24-40 GHz, users at 5-25 m and :math:`|\psi| \le 1.5` (the issue asks for 1; J Fig. 4
puts its users at :math:`\pm 1.5`), each Eve off her user by up to 2 m and 0.07 rad, with the
hard close-Eve cases well represented: in a third of the scenarios every Eve is 1-5 cm from
her user (in range, and up to 5 cm sideways), in a third none is, and in a third each Eve
is close with probability 1/2. Noise -105 dBm everywhere, V = 1, :math:`P_b = P_{\max}` (the
papers'; the features are relative to the noise, so other noise levels map onto these).

Scenarios come in chunks of :data:`CHUNK` with one array (N, carrier) each; chunk ``i`` is
seeded by ``SeedSequence(seed, spawn_key=(part, i))`` (part 0 training, 1 validation,
2 held-out test, 3 held-out close-Eve test), so a data set does not depend on how many
are drawn after it, and the test sets never overlap the training set.

The shipped models were made with ``nfkg train --users K --seed 0`` (K = 2, 4, 6) and the
defaults of :func:`train`; the same command re-creates them (bit for bit with the same
torch build and thread count).

Contents
--------
RANGES
    The sampling ranges (recorded in every model's JSON).
sample_scenarios
    Seeded random scenarios, one :class:`~nfkg.model.scenario.Scenario` per chunk.
dataset
    Features and dimensionless instances of many scenarios.
train
    Train, early-stop, write the model files and the validation curve.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..model.channel import ULA
from .dlpa import KGSVDModel, feature_names, features, save_model, scenario_instance
from ..model.scenario import Scenario
from ..model.units import dbm_2_watt

__all__ = ["RANGES", "N_GRID", "CHUNK", "sample_scenarios", "dataset", "train", "TrainResult", "kept_epoch",
           "assess", "ASSESS_COLUMNS"]

#: Antenna counts of the training set: 32 * sqrt(2)^j, j = 0..10, rounded.
N_GRID = tuple(int(round(32 * 2 ** (j / 2))) for j in range(11))
#: Scenarios per chunk (one array and carrier per chunk).
CHUNK = 256
#: Sampling ranges of the training scenarios (see the module docstring).
RANGES: dict[str, Any] = {
    "n_ant": list(N_GRID),
    "pt_dbm": [0.0, 30.0],
    "carrier_ghz": [24.0, 40.0],
    "r_b": [5.0, 25.0],
    "psi_b": [-1.5, 1.5],
    "dr": [-2.0, 2.0],
    "dpsi": [-0.07, 0.07],
    "close_dr": [0.01, 0.05],
    "close_lateral": 0.05,
    "modes": {"all_close": 1 / 3, "none_close": 1 / 3, "mixed": 1 / 3},
    "noise_dbm": -105.0,
    "pilot_length": 1,
}
_PARTS = {"train": 0, "validation": 1, "test": 2, "close": 3}


def _chunk(n_users: int, n: int, rng: np.random.Generator, close: str | None) -> Scenario:
    R = RANGES
    n_ant = int(rng.choice(R["n_ant"]))
    fc = rng.uniform(*R["carrier_ghz"]) * 1e9
    r_b = rng.uniform(*R["r_b"], (n, n_users))
    psi_b = rng.uniform(*R["psi_b"], (n, n_users))
    if close is None:
        mode = rng.choice(3, n, p=[R["modes"]["all_close"], R["modes"]["none_close"], R["modes"]["mixed"]])
        is_close = np.where(mode[:, None] == 0, True,
                            np.where(mode[:, None] == 1, False, rng.random((n, n_users)) < 0.5))
    else:
        is_close = np.full((n, n_users), close == "all")
        rng.choice(3, n)  # keep the stream aligned with the mixed draw
    sign = rng.choice([-1.0, 1.0], (n, n_users))
    dr_close = sign * rng.uniform(*R["close_dr"], (n, n_users))
    dpsi_close = rng.uniform(-1.0, 1.0, (n, n_users)) * R["close_lateral"] / r_b
    dr_far = rng.uniform(*R["dr"], (n, n_users))
    dpsi_far = rng.uniform(*R["dpsi"], (n, n_users))
    r_e = r_b + np.where(is_close, dr_close, dr_far)
    psi_e = np.clip(psi_b + np.where(is_close, dpsi_close, dpsi_far), -np.pi / 2, np.pi / 2)
    pt = dbm_2_watt(rng.uniform(*R["pt_dbm"], n))
    noise = dbm_2_watt(R["noise_dbm"])
    return Scenario(ULA(n_ant, fc), r_b, psi_b, r_e, psi_e, pt, pt, noise, noise, noise, R["pilot_length"])


def sample_scenarios(n_users: int, n: int, seed: int, part: str = "train", close: str | None = None
                     ) -> Iterator[Scenario]:
    """Random scenarios in chunks of :data:`CHUNK`, reproducible from ``(seed, part)``.

    Parameters
    ----------
    n_users : int
    n : int
        Number of scenarios (the last chunk may be shorter).
    seed : int
    part : {'train', 'validation', 'test', 'close'}
        Independent streams; ``'close'`` defaults to every Eve close.
    close : {'all', 'none'}, optional
        Force every Eve close to (or away from) her user; default: the mixture of :data:`RANGES`.
    """
    if close is None and part == "close":
        close = "all"
    key = _PARTS[part]
    for i, start in enumerate(range(0, n, CHUNK)):
        rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(key, i)))
        yield _chunk(n_users, min(CHUNK, n - start), rng, close)


def dataset(n_users: int, n: int, seed: int, part: str = "train", shaping: str = "isotropic",
            jamming: str = "isotropic", close: str | None = None
            ) -> tuple[np.ndarray, dict[str, np.ndarray], list[Scenario]]:
    """Features ``(n, 7K + 1)``, instances (each ``(n, K)`` or ``(n,)``) and the scenario chunks."""
    xs, insts, scens = [], [], []
    for scen in sample_scenarios(n_users, n, seed, part, close):
        _, _, inst = scenario_instance(scen, shaping, jamming)
        xs.append(features(inst))
        insts.append(inst)
        scens.append(scen)
    inst = {k: np.concatenate([d[k] for d in insts]) for k in insts[0]}
    return np.concatenate(xs), inst, scens


def kept_epoch(history: list[dict[str, Any]]) -> dict[str, Any]:
    """The record of the epoch whose weights :func:`nfkg.schemes.network.fit` keeps (its last improvement)."""
    return [h for h in history if h["best"]][-1] if any(h["best"] for h in history) else history[0]


@dataclass
class TrainResult:
    """What :func:`train` made: the model, the per-epoch history and the files written."""

    model: KGSVDModel
    history: list[dict[str, Any]]
    files: list[Path]
    seconds: float


def _plot_history(history: list[dict[str, Any]], out: Path, title: str) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ep = [h["epoch"] for h in history]
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    ax.plot(ep, [h["train_skr"] for h in history], label="training")
    ax.plot(ep, [h["val_skr"] for h in history], label="validation")
    best = kept_epoch(history)
    ax.axvline(best["epoch"], color="0.6", ls=":", label=f"kept (epoch {best['epoch']})")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean sum SKR [bits] (= minus the loss)")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    paths = [out / "training.png", out / "training.pdf"]
    for p in paths:
        fig.savefig(p, dpi=150)
    plt.close(fig)
    return paths


def train(n_users: int, seed: int, out: str | Path, *, n_train: int = 40960, n_val: int = 4096,
          hidden: tuple[int, int] = (128, 128), epochs: int = 300, batch_size: int = 256, lr: float = 1e-3,
          patience: int = 25, shaping: str = "isotropic", jamming: str = "isotropic",
          threads: int = 1, progress: bool = False) -> TrainResult:
    """Train KGSVD-Net for K users and write it to ``out`` (J V).

    Writes ``kgsvd-net.pt``, its NumPy copy ``kgsvd-net.npz`` (read without torch),
    ``kgsvd-net.json``, ``training.csv`` (per epoch: training and validation loss and mean
    sum SKR) and ``training.png``/``.pdf`` (the validation curve). Needs torch, the ``train``
    extra (:class:`nfkg._extras.MissingExtra`, one line, when it is missing).

    Parameters
    ----------
    n_users, seed : int
        K; the seed of the data sets, the initial weights and the batch order.
    out : path
        Output directory (created).
    n_train, n_val : int
        Training and validation scenarios (drawn from :data:`RANGES`).
    hidden : (int, int)
        Widths of the two hidden layers.
    epochs, batch_size, lr, patience : int, int, float, int
        Adam with the paper's lr 1e-3; early stopping on the validation mean SKR.
    shaping, jamming : str
        SVD options the model is trained for (the journal's: isotropic, isotropic).
    threads : int
        torch intra-op threads (1 by default: see :func:`nfkg.schemes.network.torch_threads`; the
        shipped models were trained with 1, and the same seed and thread count give the
        same weights bit for bit).
    progress : bool
        Show a progress bar (tqdm, on stderr).
    """
    import time

    from .._extras import load

    torch = load("torch", "train", "training KGSVD-Net")

    from .network import KGSVDNet, fit, torch_threads
    from ..engine.reduced import check_svd_options

    check_svd_options(2 * n_users - 1 if n_users > 0 else 1, n_users, shaping, jamming)
    if min(RANGES["n_ant"]) < 2 * n_users - 1:
        raise ValueError(f"users: K = {n_users} needs N >= {2 * n_users - 1}; the training grid starts at "
                         f"N = {min(RANGES['n_ant'])}")
    t0 = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    x_tr, i_tr, _ = dataset(n_users, n_train, seed, "train", shaping, jamming)
    x_va, i_va, _ = dataset(n_users, n_val, seed, "validation", shaping, jamming)
    mean = x_tr.mean(0)
    std = x_tr.std(0)
    std = np.where(std > 1e-6, std, 1.0)  # a constant feature (s3n = 0, t = 1) passes unscaled
    torch.manual_seed(int(seed))
    net = KGSVDNet(x_tr.shape[1], n_users, hidden)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=epochs, desc=f"KGSVD-Net K={n_users}", unit="epoch", leave=True)

    def on_epoch(rec):
        if bar is not None:
            bar.set_postfix(val_skr=f"{rec['val_skr']:.4f}", train_skr=f"{rec['train_skr']:.4f}")
            bar.update(1)

    deterministic = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        with torch_threads(threads):
            history = fit(net, (x_tr - mean) / std, i_tr, (x_va - mean) / std, i_va, seed=seed, epochs=epochs,
                          batch_size=batch_size, lr=lr, patience=patience, on_epoch=on_epoch)
    finally:
        torch.use_deterministic_algorithms(deterministic)
        if bar is not None:
            bar.close()
    best = kept_epoch(history)
    meta = {
        "n_users": int(n_users), "shaping": shaping, "jamming": jamming, "hidden": list(hidden),
        "n_features": int(x_tr.shape[1]), "feature_names": feature_names(n_users),
        "mean": mean.tolist(), "std": std.tolist(), "ranges": RANGES, "seed": int(seed),
        "n_train": int(n_train), "n_val": int(n_val), "epochs_run": len(history),
        "best_epoch": int(best["epoch"]), "val_mean_sum_skr": float(best["val_skr"]),
        "optimizer": {"name": "Adam", "lr": lr, "batch_size": batch_size, "patience": patience},
        "threads": int(threads),
    }
    model = KGSVDModel(net, meta)
    save_model(model, out)
    csv_path = out / "training.csv"
    with csv_path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["epoch", "train_loss", "val_loss", "train_mean_sum_skr", "val_mean_sum_skr"])
        for h in history:
            w.writerow([h["epoch"], f"{h['train_loss']:.9g}", f"{h['val_loss']:.9g}", f"{h['train_skr']:.9g}",
                        f"{h['val_skr']:.9g}"])
    files = [out / "kgsvd-net.pt", out / "kgsvd-net.npz", out / "kgsvd-net.json", csv_path]
    files += _plot_history(history, out, f"KGSVD-Net, K = {n_users}, seed {seed}")
    return TrainResult(model, history, files, time.perf_counter() - t0)


# --------------------------------------------------------------------------- held-out assessment
#: Columns of :func:`assess`.
ASSESS_COLUMNS = ("users", "set", "scenarios", "svd_pa", "svd_dlpa", "full_power_opt", "svd_opt",
                  "dlpa_over_opt", "gap_closed", "beats_pa", "ms_dlpa", "ms_pa", "ms_opt")


def assess(n_users: int, n: int = 128, seed: int = 0, part: str = "close", model: Any = None,
           n_random: int = 2) -> dict[str, Any]:
    r"""SVD w/ DLPA on held-out scenarios against svd-pa, the full-power optimum and svd-opt.

    The scenarios come from the stream ``part`` (``'close'``: every Eve 1-5 cm from her
    user; ``'test'``: the training mixture), never from the training or validation
    streams. All SKRs are the engine's, with the true noise, isotropic shaping.

    Returns
    -------
    dict
        ``svd_pa``, ``svd_dlpa``, ``full_power_opt`` (J(41) with the total fixed at
        :math:`P_{\max}`, the constraint of J(43)-(44)), ``svd_opt`` (total at most
        :math:`P_{\max}`): mean sum SKR [bits]; ``dlpa_over_opt``: mean of svd-dlpa/svd-opt;
        ``gap_closed``: :math:`(\overline{dlpa} - \overline{pa})/(\overline{fp} - \overline{pa})`;
        ``beats_pa``: fraction of scenarios where svd-dlpa > svd-pa (by more than 1e-9 bits);
        ``ms_*``: milliseconds per scenario of each scheme, batched over the set.
    """
    import time

    from .optimum import exact_allocation
    from .precoding import precode, true_objective

    from .dlpa import KGSVDModel, load_model, shipped_model

    # load the model before the clock starts: a one-off cost, not per scenario
    if not isinstance(model, KGSVDModel):
        model = shipped_model(n_users) if model is None else load_model(model)
    sums = {"pa": [], "dlpa": [], "fp": [], "opt": []}
    secs = {"pa": 0.0, "dlpa": 0.0, "opt": 0.0}
    for scen in sample_scenarios(n_users, n, seed, part):
        options = {"model": model}
        t = time.perf_counter()
        dl = precode(scen, "svd-dlpa", "isotropic", **options)
        secs["dlpa"] += time.perf_counter() - t
        scen._cache.clear()  # each scheme pays for its own channels
        t = time.perf_counter()
        pa = precode(scen, "svd-pa", "isotropic")
        secs["pa"] += time.perf_counter() - t
        scen._cache.clear()
        t = time.perf_counter()
        op = precode(scen, "svd-opt", "isotropic", n_random=n_random)
        secs["opt"] += time.perf_counter() - t
        sig, jam = pa.views
        s = pa.extra["coefficients"]
        skr = lambda r: true_objective(scen, s, sig, jam, r.powers[..., 0], r.powers[..., 1]).sum(-1)  # noqa: E731
        kappa = scen.sigma2_a / (scen.pilot_length * scen.p_b)
        fp = exact_allocation(s, sig.trace, jam.trace, scen.p_max, kappa, scen.sigma2_b / scen.pilot_length,
                              scen.sigma2_e / scen.pilot_length, p_s0=dl.powers[..., 0], p_n0=dl.powers[..., 1],
                              full_power=True, n_random=n_random)
        pa_skr = skr(pa)
        # the full-power optimum is never below svd-pa's full-power split nor the network's
        fp_fun = np.maximum(fp.fun, np.where(np.isclose(pa.powers.sum((-1, -2)), scen.p_max), pa_skr, -np.inf))
        sums["pa"].append(pa_skr)
        sums["dlpa"].append(skr(dl))
        sums["fp"].append(fp_fun)
        sums["opt"].append(skr(op))
    v = {k: np.concatenate(x) for k, x in sums.items()}
    m = {k: float(x.mean()) for k, x in v.items()}
    gap = m["fp"] - m["pa"]
    return {
        "users": n_users, "set": part, "scenarios": n,
        "svd_pa": m["pa"], "svd_dlpa": m["dlpa"], "full_power_opt": m["fp"], "svd_opt": m["opt"],
        "dlpa_over_opt": float(np.mean(v["dlpa"] / np.maximum(v["opt"], 1e-300))),
        "gap_closed": float((m["dlpa"] - m["pa"]) / gap) if gap > 0 else float("nan"),
        "beats_pa": float(np.mean(v["dlpa"] > v["pa"] + 1e-9)),
        "ms_dlpa": 1e3 * secs["dlpa"] / n, "ms_pa": 1e3 * secs["pa"] / n, "ms_opt": 1e3 * secs["opt"] / n,
        "per_scenario": v,
    }
