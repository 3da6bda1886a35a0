"""Write the NumPy copy (``kgsvd-net.npz``) of each shipped KGSVD-Net model's PyTorch weights.

The shipped models (``src/nfkg/schemes/models/k*/``) were trained and saved by torch
(``kgsvd-net.pt``); nfkg runs their forward pass in NumPy, so that evaluating svd-dlpa needs
no torch. This script, run once with torch installed (``pip install 'nfkg[train]'``), reads
each ``.pt`` (``weights_only=True``) and writes beside it the same float32 arrays with the
SHA-256 of the ``.pt``, then checks that the copy loads and gives the torch network's
fractions. Models trained by ``nfkg train`` get their copy when they are saved.

Usage: ``python scripts/kgsvd_npz.py [MODEL_DIR ...]`` (default: every shipped model).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np


def convert(directory: Path) -> str:
    """Write ``directory/kgsvd-net.npz`` from its ``.pt``; return a one-line report."""
    import torch

    from nfkg.schemes import dlpa

    pt = directory / dlpa.WEIGHTS
    state = torch.load(pt, map_location="cpu", weights_only=True)
    npz = dlpa.export_npz({name: tensor.numpy() for name, tensor in state.items()}, pt)
    model = dlpa._load(directory)  # the copy must be the one load_model now picks, with no torch network
    if model.net is not None:
        raise SystemExit(f"{npz}: not picked up by load_model")
    rng = np.random.default_rng(0)
    x = rng.normal(0.0, 3.0, (1000, int(model.meta["n_features"])))
    net = dlpa._read_pt(pt, int(model.meta["n_features"]), model.n_users, model.meta["hidden"])[0].double()
    with torch.no_grad():
        ref = net(torch.as_tensor(x)).numpy()
    err = float(np.abs(dlpa.forward(model.weights, x) - ref).max())
    return f"{npz}: {npz.stat().st_size} bytes, max |NumPy - torch (float64)| = {err:.1e} on 1000 random inputs"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="*", type=Path, help="model directories [default: the shipped models]")
    args = parser.parse_args(argv)
    from nfkg.schemes import dlpa

    dirs = args.dirs or [dlpa._models_dir() / f"k{k}" for k in dlpa.shipped_users()]
    for d in dirs:
        print(convert(d))
    return 0


if __name__ == "__main__":
    sys.exit(main())
