"""theory/representation_cost.py: closed forms, expansion, brute force and the Horn/AM-GM bounds."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize

from theorylab.theory import representation_cost as rc


def _svals(a: np.ndarray) -> np.ndarray:
    return np.linalg.svd(a, compute_uv=False)


def _norm2(weights) -> float:
    return float(sum(np.sum(w**2) for w in weights))


def _product(weights) -> np.ndarray:
    out = weights[0]
    for w in weights[1:]:
        out = w @ out
    return out


# ------------------------------------------------------------------------------ linear cost


def test_depth_one_is_frobenius_and_depth_two_is_twice_nuclear():
    a = np.random.default_rng(0).normal(size=(4, 3))
    s = _svals(a)
    assert rc.linear_cost(s, 1) == pytest.approx(np.sum(a**2), rel=1e-13)
    assert rc.linear_cost(s, 2) == pytest.approx(2 * np.sum(s), rel=1e-13)


def test_large_depth_cost_per_layer_tends_to_rank():
    # rank-2 matrix with a zero singular value: cost/L = Σ s^{2/L} → 2 (the zero contributes 0)
    s = np.array([3.0, 0.2, 0.0])
    vals = [rc.linear_cost(s, L) / L for L in (10.0, 1e3, 1e6)]
    assert abs(vals[2] - 2.0) < 1e-5
    assert abs(vals[0] - 2.0) > abs(vals[1] - 2.0) > abs(vals[2] - 2.0)


def test_batched_singular_values():
    s = np.array([[2.0, 1.0], [1.0, 1.0]])
    np.testing.assert_allclose(rc.linear_cost(s, 4), [4 * (2**0.5 + 1), 8.0])


@pytest.mark.parametrize("depth", [2, 3, 5])
def test_balanced_factorisation_attains_the_cost(depth):
    a = np.random.default_rng(depth).normal(size=(4, 3))
    ws = rc.balanced_factors(a, depth)
    assert len(ws) == depth
    np.testing.assert_allclose(_product(ws), a, atol=1e-12)
    assert _norm2(ws) == pytest.approx(rc.linear_cost(_svals(a), depth), rel=1e-12)
    # balanced: every layer carries the same norm
    norms = [np.sum(w**2) for w in ws]
    np.testing.assert_allclose(norms, norms[0], rtol=1e-12)


def test_balanced_factorisation_of_a_low_rank_matrix_has_rank_width():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(5, 2)) @ rng.normal(size=(2, 4))
    ws = rc.balanced_factors(a, 4)
    assert ws[0].shape == (2, 4) and ws[-1].shape == (5, 2)
    # the SVD of the rank-2 product has round-off values ~1e-16 whose s^{2/L} ~ 1e-8 would count
    assert _norm2(ws) == pytest.approx(rc.linear_cost(_svals(a)[:2], 4), rel=1e-12)


@pytest.mark.parametrize("seed", range(20))
def test_random_factorisations_never_go_below_the_cost(seed):
    rng = np.random.default_rng(seed)
    depth = int(rng.integers(1, 6))
    widths = rng.integers(1, 5, size=depth + 1)
    ws = [rng.normal(size=(widths[i + 1], widths[i])) for i in range(depth)]
    a = _product(ws)
    assert _norm2(ws) >= rc.linear_cost(_svals(a), depth) * (1 - 1e-12)


def test_brute_force_minimum_over_factorisations_equals_the_cost():
    """Minimise Σ‖W_ℓ‖² over the gauge W_ℓ → G_ℓ W_ℓ G_{ℓ−1}^{−1} of a random factorisation."""
    rng = np.random.default_rng(7)
    depth, n = 3, 3
    ws = [rng.normal(size=(n, n)) for _ in range(depth)]
    a = _product(ws)

    def gauged(z):
        g = [np.eye(n), *(z.reshape(depth - 1, n, n)), np.eye(n)]
        return [g[i + 1] @ ws[i] @ np.linalg.inv(g[i]) for i in range(depth)]

    z0 = np.tile(np.eye(n), (depth - 1, 1, 1)).ravel()
    res = minimize(lambda z: _norm2(gauged(z)), z0, method="BFGS", options={"gtol": 1e-10})
    np.testing.assert_allclose(_product(gauged(res.x)), a, atol=1e-9)
    assert res.fun == pytest.approx(rc.linear_cost(_svals(a), depth), rel=1e-6)
    assert res.fun >= rc.linear_cost(_svals(a), depth) * (1 - 1e-12)


# ------------------------------------------------------------------------------ rank rule


def _orthonormal(rng, n: int, k: int) -> np.ndarray:
    q, _ = np.linalg.qr(rng.normal(size=(n, k)))
    return q


RANK_DEFICIENT_SHAPES = [(3, 3), (4, 3), (3, 5), (5, 5), (6, 4), (4, 7), (8, 5)]
DEPTHS = [2, 5, 16, 64, 128]


@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize("rank", [1, 2])
@pytest.mark.parametrize("shape", RANK_DEFICIENT_SHAPES)
def test_cost_of_exactly_rank_deficient_matrices(shape, rank, depth):
    # A = U diag(s) Vᵀ with known non-zero singular values s: its SVD returns min(shape) - rank
    # round-off values ~1e-16 s_max, each of which would add L (1e-16)^{2/L} (≈ 0.3 at L = 64).
    rng = np.random.default_rng(1000 * shape[0] + 10 * shape[1] + rank)
    exact = np.sort(rng.uniform(0.2, 5.0, size=rank))[::-1]
    a = _orthonormal(rng, shape[0], rank) @ np.diag(exact) @ _orthonormal(rng, shape[1], rank).T
    s = _svals(a)
    assert s.size == min(shape)
    expected = depth * np.sum(exact ** (2.0 / depth))
    assert rc.linear_cost(s, depth) == pytest.approx(expected, rel=1e-12)
    r0, r1, r2 = rc.linear_expansion(s)
    assert r0 == rank
    assert r1 == pytest.approx(2 * np.sum(np.log(exact)), rel=1e-12, abs=1e-12)
    assert r2 == pytest.approx(2 * np.sum(np.log(exact) ** 2), rel=1e-12, abs=1e-12)
    ws = rc.balanced_factors(a, depth)
    assert ws[0].shape == (rank, shape[1])
    assert _norm2(ws) == pytest.approx(expected, rel=1e-12)
    assert np.sum(rc.nonzero_singular_values(s)) == rank


@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize("rank", [1, 2])
@pytest.mark.parametrize("shape", RANK_DEFICIENT_SHAPES)
def test_cost_of_low_rank_products(shape, rank, depth):
    # A = B C (B: m × r, C: r × n) as formed in floating point; its non-zero singular values
    # are those of the r × r matrix R_B R_Cᵀ (B = Q_B R_B, Cᵀ = Q_C R_C), computed accurately.
    rng = np.random.default_rng(7 * shape[0] + shape[1] + 100 * rank)
    b, c = rng.normal(size=(shape[0], rank)), rng.normal(size=(rank, shape[1]))
    exact = _svals(np.linalg.qr(b)[1] @ np.linalg.qr(c.T)[1].T)
    s = _svals(b @ c)
    expected = depth * np.sum(exact ** (2.0 / depth))
    assert rc.linear_cost(s, depth) == pytest.approx(expected, rel=1e-12)
    assert rc.linear_expansion(s).r0 == rank


def test_round_off_singular_values_used_to_count():
    # The bug the rank rule fixes: a rank-2 3 × 3 matrix, all values summed (rtol=0).
    rng = np.random.default_rng(0)
    a = _orthonormal(rng, 3, 2) @ np.diag([2.0, 0.7]) @ _orthonormal(rng, 3, 2).T
    s = _svals(a)
    assert 0 < s[2] < 1e-15
    exact = {depth: depth * (2.0 ** (2 / depth) + 0.7 ** (2 / depth)) for depth in (5, 64)}
    assert rc.linear_cost(s, 5, rtol=0) / exact[5] - 1 > 1e-8
    assert rc.linear_cost(s, 64, rtol=0) / exact[64] - 1 > 0.1
    assert rc.linear_cost(s, 64) == pytest.approx(exact[64], rel=1e-14)
    assert rc.linear_expansion(s, rtol=0).r0 == 3
    assert rc.linear_expansion(s).r0 == 2


def test_rank_rule_is_relative_and_batched():
    assert rc.RANK_RTOL / np.finfo(float).eps == 512
    # relative to s_max: 1e-12 counts, 1e-14 does not
    s = np.array([[1e6, 1e-6, 1e-8], [1.0, 1e-14, 0.0], [0.0, 0.0, 0.0]])
    np.testing.assert_array_equal(
        rc.nonzero_singular_values(s),
        [[True, True, False], [True, False, False], [False, False, False]],
    )
    np.testing.assert_allclose(
        rc.linear_cost(s, 4), [4 * (1e6**0.5 + 1e-6**0.5), 4.0, 0.0], rtol=1e-14
    )
    np.testing.assert_array_equal(rc.linear_expansion(s).r0, [2.0, 1.0, 0.0])
    # an explicit atol still applies on top of the relative rule
    assert rc.linear_expansion(s[0], atol=1e-3).r0 == 1
    # the order of the input does not matter
    np.testing.assert_array_equal(rc.nonzero_singular_values([1e-17, 1.0]), [False, True])
    with pytest.raises(ValueError, match="rtol"):
        rc.linear_cost([1.0], 2, rtol=-1.0)


# ------------------------------------------------------------------------------ expansion


def test_expansion_terms():
    s = np.array([np.e**2, 1.0, np.e**-1, 0.0])
    r0, r1, r2 = rc.linear_expansion(s)
    assert r0 == 3
    assert r1 == pytest.approx(2 * (2 + 0 - 1))
    assert r2 == pytest.approx(2 * (4 + 0 + 1))
    assert rc.linear_expansion(s, atol=0.5).r0 == 2


def test_expansion_remainder_is_order_inverse_depth_squared():
    """cost − (L R0 + R1 + R2/L) = (4/3) Σ (log s)³ / L² + O(L^{−3})  (next Taylor term)."""
    s = np.array([4.0, 1.5, 0.3, 0.0])
    exp = rc.linear_expansion(s)
    depths = np.array([10.0, 20.0, 40.0, 80.0, 160.0])
    rem = np.array([rc.linear_cost(s, L) - exp.cost(L) for L in depths])
    scaled = rem * depths**2
    logs = np.log(s[:3])
    limit = 4.0 / 3.0 * np.sum(logs**3)
    # the scaled remainder converges to the third-order coefficient, with O(1/L) corrections
    errs = np.abs(scaled - limit)
    assert np.all(np.diff(errs) < 0)
    assert errs[-1] < 0.02 * abs(limit)
    # halving ratios → 1/4 (0.22 at L = 10 → 20 from the O(L^{−3}) term, 0.246 at 80 → 160)
    np.testing.assert_allclose(rem[2:] / rem[1:-1], 0.25, atol=0.02)


def test_expansion_lower_orders_are_not_enough():
    # without R2/L the remainder is O(1/L): scaling it by L² diverges
    s = np.array([4.0, 0.3])
    exp = rc.linear_expansion(s)
    r = [(rc.linear_cost(s, L) - L * exp.r0 - exp.r1) * L for L in (50.0, 500.0)]
    assert r[1] == pytest.approx(exp.r2, rel=1e-2)


# ------------------------------------------------------------------------------ ReLU bounds


def _random_relu_net(rng):
    depth = int(rng.integers(2, 9))
    d_in, d_out = int(rng.integers(2, 6)), int(rng.integers(2, 6))
    widths = [d_in, *rng.integers(2, 10, size=depth - 1), d_out]
    scale = rng.uniform(0.3, 2.0)
    ws = [
        scale * rng.normal(size=(widths[i + 1], widths[i])) / np.sqrt(widths[i])
        for i in range(depth)
    ]
    return ws


def _relu_jacobians(ws, x):
    """Exact Jacobians W_L D_{L−1} ⋯ D_1 W_1 at the rows of x (numpy reference)."""
    jacs = []
    for xi in x:
        h, jac = xi, np.eye(xi.size)
        for ell, w in enumerate(ws):
            z = w @ h
            jac = w @ jac
            if ell < len(ws) - 1:
                mask = (z > 0).astype(float)
                h = z * mask
                jac = mask[:, None] * jac
        jacs.append(jac)
    return np.array(jacs)


@pytest.mark.parametrize("seed", range(40))
def test_horn_amgm_bounds_hold_on_random_relu_nets(seed):
    rng = np.random.default_rng(100 + seed)
    ws = _random_relu_net(rng)
    depth = len(ws)
    x = rng.normal(size=(16, ws[0].shape[1]))
    js = np.linalg.svd(_relu_jacobians(ws, x), compute_uv=False)  # (16, min)
    norm2 = _norm2(ws)
    layer_s = [_svals(w) for w in ws]
    for k in range(1, js.shape[1] + 1):
        head = rc.weight_head(layer_s, k)
        tail = rc.weight_tail(layer_s, k)
        assert head + tail == pytest.approx(norm2, rel=1e-12)
        bound = rc.jacobian_bound(js, depth, k)
        log_bound = rc.jacobian_log_bound(js, depth, k)
        assert np.all(head >= bound * (1 - 1e-12)), (k, head, bound.max())
        assert np.all(bound >= log_bound - 1e-12 * np.abs(log_bound))
        assert np.all(tail <= rc.tail_bound(norm2, js, depth, k) + 1e-10)
        assert np.all(
            rc.tail_bound(norm2, js, depth, k) <= rc.tail_log_bound(norm2, js, depth, k) + 1e-10
        )


def test_bound_is_tight_for_balanced_linear_factorisation_of_a_multiple_of_an_isometry():
    # J = c·Q (Q with orthonormal columns), balanced factors: every top singular value is c^{1/L}
    rng = np.random.default_rng(3)
    q, _ = np.linalg.qr(rng.normal(size=(4, 2)))
    depth, c = 5, 1.7
    ws = rc.balanced_factors(c * q.T, depth)
    js = _svals(_product(ws))
    assert rc.jacobian_bound(js, depth, 2) == pytest.approx(_norm2(ws), rel=1e-12)


def test_log_bound_and_tail_bounds_match_definitions():
    s = np.array([2.0, 0.5, 0.1])
    assert rc.log_pdet_k(s, 2) == pytest.approx(np.log(1.0))
    assert rc.jacobian_log_bound(s, 6, 2) == pytest.approx(12.0)
    assert rc.jacobian_bound(s, 6, 1) == pytest.approx(6 * 2 ** (2 / 6))
    assert rc.tail_bound(20.0, s, 6, 1) == pytest.approx(20 - 6 * 2 ** (2 / 6))
    assert rc.tail_log_bound(20.0, s, 6, 1) == pytest.approx(20 - 6 - 2 * np.log(2))
    assert rc.log_pdet_k(np.array([1.0, 0.0]), 2) == -np.inf
    assert rc.layers_above_bound(3.0, 0.5) == 6.0


# ------------------------------------------------------------------------------ trade-off


def test_preferred_dimension_switches_at_crossover_depth():
    r1 = {2: 13.4, 3: 6.0}  # lower dimension is less regular here
    l_star = rc.crossover_depth(2, r1[2], 3, r1[3])
    assert l_star == pytest.approx(7.4)
    assert rc.preferred_dimension(l_star - 0.1, r1) == 3
    assert rc.preferred_dimension(l_star + 0.1, r1) == 2
    # L k + R1_k at L = 10: 60, 23, 40 → k = 2; at L = 100: 150, 203, 490 → k = 1
    assert rc.preferred_dimension(10.0, {1: 50.0, 2: 3.0, 5: -10.0}) == 2
    assert rc.preferred_dimension(100.0, {1: 50.0, 2: 3.0, 5: -10.0}) == 1


def test_expected_top_singular_value():
    # note (2305.19008 Checks): √(1 + 13.4/24) = 1.25 at L = 12, k = 2
    assert rc.expected_top_singular_value(13.4, 2, 12) == pytest.approx(1.248, abs=1e-3)
    assert rc.expected_top_singular_value(0.0, 3, 7) == 1.0


def test_expected_top_value_is_the_amgm_equality_case():
    # a balanced factorisation of c·Q (k orthonormal columns) has all top-k values c^{1/L};
    # its cost L k + R1 with R1 = 2k log c gives back √(1 + R1/(kL)) ≈ c^{1/L} at large L
    c, k, depth = 3.0, 2, 400
    r1 = rc.linear_expansion(np.full(k, c)).r1
    assert rc.expected_top_singular_value(r1, k, depth) == pytest.approx(c ** (1 / depth), rel=1e-5)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: rc.linear_cost([1.0, -1.0], 2), "singular values"),
        (lambda: rc.linear_cost([1.0], 0), "depth"),
        (lambda: rc.jacobian_bound([1.0, 2.0], 3, 3), "k"),
        (lambda: rc.crossover_depth(3, 1.0, 2, 1.0), "k_prime"),
        (lambda: rc.balanced_factors(np.ones(3), 2), "2-D"),
        (lambda: rc.layers_above_bound(1.0, 0.0), "p"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
