r"""KGSVD-Net in PyTorch: the network, J(41) as a torch loss, and the training loop (J V).

This module imports :mod:`torch` at the top (the ``train`` extra: ``pip install 'nfkg[train]'``;
without it, importing this module fails with one line saying so). The rest of nfkg never
needs it to evaluate: :mod:`nfkg.schemes.dlpa` runs the shipped networks' forward pass in
NumPy; torch is used to train (``nfkg train``) and to read a model that has only its ``.pt``.

The network (J V, Fig. 3): the standardised features of :func:`nfkg.schemes.dlpa.features`
(the paper's inputs :math:`P_{\max}` and :math:`s_{1..5,k}`, expressed without units, see
there) go through two fully connected hidden layers with ReLU, then one fully connected
layer of :math:`2K` outputs :math:`p'`, made positive by :math:`\exp` and normalised by
J(43)-(44) so that they sum to :math:`P_{\max}`: together a softmax, which this module
returns as the *fractions* :math:`P/P_{\max}`.

The loss is minus the mean over a batch of J(41), the sum over users of

.. math::
    \mathrm{SKR}_k = \log_2\Big(1 + \frac{\alpha_k^2}{(\hat\sigma_{a,k}^2 + \hat\sigma_b^2)\alpha_k
        + \hat\sigma_{a,k}^2\hat\sigma_b^2}\Big),

with :math:`\alpha_k` of J(42) and the *true* BS noise
:math:`\hat\sigma_{a,k}^2 = P_{a,k}\sigma_a^2/(VP_b)` of J(11) (the engine's objective, not
the worst case of the AO), written on the dimensionless instance of
:func:`nfkg.schemes.dlpa.instance` and evaluated in float64 (:func:`sum_skr`). A test checks it
against :func:`nfkg.schemes.optimum.true_skr` on the raw coefficients.

Contents
--------
KGSVDNet
    The network: features -> power fractions (softmax = exp + J(43)-(44)).
user_skr
    Per-user J(41) terms of a batch of instances and fractions, in torch.
fit
    Adam (lr 1e-3) on minus the mean J(41), mini-batches, early stopping on validation.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from .._extras import load as _load_extra

torch = _load_extra("torch", "train", "KGSVD-Net in PyTorch (nfkg.schemes.network: training)")
nn = torch.nn

__all__ = ["KGSVDNet", "user_skr", "sum_skr", "fit", "INSTANCE_KEYS", "torch_threads"]

#: Arrays of a dimensionless instance (:func:`nfkg.schemes.dlpa.instance`): per user ``(B, K)``, and ``c`` ``(B,)``.
INSTANCE_KEYS = ("g5", "g2", "g4", "u", "s3n", "t_s", "t_n", "c")


@contextmanager
def torch_threads(n: int = 1) -> Iterator[None]:
    """Run torch with ``n`` intra-op threads inside the block, then restore the setting.

    KGSVD-Net is small (two layers of 128): a second thread gains little, while several
    processes each running torch's thread pool on the same cores (``pytest -n 2``, a
    benchmark beside a training run) spin-wait on one another and slow down by 10-30x.
    nfkg therefore trains and infers on one thread by default, which also makes training
    bit-reproducible whatever the machine's core count.
    """
    old = torch.get_num_threads()
    torch.set_num_threads(max(1, int(n)))
    try:
        yield
    finally:
        torch.set_num_threads(old)


class KGSVDNet(nn.Module):
    """KGSVD-Net (J V, Fig. 3): two hidden ReLU layers, ``2K`` outputs normalised to fractions.

    Parameters
    ----------
    n_in : int
        Number of input features.
    n_users : int
        K; the output has ``2K`` entries ``[P_S,1..P_S,K, P_N,1..P_N,K] / P_max``.
    hidden : sequence of two int
        Widths of the two hidden layers.
    """

    def __init__(self, n_in: int, n_users: int, hidden: Sequence[int] = (128, 128)) -> None:
        super().__init__()
        if len(hidden) != 2:
            raise ValueError(f"hidden: KGSVD-Net has two hidden layers, got {len(hidden)} widths")
        h1, h2 = (int(h) for h in hidden)
        self.n_users = int(n_users)
        self.body = nn.Sequential(nn.Linear(n_in, h1), nn.ReLU(), nn.Linear(h1, h2), nn.ReLU())
        self.head = nn.Linear(h2, 2 * self.n_users)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Fractions ``P / P_max``, shape ``(B, 2K)``, positive and summing to 1: J(43)-(44)."""
        p_prime = self.head(self.body(x))
        return torch.softmax(p_prime, dim=-1)  # exp(p') / sum exp(p'): positive, then J(43)-(44)


def user_skr(inst: Mapping[str, torch.Tensor], frac: torch.Tensor) -> torch.Tensor:
    r"""Per-user SKR J(41) of power fractions on dimensionless instances, in torch.

    With :math:`x_S = P_S/P_{\max}`, :math:`x_N = P_N/P_{\max}` and the instance of
    :func:`nfkg.schemes.dlpa.instance` (:math:`g_5 = P_{\max}s_5/\hat\sigma_b^2`,
    :math:`g_2 = P_{\max}s_2/\hat\sigma_e^2`, :math:`g_4 = P_{\max}s_4/\hat\sigma_e^2`,
    :math:`u = (s_2s_5 - s_1)/(s_2s_5)`, :math:`s_{3n} = s_3/(s_4s_5)`,
    :math:`c = \kappa P_{\max}/\hat\sigma_b^2`), J(42) divided by :math:`\hat\sigma_b^2` is

    .. math::
        a = \frac{x_S g_5\,(1 + x_N g_4(1 - s_{3n}) + x_S g_2 u)}{1 + x_S g_2 + x_N g_4},
        \qquad n_a = c\,(x_S t_S + x_N t_N),

    and :math:`\mathrm{SKR} = \log_2(1 + a^2/((n_a + 1)a + n_a))`, J(41).

    Parameters
    ----------
    inst : mapping of tensors
        ``g5, g2, g4, u, s3n, t_s, t_n`` ``(B, K)`` and ``c`` ``(B,)`` (float64).
    frac : tensor ``(B, 2K)``
        Fractions of :math:`P_{\max}` (any dtype; computed in the instance's dtype).

    Returns
    -------
    tensor ``(B, K)`` [bits].
    """
    k = inst["g5"].shape[-1]
    frac = frac.to(inst["g5"].dtype)
    xs, xn = frac[..., :k], frac[..., k:]
    g5, g2, g4, u = inst["g5"], inst["g2"], inst["g4"], inst["u"]
    den = 1.0 + xs * g2 + xn * g4
    a = xs * g5 * (1.0 + xn * g4 * (1.0 - inst["s3n"]) + xs * g2 * u) / den
    a = torch.clamp(a, min=0.0)
    na = inst["c"][..., None] * (xs * inst["t_s"] + xn * inst["t_n"])
    pos = a > 0
    safe = torch.where(pos, a, torch.ones_like(a))
    snr = torch.where(pos, safe / ((na + 1.0) + na / safe), torch.zeros_like(a))
    return torch.log1p(snr) / math.log(2.0)


def sum_skr(inst: Mapping[str, torch.Tensor], frac: torch.Tensor) -> torch.Tensor:
    """J(41): the sum over users of :func:`user_skr`, shape ``(B,)`` [bits]."""
    return user_skr(inst, frac).sum(-1)


def _batches(n: int, size: int, gen: torch.Generator | None):
    order = torch.randperm(n, generator=gen) if gen is not None else torch.arange(n)
    for i in range(0, n, size):
        yield order[i:i + size]


def _evaluate(net: KGSVDNet, x: torch.Tensor, inst: Mapping[str, torch.Tensor], size: int = 8192) -> float:
    total = 0.0
    with torch.no_grad():
        for idx in _batches(x.shape[0], size, None):
            total += float(sum_skr({k: v[idx] for k, v in inst.items()}, net(x[idx])).sum())
    return total / x.shape[0]


def fit(net: KGSVDNet, x_train: np.ndarray, inst_train: Mapping[str, np.ndarray],
        x_val: np.ndarray, inst_val: Mapping[str, np.ndarray], *, seed: int, epochs: int = 200,
        batch_size: int = 256, lr: float = 1e-3, patience: int = 20, min_delta: float = 1e-4,
        on_epoch: Callable[[dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
    r"""Train KGSVD-Net unsupervised: Adam on minus the mean of J(41), early stopping (J V).

    Parameters
    ----------
    net : KGSVDNet
        Trained in place; on return it holds the weights of the best validation epoch.
    x_train, x_val : ndarray ``(B, F)``
        Standardised features.
    inst_train, inst_val : mapping of ndarray
        Dimensionless instances (:data:`INSTANCE_KEYS`), float64.
    seed : int
        Seeds the mini-batch order (the weights are seeded by the caller).
    epochs, batch_size, lr : int, int, float
        At most ``epochs`` passes; Adam's learning rate (the paper's 1e-3).
    patience, min_delta : int, float
        Stop after ``patience`` epochs without the validation mean SKR rising by ``min_delta`` bits.
    on_epoch : callable, optional
        Called with each epoch's record (for progress bars).

    Returns
    -------
    list of dict
        Per epoch: ``epoch``, ``train_loss``, ``val_loss`` (minus the mean sum SKR),
        ``train_skr``, ``val_skr`` (mean sum SKR, bits), ``best``.
    """
    gen = torch.Generator().manual_seed(int(seed))
    xt = torch.as_tensor(x_train, dtype=torch.float32)
    xv = torch.as_tensor(x_val, dtype=torch.float32)
    it = {k: torch.as_tensor(np.asarray(v), dtype=torch.float64) for k, v in inst_train.items()}
    iv = {k: torch.as_tensor(np.asarray(v), dtype=torch.float64) for k, v in inst_val.items()}
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    best_val, best_state, since = -math.inf, None, 0
    history: list[dict[str, Any]] = []
    for epoch in range(1, epochs + 1):
        net.train()
        run, seen = 0.0, 0
        for idx in _batches(xt.shape[0], batch_size, gen):
            skr = sum_skr({k: v[idx] for k, v in it.items()}, net(xt[idx]))
            loss = -skr.mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            run += float(skr.detach().sum())
            seen += idx.numel()
        net.eval()
        val = _evaluate(net, xv, iv)
        improved = val > best_val + min_delta
        if improved or best_state is None:
            improved = True
            best_val = max(val, best_val)
            best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
            since = 0
        else:
            since += 1
        rec = {"epoch": epoch, "train_loss": -run / seen, "val_loss": -val, "train_skr": run / seen,
               "val_skr": val, "best": bool(improved)}
        history.append(rec)
        if on_epoch is not None:
            on_epoch(rec)
        if since >= patience:
            break
    net.load_state_dict(best_state)
    net.eval()
    return history
