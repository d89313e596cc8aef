"""Sparsity measurements (arXiv 2205.15809): curves, edges, blocks, pruning — on known inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from theorylab.measure import sparsity
from theorylab.theory.tight_example import incidence_matrix, plateau_output


def test_max_relative_increase():
    assert sparsity.max_relative_increase((3, 1, 2), [1.0, 3.0, 2.0]) == pytest.approx(-1 / 3)
    assert sparsity.max_relative_increase((1, 2, 3), [2.0, 1.0, 1.5]) == pytest.approx(0.5)
    assert sparsity.max_relative_increase((1, 2), [1.0, 1.0]) == 0.0
    # one width compares nothing: NaN, so that a check reading it cannot pass vacuously
    assert math.isnan(sparsity.max_relative_increase((1,), [2.0]))


def test_plateau_onset():
    widths = (6, 7, 8, 9, 10, 11, 12)
    loss = [0.3607, 0.3595, 0.3582, 0.357, 0.357 * (1 + 1e-8), 0.357, 0.357]
    assert sparsity.plateau_onset(widths, loss, 1e-6) == 9
    # order of the sweep does not matter; a dip back above the plateau moves the onset on
    assert sparsity.plateau_onset(widths[::-1], loss[::-1], 1e-6) == 9
    bumped = list(loss)
    bumped[4] = 0.358
    assert sparsity.plateau_onset(widths, bumped, 1e-6) == 11
    # the smallest width already on the plateau: the onset is not bracketed
    assert math.isnan(sparsity.plateau_onset((9, 10), [0.357, 0.357], 1e-6))
    with pytest.raises(ValueError):
        sparsity.plateau_onset((1, 2), [1.0], 1e-6)


def test_edges_covered_on_constructed_weights():
    n = 6
    e = incidence_matrix(n)  # 9 edge neurons
    w_out = np.ones((n, e.shape[0]))
    assert sparsity.edges_covered(e, w_out) == 9
    assert sparsity.edges_covered(e[1:], w_out[:, 1:]) == 8
    # a same-side pair covers nothing; a neuron with no outgoing weight is not active
    same_side = np.zeros((1, n))
    same_side[0, [0, 1]] = 1.0
    assert sparsity.edges_covered(same_side, np.ones((n, 1))) == 0
    dead = w_out.copy()
    dead[:, 0] = 0.0
    assert sparsity.edges_covered(e, dead) == 8


def test_bipartite_blocks():
    y = plateau_output(6, 0.01)
    means, spread = sparsity.bipartite_blocks(y)
    np.testing.assert_allclose(means, [3 - 0.06 + 0.01, 0.01, 0.99])
    assert spread == pytest.approx(0.0, abs=1e-12)
    y[0, 1] += 0.1
    assert sparsity.bipartite_blocks(y)[1] == pytest.approx(0.1)
    with pytest.raises(ValueError):
        sparsity.bipartite_blocks(np.ones((3, 3)))


def test_tight_structure_of_the_edge_network():
    n = 6
    w1 = incidence_matrix(n)
    y = w1.T @ w1
    w2 = y @ np.linalg.pinv(w1)
    s = sparsity.tight_structure(w1, w2)
    assert s.rays == 9 and s.edges_covered == 9
    np.testing.assert_allclose(s.output_blocks, [3.0, 0.0, 1.0], atol=1e-12)
    assert s.output_spread == pytest.approx(0.0, abs=1e-12)
    # K_1^σ = EᵀE = Y_N = Ŷ: the edge network has the hidden Gram equal to its output
    assert s.gram_output_gap == pytest.approx(0.0, abs=1e-12)


def test_prune_merges_aligned_neurons_and_keeps_the_function():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((12, 4))
    base = rng.standard_normal((3, 4))
    w1 = np.vstack([base, 2.0 * base[:2], 0.5 * base[:1]])  # 6 neurons on 3 rays
    w2 = rng.standard_normal((2, 6))
    pruned, widths = sparsity.prune([w1, w2], cos=0.9999)
    assert widths == [3]
    before = np.maximum(x @ w1.T, 0) @ w2.T
    after = np.maximum(x @ pruned[0].T, 0) @ pruned[1].T
    np.testing.assert_allclose(after, before, atol=1e-12)
    norm = sum(np.sum(w**2) for w in pruned)
    assert norm <= np.sum(w1**2) + np.sum(w2**2)


def test_prune_drops_negligible_neurons_in_deep_networks():
    rng = np.random.default_rng(1)
    ws = [rng.standard_normal((5, 3)), rng.standard_normal((4, 5)), rng.standard_normal((1, 4))]
    ws[0][2] *= 1e-5  # a negligible neuron of the first hidden layer
    pruned, widths = sparsity.prune(ws, cos=0.9999, min_size=1e-3)
    assert widths == [4, 4]
    assert [w.shape for w in pruned] == [(4, 3), (4, 4), (1, 4)]
