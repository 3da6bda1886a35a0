"""``nfkg train``: train KGSVD-Net (SVD w/ DLPA)."""

from __future__ import annotations

from pathlib import Path

import click

from ._common import (_SHAPINGS, _needs)

__all__ = ["train"]


@click.command(short_help="Train KGSVD-Net (SVD w/ DLPA) for K users.")
@click.option("--users", "-k", "n_users", required=True, type=click.IntRange(1, 16),
              help="Number of users K the network is trained for (1..16).")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(0, 2**63 - 1),
              help="Seed of the training data, the initial weights and the batch order.")
@click.option("--out", "-o", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory for the model files, training.csv and training.png/.pdf.")
@click.option("--samples", default=40960, show_default=True, type=click.IntRange(256, 10**7),
              help="Training scenarios (validation: a tenth of them, at least 256).")
@click.option("--epochs", default=300, show_default=True, type=click.IntRange(1, 100000),
              help="Most epochs; training stops earlier when the validation SKR stops rising.")
@click.option("--patience", default=25, show_default=True, type=click.IntRange(1, 100000),
              help="Epochs without improvement of the validation mean SKR before stopping.")
@click.option("--hidden", default="128,128", show_default=True, metavar="H1,H2",
              help="Widths of the two hidden layers.")
@click.option("--batch-size", default=256, show_default=True, type=click.IntRange(1, 10**6),
              help="Mini-batch size (Adam, lr 1e-3 as in J V).")
@click.option("--shaping", type=click.Choice(_SHAPINGS), default="isotropic", show_default=True,
              help="Signal shaping the model is trained for (J: isotropic).")
@click.option("--threads", default=1, show_default=True, type=click.IntRange(1, 256),
              help="torch threads (the network is small: one thread is about as fast and "
                   "reproducible on any machine).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def train(n_users: int, seed: int, out_dir: Path, samples: int, epochs: int, patience: int, hidden: str,
          batch_size: int, shaping: str, threads: int, quiet: bool) -> None:
    """Train KGSVD-Net, the power allocation network of SVD w/ DLPA (J V).

    Draws the training and validation scenarios from the ranges of nfkg.schemes.training
    (every J figure and more, close Eves well represented), trains with Adam on minus
    the mean sum SKR of J(41) with early stopping, and writes to OUT: kgsvd-net.pt and
    kgsvd-net.json (load with --model OUT), training.csv (loss and mean SKR per epoch)
    and training.png/.pdf. The shipped models are `nfkg train --users K --seed 0`.
    """
    _needs("train", "torch")
    from ..schemes.training import kept_epoch, train as run_training

    try:
        widths = tuple(int(h) for h in hidden.split(","))
    except ValueError:
        widths = ()
    if len(widths) != 2 or min(widths) < 1 or max(widths) > 4096:
        raise click.BadParameter(f"expected two widths 1..4096 like 128,128, got {hidden!r}",
                                 param_hint="'--hidden'")
    res = run_training(n_users, seed, out_dir, n_train=samples, n_val=max(256, samples // 10), hidden=widths,
                       epochs=epochs, batch_size=batch_size, patience=patience, shaping=shaping,
                       threads=threads, progress=not quiet)
    best = kept_epoch(res.history)
    click.echo(f"KGSVD-Net K = {n_users}: {len(res.history)} epochs in {res.seconds:.1f} s, kept epoch "
               f"{best['epoch']} (validation mean sum SKR {best['val_skr']:.4f} bits)")
    for f in res.files:
        click.echo(f"wrote {f}")
