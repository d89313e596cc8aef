"""Ray counting on constructed neurons: duplicates and positive rescalings merge, zeros drop."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from theorylab.measure.neurons import (
    count_rays,
    effective_neurons,
    merge_neurons,
    neuron_directions,
    participation_ratio,
)


def _unit_rows(rng, n, d):
    v = rng.standard_normal((n, d))
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _constructed_layer():
    """Four generic rays plus copies: expected 5 rays among 7 active of 10 neurons."""
    rng = np.random.default_rng(0)
    base = _unit_rows(rng, 4, 5)
    out = rng.standard_normal((3, 4))
    rows = [base[0], base[1], base[2], base[3]]
    cols = [out[:, 0], out[:, 1], out[:, 2], out[:, 3]]
    rows.append(base[0].copy())  # exact duplicate of neuron 0
    cols.append(out[:, 0].copy())
    rows.append(3.0 * base[1])  # positive rescaling of neuron 1, different outgoing weight
    cols.append(-0.5 * out[:, 3])
    rows.append(-base[2])  # negative multiple: relu(−t) is a different ray
    cols.append(out[:, 2])
    rows.append(np.zeros(5))  # zero incoming weights
    cols.append(out[:, 1])
    rows.append(base[3])  # zero outgoing weights
    cols.append(np.zeros(3))
    rows.append(1e-5 * base[1] + 1e-5 * base[2])  # negligible size (≈1e-5 of the largest)
    cols.append(out[:, 0])
    return np.stack(rows), np.stack(cols, axis=1)


def test_count_rays_on_constructed_neurons():
    w_in, w_out = _constructed_layer()
    report = effective_neurons(w_in, w_out)
    assert (report.n_neurons, report.n_active, report.n_rays) == (10, 7, 5)
    labels = report.labels
    assert labels[0] == labels[4]  # duplicate
    assert labels[1] == labels[5]  # scaled copy
    assert labels[2] != labels[6]  # sign flip is another ray
    assert np.all(labels[7:] == -1)  # zero / dead / negligible neurons dropped
    assert len(set(labels[:7])) == 5
    assert count_rays(torch.from_numpy(w_in), torch.from_numpy(w_out)) == 5
    # ordering of the neurons does not matter
    perm = np.random.default_rng(1).permutation(10)
    assert count_rays(w_in[perm], w_out[:, perm]) == 5
    # without the size cut-off the tiny neuron counts as a sixth ray
    assert count_rays(w_in, w_out, min_norm=0.0) == 6
    assert "cosine > 0.9999" in report.criterion


def test_cosine_threshold():
    rng = np.random.default_rng(2)
    u, e = _unit_rows(rng, 2, 6)
    e = e - (e @ u) * u
    e /= np.linalg.norm(e)
    w_out = np.ones((1, 2))
    for angle, merged in [(1e-3, True), (0.05, False)]:  # cos 1 − 5e-7 vs cos 0.99875
        w_in = np.stack([u, np.cos(angle) * u + np.sin(angle) * e])
        assert count_rays(w_in, w_out) == (1 if merged else 2)
    assert count_rays(w_in, w_out, cos=0.99) == 1


def test_directions_sizes_and_participation_ratio():
    w_in, w_out = _constructed_layer()
    d, size = neuron_directions(w_in, w_out)
    np.testing.assert_allclose(np.linalg.norm(d[:7], axis=1), 1.0)
    assert np.all(d[7] == 0)
    np.testing.assert_allclose(
        size, np.linalg.norm(w_in, axis=1) * np.linalg.norm(w_out, axis=0), rtol=1e-14
    )
    # invariant under the homogeneity rescaling (c on w_in, 1/c on w_out)
    np.testing.assert_allclose(neuron_directions(4 * w_in, w_out / 4)[1], size, rtol=1e-14)
    assert participation_ratio(np.ones(6)) == pytest.approx(6.0)
    assert participation_ratio([1.0, 1e-8]) == pytest.approx(1.0, rel=1e-7)
    assert participation_ratio(np.zeros(3)) == 0.0
    report = effective_neurons(w_in, w_out)
    assert 1.0 <= report.participation_ratio <= report.n_rays


def test_merged_network_computes_the_same_function_with_no_more_norm():
    w_in, w_out = _constructed_layer()
    report = effective_neurons(w_in, w_out, min_norm=0.0)  # keep all non-zero neurons
    m_in, m_out = merge_neurons(w_in, w_out, report.labels)
    assert m_in.shape == (report.n_rays, 5) and m_out.shape == (3, report.n_rays)
    x = np.random.default_rng(3).standard_normal((50, 5))
    f = np.maximum(x @ w_in.T, 0) @ w_out.T
    g = np.maximum(x @ m_in.T, 0) @ m_out.T
    np.testing.assert_allclose(g, f, rtol=1e-12, atol=1e-12)
    assert (m_in**2).sum() + (m_out**2).sum() <= (w_in**2).sum() + (w_out**2).sum()
    # merged neurons are balanced: ‖w_in,r‖ = ‖w_out,r‖
    np.testing.assert_allclose(np.linalg.norm(m_in, axis=1), np.linalg.norm(m_out, axis=0))


def test_data_features_merge_neurons_equal_on_the_data():
    rng = np.random.default_rng(4)
    x = np.zeros((8, 4))
    x[:, :2] = rng.standard_normal((8, 2))  # data spans only the first two coordinates
    a = np.array([1.0, 0.5, 0.0, 0.0])
    w_in = np.stack([a, 2 * a + np.array([0, 0, 1.0, 0])])  # differ off the data span
    w_out = np.ones((1, 2))
    assert count_rays(w_in, w_out) == 2
    assert count_rays(w_in, w_out, features=x) == 1
    # X = I: data mode and weight mode coincide
    assert count_rays(w_in, w_out, features=np.eye(4)) == 2


def test_batched_count_rays():
    w_in, w_out = _constructed_layer()
    copies = [0, 1, 2, 3, 0, 1, 2, 3, 0, 1]  # ten neurons on the four base rays
    batch_in = np.stack([w_in, w_in[copies]])
    batch_out = np.stack([w_out, w_out[:, copies]])
    np.testing.assert_array_equal(count_rays(batch_in, batch_out), [5, 4])
    with pytest.raises(ValueError, match="columns"):
        count_rays(w_in, w_out[:, :3])
    with pytest.raises(ValueError, match="cos"):
        effective_neurons(w_in, w_out, cos=1.0)
