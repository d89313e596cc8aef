"""The twenty papers theorylab covers (slug, arXiv id, title), implemented or not yet."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PAPERS", "Paper"]


@dataclass(frozen=True)
class Paper:
    slug: str
    arxiv: str
    title: str
    family: str


PAPERS: tuple[Paper, ...] = (
    Paper(
        "bayes_extensive",
        "2302.00375",
        "Bayes-optimal learning of deep random networks of extensive width",
        "random features",
    ),
    Paper(
        "deep_random_features",
        "2302.00401",
        "Deterministic equivalent and error universality of deep random features learning",
        "random features",
    ),
    Paper(
        "rainbow_features",
        "2402.13999",
        "Asymptotics of learning with deep structured (random) features",
        "random features",
    ),
    Paper(
        "one_step_gd",
        "2402.04980",
        "Asymptotics of feature learning in two-layer networks after one gradient-step",
        "one step",
    ),
    Paper(
        "spiked_rf_spectrum",
        "2410.18938",
        "A random matrix theory perspective on the spectrum of learned features and asymptotic "
        "generalization capabilities",
        "one step",
    ),
    Paper(
        "denoising_autoencoder",
        "2305.11041",
        "High-dimensional asymptotics of denoising autoencoders",
        "generative",
    ),
    Paper(
        "flow_gmm",
        "2310.03575",
        "Analysis of learning a flow-based generative model from limited sample complexity",
        "generative",
    ),
    Paper(
        "generative_collapse",
        "2501.03937",
        "A solvable model of learning generative diffusion: theory and insights",
        "generative",
    ),
    Paper(
        "sequence_multi_index",
        "2409.13904",
        "High-dimensional learning of narrow neural networks",
        "message passing",
    ),
    Paper(
        "dot_product_attention",
        "2402.03902",
        "A phase transition between positional and semantic learning in a solvable model of "
        "dot-product attention",
        "message passing",
    ),
    Paper(
        "feature_learning_sparsity",
        "2205.15809",
        "Feature learning in L2-regularized DNNs: attraction/repulsion and sparsity",
        "implicit bias",
    ),
    Paper(
        "nonlinear_rank",
        "2209.15055",
        "Implicit bias of large depth networks: a notion of rank for nonlinear functions",
        "implicit bias",
    ),
    Paper(
        "bottleneck_rank",
        "2305.19008",
        "Bottleneck structure in learned features: low-dimension vs regularity tradeoff",
        "implicit bias",
    ),
    Paper(
        "sgd_rank_jumps",
        "2305.16038",
        "Implicit bias of SGD in L2-regularized linear DNNs: one-way jumps from high to low rank",
        "linear networks",
    ),
    Paper(
        "linear_mixed_regime",
        "2405.17580",
        "Mixed dynamics in linear networks: unifying the lazy and active regimes",
        "linear networks",
    ),
    Paper(
        "leaky_resnet",
        "2405.17573",
        "Hamiltonian mechanics of feature learning: bottleneck structure in leaky ResNets",
        "architectures",
    ),
    Paper(
        "convolution_bottleneck",
        "2402.08010",
        "Which frequencies do CNNs need? Emergent bottleneck structure in feature learning",
        "architectures",
    ),
    Paper(
        "neural_collapse",
        "2410.04887",
        "Wide neural networks trained with weight decay provably exhibit neural collapse",
        "architectures",
    ),
    Paper(
        "compositional_scaling",
        "2407.05664",
        "How DNNs break the curse of dimensionality: compositionality and symmetry learning",
        "architectures",
    ),
    Paper(
        "barron_diffusion",
        "2410.11275",
        "Shallow diffusion networks provably learn hidden low-dimensional structure",
        "generative",
    ),
)
