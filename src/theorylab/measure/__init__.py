"""Measurements on trained models and data: spectra and ranks, Jacobians, norms, neurons,
and the layer-wise reformulation of the regularised loss (arXiv 2205.15809).

Every measurement accepts torch tensors or numpy arrays and returns numpy arrays or python
numbers (the Jacobian builders return torch tensors, to be passed on to the spectra).
"""

from theorylab.measure.bottleneck import NetworkProfile, layer_summary, network_profile
from theorylab.measure.jacobian import (
    activation_masks,
    input_jacobians,
    layer_jacobians,
    layer_to_layer_jacobians,
    ntk_gram,
    relu_mlp_jacobians,
    relu_mlp_ntk_gram,
    relu_mlp_ntk_spectrum,
)
from theorylab.measure.neurons import (
    NeuronReport,
    count_rays,
    effective_neurons,
    merge_neurons,
    neuron_directions,
    participation_ratio,
)
from theorylab.measure.norms import balancedness, layer_norms2, parameter_norm2
from theorylab.measure.representation import (
    ReformulationReport,
    gram,
    layer_representations,
    pinv_trace,
    reformulated_loss_k,
    reformulated_loss_r,
    reformulation_report,
    residual_weights,
    span_projector,
)
from theorylab.measure.spectra import (
    RankReport,
    describe_threshold,
    log_pdet,
    numerical_rank,
    rank_report,
    singular_values,
    stable_rank,
    to_numpy,
)

__all__ = [
    "NetworkProfile",
    "NeuronReport",
    "RankReport",
    "ReformulationReport",
    "activation_masks",
    "balancedness",
    "count_rays",
    "describe_threshold",
    "effective_neurons",
    "gram",
    "input_jacobians",
    "layer_jacobians",
    "layer_norms2",
    "layer_representations",
    "layer_summary",
    "layer_to_layer_jacobians",
    "log_pdet",
    "merge_neurons",
    "network_profile",
    "neuron_directions",
    "ntk_gram",
    "numerical_rank",
    "parameter_norm2",
    "participation_ratio",
    "pinv_trace",
    "rank_report",
    "reformulated_loss_k",
    "reformulated_loss_r",
    "reformulation_report",
    "relu_mlp_jacobians",
    "relu_mlp_ntk_gram",
    "relu_mlp_ntk_spectrum",
    "residual_weights",
    "singular_values",
    "span_projector",
    "stable_rank",
    "to_numpy",
]
