"""nonlinear_rank (arXiv 2209.15055): deep-linear closed forms, the Jacobian bound, quick run."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import theorylab as tl
from theorylab.experiments import nonlinear_rank as nr
from theorylab.models.device import generator
from theorylab.models.mlp import init_mlp, select
from theorylab.theory import representation_cost as rc


def test_linear_minimiser_closed_forms():
    # L = 2: (s − m)² + 2λ s is minimised by soft thresholding s = max(m − λ, 0)
    assert nr.linear_minimiser(1.3, 0.1, 2) == pytest.approx(1.2, abs=1e-10)
    assert nr.linear_minimiser(0.05, 0.1, 2) == pytest.approx(0.0, abs=1e-10)
    # L = 1: (s − m)² + λ s² → s = m/(1 + λ)
    assert nr.linear_minimiser(2.0, 0.5, 1) == pytest.approx(2.0 / 1.5, abs=1e-10)
    # L > 2: stationarity s = m − λ s^{2/L − 1}, and it beats s = 0
    for depth in (3, 6, 12):
        s = nr.linear_minimiser(0.6, 1e-3, depth)
        assert s == pytest.approx(0.6 - 1e-3 * s ** (2 / depth - 1), abs=1e-12)
        phi = lambda t, d=depth: (t - 0.6) ** 2 + 1e-3 * d * t ** (2 / d)  # noqa: E731
        grid = np.linspace(0, 0.6, 20001)
        assert phi(s) <= phi(grid).min() + 1e-12
    # a small singular value at large depth is killed (0 is the global minimum)
    assert nr.linear_minimiser(0.01, 1e-3, 12) == 0.0


def test_linear_theory_tends_to_rank():
    """R(A; L)/L → rank A (item 2), and the depth-12 value matches the closed form."""
    p = nr.Params(linear_depths=(3, 12, 60))
    th = nr.theory(p)
    per_layer = th["linear_norm2"] / np.array(p.linear_depths)
    assert np.all(np.diff(per_layer) < 0)
    assert per_layer[-1] == pytest.approx(6.0, abs=0.05)
    s = [nr.linear_minimiser(m, p.lam, 12) for m in p.linear_singular_values]
    assert th["linear_norm2"][1] == pytest.approx(12 * np.sum(np.power(s, 2 / 12)), rel=1e-12)
    np.testing.assert_array_equal(th["linear_rank"], [6, 6, 6])
    np.testing.assert_array_equal(th["inner_dimension"], [2, 1])


def test_intercept_of_two_depths():
    a, b = nr.intercept((6, 12), (2 * 6 + 5.0, 2 * 12 + 5.0))
    assert (a, b) == pytest.approx((2.0, 5.0))
    # the note's measured norms (k = 2): 25.25 and 37.44 at L = 6, 12 give a ≈ 2.03
    assert nr.intercept((6, 12), (25.25, 37.44))[0] == pytest.approx(2.03, abs=0.005)


def test_bound_ratio_is_at_most_one_for_random_networks():
    """Item 3 holds for every θ (not only minima): random deep ReLU nets, all points, k ≤ 3."""
    p = nr.Params()
    x = torch.randn(64, 6, generator=generator(1), dtype=torch.float64)
    for depth in (2, 4, 8):
        ws = init_mlp([6, *([10] * (depth - 1)), 6], batch=3, generator=generator(depth))
        for b in range(3):
            out = nr.measure_relu([w.detach() for w in select(ws, b)], x, p)
            assert 0 < out["bound_ratio"] <= 1.0 + 1e-12
            assert out["weight_ranks"].shape == (depth,)
            assert out["rep_ranks"].shape == (depth - 1,)


def test_measure_relu_on_a_balanced_rank_two_network():
    """A net whose every layer is a scaled partial isometry of rank 2 on the positive orthant:
    Jacobian rank 2, weight ranks 2, and (balanced, one active pattern) bound ratio 1 at k = 2."""
    depth, c = 4, 1.1
    e = torch.zeros(6, 6, dtype=torch.float64)
    e[0, 0] = e[1, 1] = c
    ws = [e.clone() for _ in range(depth)]
    x = torch.rand(20, 6, generator=generator(2), dtype=torch.float64) + 0.1  # positive inputs
    out = nr.measure_relu(ws, x, nr.Params(max_bound_k=2))
    assert out["jac_rank_max"] == out["jac_rank_min"] == 2
    np.testing.assert_array_equal(out["weight_ranks"], [2] * depth)
    assert out["norm2"] == pytest.approx(2 * depth * c**2)
    # J = c^L diag(1, 1, 0…): L·2·(c^{2L})^{2/(2L)} = 2 L c² = ‖θ‖² (equality case of AM-GM)
    assert out["bound_ratio"] == pytest.approx(1.0, abs=1e-12)


def test_teacher_jacobian_ranks_match_autograd():
    from theorylab.models.teachers import bottleneck_teacher

    t = bottleneck_teacher(6, 2, 8, generator(0))
    x = torch.randn(40, 6, generator=generator(3), dtype=torch.float64)
    jac = torch.func.vmap(torch.func.jacrev(t))(x)
    s = torch.linalg.svdvals(jac)
    expected = (s > 1e-2 * s[:, :1]).sum(1).numpy()
    expected[s[:, 0].numpy() == 0] = 0
    np.testing.assert_array_equal(nr.teacher_jacobian_ranks(t, x, 1e-2), expected)


def test_linear_nets_reach_the_global_minimum_and_the_cost_identity():
    """Criterion (iv) and the closed-form minimum, at depths 2 and 4 (fast)."""
    p = nr.Params(linear_depths=(2, 4))
    th = nr.theory(p)
    out = nr.train_linear(p, 0)
    np.testing.assert_array_equal(out["linear_converged"], [1.0, 1.0])
    np.testing.assert_allclose(out["linear_norm2_sim"], out["linear_cost"], rtol=1e-5)
    np.testing.assert_allclose(out["linear_norm2_sim"], th["linear_norm2"], rtol=1e-6)
    np.testing.assert_allclose(out["linear_loss_sim"], th["linear_loss"], rtol=1e-6)
    # sanity of the closed form itself on the balanced factorisation
    s = np.array([nr.linear_minimiser(m, p.lam, 4) for m in p.linear_singular_values])
    factors = rc.balanced_factors(np.diag(s), 4)
    assert sum(np.sum(f**2) for f in factors) == pytest.approx(th["linear_norm2"][1])


def test_orthogonal_init_is_a_rotation():
    ws = nr.orthogonal_init(5, 3, generator(4), batch=2)
    for w in ws:
        eye = torch.eye(5, dtype=torch.float64).expand(2, 5, 5)
        torch.testing.assert_close(w.detach() @ w.detach().mT, eye)
        torch.testing.assert_close(torch.linalg.det(w.detach()), torch.ones(2, dtype=torch.float64))
    x, m = nr._whitened_problem(nr.Params(), 0)
    torch.testing.assert_close(x.T @ x / x.shape[0], torch.eye(6, dtype=torch.float64))
    assert torch.linalg.det(m) > 0


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"depths": (6, 3)}, "depths"),
        ({"depths": (6,)}, "depths"),
        ({"teacher_ranks": (7,)}, "teacher_ranks"),
        ({"lam": 0.0}, "lam"),
        ({"linear_singular_values": (1.0, 2.0)}, "linear_singular_values"),
        ({"weight_rtol": 2.0}, "weight_rtol"),
        ({"workers": 0}, "workers"),
    ],
)
def test_params_validation(overrides, match):
    with pytest.raises(ValueError, match=match):
        nr.Params(**overrides)


def test_small_relu_run_is_seeded_and_shaped():
    p = nr.Params(
        depths=(2, 3),
        adam_steps=100,
        lbfgs_calls=1,
        lbfgs_max_iter=50,
        workers=1,
        linear_depths=(2,),
        n_points=32,
        width=8,
    )
    a = nr.simulate(p, 0)
    b = nr.simulate(p, 0)
    np.testing.assert_array_equal(a["norm2"], b["norm2"])
    assert a["norm2"].shape == (2, 2) and a["intercept"].shape == (2,)
    assert a["weight_top"].shape == (2, 2, 3, nr.N_TOP)
    assert a["rep_ranks"].shape == (2, 2, 2)


@pytest.mark.slow
def test_quick_run_passes():
    """The note's quick protocol (depths 3, 6, 12; k = 2 and signed k = 1 teachers)."""
    result = tl.run("nonlinear_rank")
    failed = [c for c in result.checks if not c.passed]
    assert result.passed, failed


SMALL = {
    "depths": (3, 4),
    "adam_steps": 300,
    "lbfgs_calls": 1,
    "lbfgs_max_iter": 200,
    "n_points": 48,
    "width": 12,
    "linear_depths": (3, 4),
    "workers": 1,
}


def test_small_run_theorem_checks_pass():
    """Reduced setting through tl.run (the full quick protocol is the slow test below): the
    theorem-type checks — the item-3 bound ratio ≤ 1 at every point and the deep-linear closed
    form — must hold at any depth and any training length; the intercept and rank criteria need
    the quick protocol's depths and are not asserted here."""
    result = tl.run("nonlinear_rank", SMALL, seeds=1)
    by_name: dict[str, list] = {}
    for c in result.checks:
        by_name.setdefault(c.observable.split("[")[0].split(" ")[0], []).append(c)
    for name in ("bound_ratio", "linear_norm2"):
        assert by_name[name] and all(c.passed for c in by_name[name]), by_name[name]
    theory_linear = np.asarray(result.theory["linear_norm2"])
    assert theory_linear.shape == (2,)
    fig = nr.figure(result)
    assert len(fig.axes) >= 2
