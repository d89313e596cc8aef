"""Gaussian rainbow networks, their teacher, and trained feature maps (arXiv 2402.13999).

A *rainbow* network is a deep, bias-free, fully connected network h₀ = x, h_ℓ = σ_ℓ(W_ℓ h_{ℓ−1}),
whose weight rows are independent Gaussians with a structured covariance,
w ~ N(0, C_ℓ/p_{ℓ−1}), where C_ℓ may depend on the earlier weights W₁ … W_{ℓ−1}
(e.g. C₂ ∝ (W₁W₁ᵀ + ½ I)⁻¹). The feature map is φ(x) = h_L, not normalised by √p.

Everything here is numpy, so a torch-free theory can build the same matrices (and train the same
network) as the simulation from the same seed: :func:`draw_rainbow_weights`, the forward pass
:func:`rainbow_features`, the random-network teacher :class:`RandomTeacher`, and full-batch
gradient descent :func:`train_network` (the "trained features" of the paper's Sec. 5).
:func:`torch_features` and :meth:`RandomTeacher.torch_labels` are the torch forward passes of the
simulation (torch imported lazily).

References
----------
Schröder, Dmitriev, Cui, Loureiro (2024), "Asymptotics of Learning with Deep Structured (Random)
Features", ICML, arXiv 2402.13999: Def. 2.1 (rainbow networks), Sec. 5 (trained networks).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from theorylab.theory.activations import DOOR_KNEE, DOOR_SLOPE, parse_activation

if TYPE_CHECKING:
    import torch

__all__ = [
    "GradientDescent",
    "RandomTeacher",
    "RowCovariance",
    "TrainedNetwork",
    "activation_derivative",
    "draw_rainbow_weights",
    "draw_teacher",
    "inverse_gram",
    "isotropic",
    "power_law",
    "psd_sqrt",
    "rainbow_features",
    "sample_pool",
    "torch_features",
    "train_network",
]

RowCovariance = Callable[[int, Sequence[np.ndarray]], np.ndarray]
"""A row-covariance rule: ``(fan_in, earlier weights W₁ … W_{ℓ−1}) -> C_ℓ``.

``C_ℓ`` is a ``fan_in × fan_in`` PSD matrix or a 1-D array (its diagonal). Rows of W_ℓ are then
N(0, C_ℓ/fan_in)."""


def isotropic() -> RowCovariance:
    """C = I: the i.i.d. deep random features of arXiv 2302.00401."""

    def rule(fan_in: int, earlier: Sequence[np.ndarray]) -> np.ndarray:
        return np.ones(fan_in)

    return rule


def power_law(exponent: float) -> RowCovariance:
    """C = diag(k^{−γ}), k = 1 … fan_in, normalised to trace fan_in (the structured first layer
    of the authors' random-features panel).

    Parameters
    ----------
    exponent
        γ ≥ 0; γ = 0 is isotropic.
    """
    if not np.isfinite(exponent) or exponent < 0:
        raise ValueError(f"power-law exponent must be >= 0, got {exponent!r}")

    def rule(fan_in: int, earlier: Sequence[np.ndarray]) -> np.ndarray:
        c = np.arange(1, fan_in + 1, dtype=float) ** (-exponent)
        return c * (fan_in / c.sum())

    return rule


def inverse_gram(shift: float = 0.5) -> RowCovariance:
    """C ∝ (W_{ℓ−1}W_{ℓ−1}ᵀ + shift·I)⁻¹, normalised to trace fan_in: a weight-dependent row
    covariance (the authors' random-features panel, ``C3 = inv(W1 W1ᵀ + 0.5 I)``).

    It needs an earlier layer, so it cannot be the first layer's rule.
    """
    if not np.isfinite(shift) or shift <= 0:
        raise ValueError(f"shift must be > 0, got {shift!r}")

    def rule(fan_in: int, earlier: Sequence[np.ndarray]) -> np.ndarray:
        if not earlier:
            raise ValueError("inverse_gram needs an earlier layer (it cannot be layer 1)")
        w_prev = earlier[-1]
        if w_prev.shape[0] != fan_in:
            raise ValueError(f"previous layer has {w_prev.shape[0]} rows, expected {fan_in}")
        c = np.linalg.inv(w_prev @ w_prev.T + shift * np.eye(fan_in))
        c = 0.5 * (c + c.T)
        return c * (fan_in / np.trace(c))

    return rule


def psd_sqrt(c: np.ndarray) -> np.ndarray:
    """Symmetric square root of a PSD matrix (eigenvalues clipped at 0)."""
    s, u = np.linalg.eigh(c)
    return (u * np.sqrt(np.clip(s, 0.0, None))) @ u.T


def draw_rainbow_weights(
    rng: np.random.Generator,
    dims: Sequence[int],
    covariances: Sequence[RowCovariance],
    scales: Sequence[float] | None = None,
) -> tuple[np.ndarray, ...]:
    """Draw W₁ … W_L of a rainbow network, layer by layer.

    W_ℓ = s_ℓ · Z_ℓ C_ℓ^{1/2} / √p_{ℓ−1} with Z_ℓ i.i.d. N(0, 1) of shape (p_ℓ, p_{ℓ−1}), so the
    rows are N(0, s_ℓ² C_ℓ/p_{ℓ−1}); C_ℓ = ``covariances[ℓ](p_{ℓ−1}, (W₁, …, W_{ℓ−1}))``.

    Parameters
    ----------
    rng
        Numpy generator; Z₁ is drawn first, then Z₂, ...
    dims
        (p₀ = d, p₁, …, p_L).
    covariances
        One row-covariance rule per layer (:func:`isotropic`, :func:`power_law`,
        :func:`inverse_gram` or any callable of that signature).
    scales
        s_ℓ (default 1) multiplying each weight matrix.

    Returns
    -------
    tuple of numpy arrays
        W_ℓ of shape (p_ℓ, p_{ℓ−1}).
    """
    n_layers = len(dims) - 1
    if n_layers < 1 or len(covariances) != n_layers:
        raise ValueError("need len(covariances) == len(dims) - 1 >= 1")
    scales = [1.0] * n_layers if scales is None else list(scales)
    if len(scales) != n_layers:
        raise ValueError("need one scale per layer")
    weights: list[np.ndarray] = []
    for fan_in, fan_out, rule, scale in zip(dims[:-1], dims[1:], covariances, scales, strict=True):
        z = rng.standard_normal((fan_out, fan_in))
        c = np.asarray(rule(fan_in, tuple(weights)), dtype=float)
        root = np.sqrt(c) if c.ndim == 1 else psd_sqrt(c)
        w = z * root if c.ndim == 1 else z @ root
        weights.append(scale * w / np.sqrt(fan_in))
    return tuple(weights)


def rainbow_features(
    x: np.ndarray, weights: Sequence[np.ndarray], activations: Sequence
) -> np.ndarray:
    """Numpy forward pass φ(x) = h_L, h_ℓ = σ_ℓ(W_ℓ h_{ℓ−1}), for inputs x of shape (n, d)."""
    h = np.asarray(x, dtype=float)
    for w, act in zip(weights, activations, strict=True):
        h = parse_activation(act)(h @ w.T)
    return h


def torch_features(
    x: torch.Tensor, weights: Sequence[torch.Tensor], activations: Sequence[str]
) -> torch.Tensor:
    """Torch forward pass φ(x) = h_L (same convention as :func:`rainbow_features`)."""
    from theorylab.models.activations import torch_activation

    h = x
    for w, act in zip(weights, activations, strict=True):
        h = torch_activation(act)(h @ w.T)
    return h


# --------------------------------------------------------------------------------------------
# The teacher
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RandomTeacher:
    """y = θ·σ*(W* x)/√p* + noise·ξ with W* rows N(0, I/d), θ ~ N(0, I_{p*}), ξ ~ N(0, 1).

    Attributes
    ----------
    weight : W*, shape (p*, d).
    theta : θ, shape (p*,).
    activation : σ* (a spec of :mod:`theorylab.theory.activations`).
    noise : standard deviation of the label noise.
    """

    weight: np.ndarray
    theta: np.ndarray
    activation: str
    noise: float

    def clean(self, x: np.ndarray) -> np.ndarray:
        """The noiseless target θ·σ*(W* x)/√p* of the rows of x."""
        hidden = parse_activation(self.activation)(np.asarray(x, dtype=float) @ self.weight.T)
        return hidden @ self.theta / np.sqrt(self.theta.size)

    def __call__(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Noisy labels of the rows of x (the noise drawn from ``rng``)."""
        return self.clean(x) + self.noise * rng.standard_normal(np.shape(x)[0])

    def torch_labels(self, x: torch.Tensor, xi: torch.Tensor) -> torch.Tensor:
        """Torch version of ``__call__`` with the standard normal noise ``xi`` given."""
        import torch

        from theorylab.models.activations import torch_activation

        w = torch.as_tensor(self.weight, dtype=x.dtype, device=x.device)
        theta = torch.as_tensor(self.theta, dtype=x.dtype, device=x.device)
        hidden = torch_activation(self.activation)(x @ w.T)
        return hidden @ theta / self.theta.size**0.5 + self.noise * xi


def draw_teacher(
    rng: np.random.Generator, d: int, width: int, activation: str, noise: float
) -> RandomTeacher:
    """Draw W* (rows N(0, I/d)) and then θ ~ N(0, I) from ``rng``."""
    (weight,) = draw_rainbow_weights(rng, [d, width], [isotropic()])
    return RandomTeacher(weight, rng.standard_normal(width), activation, noise)


# --------------------------------------------------------------------------------------------
# Training by full-batch gradient descent (numpy)
# --------------------------------------------------------------------------------------------

_DERIVATIVES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "tanh": lambda z: 1.0 - np.tanh(z) ** 2,
    "erf": lambda z: (2.0 / np.sqrt(np.pi)) * np.exp(-(z**2)),
    "linear": np.ones_like,
    "cube": lambda z: 3.0 * z**2,
    "door": lambda z: DOOR_SLOPE * (np.abs(z) < DOOR_KNEE),
    "sign": np.zeros_like,
}


def activation_derivative(spec: str) -> Callable[[np.ndarray], np.ndarray]:
    """σ'(x) of a registered odd activation ``name`` or ``name(<s>x)`` (then s·name'(s x)).

    The derivative is the one autograd uses (0 for ``sign``; ``door`` is not differentiated at
    its knees). Raises ``ValueError`` for activations without a derivative here.
    """
    act = parse_activation(spec)
    if not act.is_registered or act.name not in _DERIVATIVES:
        raise ValueError(
            f"no derivative for activation {act.spec!r}; one of {', '.join(sorted(_DERIVATIVES))}"
        )
    fn, scale = _DERIVATIVES[act.name], act.scale
    return lambda x: scale * fn(scale * np.asarray(x))


def _derivative_of_value(act) -> Callable[[np.ndarray], np.ndarray] | None:
    """σ' as a function of σ where that is cheaper (tanh(sx): s(1 − σ²)), else None."""
    if act.is_registered and act.name == "tanh":
        return lambda h: act.scale * (1.0 - h**2)
    return None


@dataclass(frozen=True)
class GradientDescent:
    """Full-batch gradient descent on ½·mean (y − f(x))², f(x) = a·φ(x)/√p_L.

    Attributes
    ----------
    steps : number of full-batch steps.
    learning_rate : step size η (the same for every layer and for the readout a).
    """

    steps: int = 300
    learning_rate: float = 1.0

    def __post_init__(self) -> None:
        if not isinstance(self.steps, int) or self.steps < 0:
            raise ValueError(f"steps must be an integer >= 0, got {self.steps!r}")
        if not np.isfinite(self.learning_rate) or self.learning_rate <= 0:
            raise ValueError(f"learning_rate must be > 0, got {self.learning_rate!r}")


@dataclass(frozen=True)
class TrainedNetwork:
    """Hidden weights after training, the readout a, and the loss before each step."""

    weights: tuple[np.ndarray, ...]
    readout: np.ndarray
    losses: np.ndarray


def train_network(
    x: np.ndarray,
    y: np.ndarray,
    weights: Sequence[np.ndarray],
    activations: Sequence[str],
    settings: GradientDescent,
) -> TrainedNetwork:
    """Train hidden layers and readout of f(x) = a·φ(x)/√p_L by full-batch gradient descent.

    Every step moves all parameters along the gradient of ½·mean (y − f)² taken before the step
    (back-propagation written out in numpy). The readout starts at a = 0, so the first step only
    moves a, and the features move once the readout has picked up the target.

    Parameters
    ----------
    x, y
        Training inputs (n, d) and labels (n,).
    weights
        Initial hidden weights W₁ … W_L (copied, not modified).
    activations
        One activation spec per hidden layer (see :func:`activation_derivative`).
    settings
        Number of steps and learning rate.

    Returns
    -------
    TrainedNetwork
        Trained weights, readout and the loss before every step (and after the last),
        length ``steps + 1``.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    ws = [np.array(w, dtype=float) for w in weights]
    acts = [parse_activation(a) for a in activations]
    # σ' from the pre-activation, or from the activation's value where cheaper (tanh).
    derivs = [(_derivative_of_value(a), activation_derivative(a.spec)) for a in acts]
    root = np.sqrt(ws[-1].shape[0])
    readout = np.zeros(ws[-1].shape[0])
    losses = np.empty(settings.steps + 1)
    eta = settings.learning_rate
    for step in range(settings.steps + 1):
        pre, hidden = [], [x]
        for w, act in zip(ws, acts, strict=True):
            pre.append(hidden[-1] @ w.T)
            hidden.append(act(pre[-1]))
        residual = hidden[-1] @ readout / root - y
        losses[step] = 0.5 * float(np.mean(residual**2))
        if step == settings.steps:
            break
        d_out = residual / y.size
        grad_readout = hidden[-1].T @ d_out / root
        delta = np.outer(d_out, readout / root)
        grads = [np.empty(0)] * len(ws)
        for ell in reversed(range(len(ws))):
            of_value, of_pre = derivs[ell]
            delta = delta * (of_value(hidden[ell + 1]) if of_value else of_pre(pre[ell]))
            grads[ell] = delta.T @ hidden[ell]
            if ell:
                delta = delta @ ws[ell]
        for w, g in zip(ws, grads, strict=True):
            w -= eta * g
        readout -= eta * grad_readout
    return TrainedNetwork(tuple(ws), readout, losses)


def sample_pool(
    generator: torch.Generator,
    size: int,
    teacher: RandomTeacher,
    nets: Sequence[Sequence[np.ndarray]],
    activation: str,
    device: torch.device | str = "cpu",
    chunk: int = 10_000,
) -> tuple[list[torch.Tensor], torch.Tensor, np.ndarray]:
    """Fresh samples x ~ N(0, I_d), their teacher labels and the features of several nets.

    Drawn in blocks of ``chunk`` on the CPU from ``generator`` (x, then the label noise ξ, per
    block) and moved to ``device``, so a seed gives the same samples on every device.

    Returns
    -------
    (list of torch.Tensor, torch.Tensor, numpy.ndarray)
        The features (size, p_L) of every net (float64; every layer uses ``activation``), the
        labels (size,), and per layer of the first net the mean squared pre-activation
        (r_ℓ² of :func:`theorylab.theory.feature_covariance.propagate`, measured).
    """
    import torch

    from theorylab.models.activations import torch_activation

    act = torch_activation(activation)
    d = teacher.weight.shape[1]
    weights = [[torch.from_numpy(np.asarray(w)).to(device) for w in ws] for ws in nets]
    feats: list[list[torch.Tensor]] = [[] for _ in nets]
    labels, squares = [], np.zeros(len(nets[0]))
    for start in range(0, size, chunk):
        block = min(chunk, size - start)
        x = torch.randn(block, d, generator=generator, dtype=torch.float64).to(device)
        xi = torch.randn(block, generator=generator, dtype=torch.float64).to(device)
        labels.append(teacher.torch_labels(x, xi))
        for i, ws in enumerate(weights):
            h = x
            for ell, w in enumerate(ws):
                pre = h @ w.T
                if i == 0:
                    squares[ell] += float(pre.pow(2).sum())
                h = act(pre)
            feats[i].append(h)
    sizes = np.array([w.shape[0] for w in nets[0]])
    return [torch.cat(f) for f in feats], torch.cat(labels), squares / (size * sizes)
