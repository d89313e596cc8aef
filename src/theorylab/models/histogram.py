"""The histogram (counting) task and a single attention layer that solves it (arXiv 2402.03902,
Sec. 2 and Fig. 1; the authors' run_histogram.py protocol at a smaller size).

A sequence of L tokens drawn uniformly from T symbols; the target at each position is the
number of occurrences of that position's token in the sequence (a class in 1..L). The model is
one dot-product attention layer on token + learned positional embeddings, followed by a layer
norm and a two-layer ReLU readout (no residual connection), as in the paper. The semantic and
positional embeddings live in the two halves of the model dimension; the queries and keys can be
restricted to read one half only (``attend="semantic"`` or ``"positional"``), which forces one
attention mechanism, or read both (``attend="both"``). :func:`unrestrict` turns a restricted
trained model into an unrestricted one at the same function (the paper's reparameterisation),
the initialisation from which the unrestricted model is retrained.
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["QUICK", "HistogramAttention", "accuracy", "both_mechanisms", "histogram_data",
           "quick_run", "train_adam", "unrestrict"]

ATTEND = ("semantic", "positional", "both")
#: the task and model of Fig. 1 (the authors' run_histogram.py: L = 10, T = 15, model dimension
#: 64, readout width 128, batch 32, Adam lr 1e-3 for 200 epochs of 35 000 sequences); the quick
#: size trains with batch 128 and lr 3e-3 for far fewer epochs, the release continues 3 epochs
#: at the authors' lr
QUICK = {"length": 10, "symbols": 15, "dim": 64, "hidden": 128, "batch": 128, "lr": 3e-3,
         "continue_lr": 1e-3, "continue_epochs": 3, "n_test": 4000}


def histogram_data(n: int, length: int, symbols: int, gen: torch.Generator):
    """``n`` sequences (n, L) of uniform tokens and their counts (n, L): the number of
    positions holding the same token (1..L)."""
    x = torch.randint(0, symbols, (n, length), generator=gen)
    y = (x[:, :, None] == x[:, None, :]).sum(-1)
    return x, y


class HistogramAttention(nn.Module):
    """Embeddings (semantic: first half of the model dimension, positional: second half when
    restricted), one softmax attention layer with queries/keys reading ``attend``'s half,
    layer norm, ReLU readout to the L + 1 count classes."""

    def __init__(self, symbols: int, length: int, dim: int, hidden: int, attend: str,
                 gen: torch.Generator):
        super().__init__()
        if attend not in ATTEND or dim % 2:
            raise ValueError(f"attend must be one of {ATTEND} and dim even")
        self.attend, self.dim = attend, dim
        half = dim // 2

        def uniform(*shape, fan_in):
            bound = 1 / math.sqrt(fan_in)
            return nn.Parameter((2 * torch.rand(*shape, generator=gen) - 1) * bound)

        self.semantic = nn.Parameter(torch.randn(symbols, dim, generator=gen))
        self.positional = nn.Parameter(torch.randn(length, dim, generator=gen))
        self.q, self.k, self.v = (uniform(dim, dim, fan_in=dim) for _ in range(3))
        self.norm = nn.LayerNorm(dim)
        self.w1, self.b1 = uniform(dim, hidden, fan_in=dim), uniform(hidden, fan_in=dim)
        self.w2, self.b2 = uniform(hidden, length + 1, fan_in=hidden), uniform(
            length + 1, fan_in=hidden)
        mask = torch.zeros(dim)
        if attend == "semantic":
            mask[:half] = 1.0
        elif attend == "positional":
            mask[half:] = 1.0
        else:
            mask[:] = 1.0
        self.register_buffer("read", mask)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        sem, pos = self.semantic[x], self.positional.expand(x.shape[0], -1, -1)
        if self.attend != "both":  # restricted: each embedding in its own half
            half = self.dim // 2
            sem = torch.cat([sem[..., :half], torch.zeros_like(sem[..., half:])], -1)
            pos = torch.cat([torch.zeros_like(pos[..., :half]), pos[..., half:]], -1)
        return sem + pos

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits (n, L, L + 1) and the attention matrices (n, L, L) (rows: queries)."""
        e = self.embed(x)
        qk = e * self.read
        scores = (qk @ self.q) @ (qk @ self.k).transpose(-1, -2) / math.sqrt(self.dim)
        attn = torch.softmax(scores, dim=-1)
        h = self.norm(attn @ (e @ self.v))
        return torch.relu(h @ self.w1 + self.b1) @ self.w2 + self.b2, attn


def unrestrict(model: HistogramAttention, noise: float, gen: torch.Generator
               ) -> HistogramAttention:
    """The unrestricted model computing the same function as the restricted ``model`` (queries
    and keys masked into their weights, embeddings zeroed outside their half), every weight of
    attention and embeddings perturbed by ``noise``·N(0, 1) (the paper's reparameterisation)."""
    out = HistogramAttention(model.semantic.shape[0], model.positional.shape[0], model.dim,
                             model.w1.shape[1], "both", gen)
    out.load_state_dict({k: v for k, v in model.state_dict().items() if k != "read"},
                        strict=False)
    half = model.dim // 2
    with torch.no_grad():
        out.q.mul_(model.read[:, None])
        out.k.mul_(model.read[:, None])
        out.semantic[:, half:] = 0.0
        out.positional[:, :half] = 0.0
        for w in (out.q, out.k, out.semantic, out.positional):
            w.add_(noise * torch.randn(w.shape, generator=gen))
    return out


def train_adam(model: nn.Module, x: torch.Tensor, y: torch.Tensor, epochs: int, batch: int,
               lr: float, gen: torch.Generator, optimizer: str = "adam") -> float:
    """Cross-entropy on the count classes by minibatch Adam (the authors' betas (0.9, 0.98))
    or plain SGD; returns the last epoch's mean training loss."""
    opt = (torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.98), eps=1e-9)
           if optimizer == "adam" else torch.optim.SGD(model.parameters(), lr=lr))
    loss_sum = math.nan
    for _ in range(epochs):
        perm = torch.randperm(x.shape[0], generator=gen, device="cpu").to(x.device)
        loss_sum, steps = 0.0, 0
        for i in range(0, x.shape[0], batch):
            idx = perm[i:i + batch]
            logits, _ = model(x[idx])
            loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                               y[idx].reshape(-1))
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss_sum, steps = loss_sum + float(loss.detach()), steps + 1
        loss_sum /= steps
    return loss_sum


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, torch.Tensor]:
    """Fraction of positions whose count is predicted exactly, and the attention matrices."""
    logits, attn = model(x)
    return float((logits.argmax(-1) == y).float().mean()), attn


def both_mechanisms(x, y, x_test, y_test, *, dim: int, hidden: int, epochs: int,
                    continue_epochs: int, batch: int, lr: float, continue_lr: float,
                    gen: torch.Generator, measure) -> dict:
    """The paper's two solutions of the histogram task (Fig. 1): per mechanism
    (``"positional"``, ``"semantic"``), a model whose queries/keys read only that half is trained
    by Adam, then released (:func:`unrestrict`, noise 1e-3) and trained further unrestricted
    by Adam at ``continue_lr``. ``measure(model, x_test, y_test)`` is applied to the restricted
    and to the released model; returns {(mechanism, stage): measure's output}."""
    symbols, length = int(max(x.max(), x_test.max())) + 1, x.shape[1]
    out = {}
    for mech in ("positional", "semantic"):
        model = HistogramAttention(symbols, length, dim, hidden, mech, gen).to(x.device)
        train_adam(model, x, y, epochs, batch, lr, gen)
        out[mech, "restricted"] = measure(model, x_test, y_test)
        free = unrestrict(model.cpu(), 1e-3, gen).to(x.device)
        train_adam(free, x, y, continue_epochs, batch, continue_lr, gen)
        out[mech, "released"] = measure(free, x_test, y_test)
    return out


def quick_run(n_train: int, epochs: int, streams, measure, device="cpu") -> dict:
    """:func:`both_mechanisms` at the :data:`QUICK` size on ``n_train`` training sequences
    and ``epochs`` epochs, data and training drawn from the seed's ``streams``
    (:class:`theorylab.seeding.Streams`) on the CPU, training on ``device``."""
    from theorylab.models.device import as_device

    h, dev = QUICK, as_device(device)
    data = histogram_data(n_train, h["length"], h["symbols"], streams.torch("histogram"))
    test = histogram_data(h["n_test"], h["length"], h["symbols"], streams.torch("hist test"))
    return both_mechanisms(*(t.to(dev) for t in (*data, *test)), epochs=epochs,
                           gen=streams.torch("histogram training"), measure=measure,
                           **{k: h[k] for k in ("dim", "hidden", "batch", "lr", "continue_lr",
                                                "continue_epochs")})
