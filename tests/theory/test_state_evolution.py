"""State evolution: published values, the stable integral, ERM closed form, SE = GAMP, committee."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest

from theorylab.theory.gamp import (
    CommitteeSignChannel,
    GaussianPrior,
    RademacherPrior,
    SignChannel,
    SquareLoss,
    gamp,
)
from theorylab.theory.gaussian import gauss_hermite
from theorylab.theory.state_evolution import (
    bo_error,
    bo_hat,
    bo_state_evolution,
    erm_state_evolution,
    gaussian_nodes,
    sign_bo_limit,
    sign_qhat,
    specialisation_threshold,
)


@dataclass(frozen=True)
class _Generic:
    """A channel that hides its type, so the SE takes the generic quadrature path."""

    inner: object
    k: int = 1

    @property
    def labels(self):
        return self.inner.labels

    def partition(self, y, omega, v):
        return self.inner.partition(y, omega, v)

    def gout(self, y, omega, v):
        return self.inner.gout(y, omega, v)


def _perceptron_q(alpha):
    res = bo_state_evolution(GaussianPrior(), SignChannel(), alpha, np.array([[1e-4]]),
                             damping=0.5, tol=1e-12)
    assert res.status.converged
    return float(res.x[0, 0])


def test_bo_perceptron_large_alpha_law():
    # Opper & Haussler (1991); Engel & Van den Broeck, "Statistical Mechanics of Learning"
    # (2001), Sec. 3.6: the Bayes-optimal perceptron's error decays as 0.442/α.
    assert sign_bo_limit() == pytest.approx(0.442, abs=5e-4)
    for alpha in (100.0, 1000.0):
        eps = math.acos(math.sqrt(_perceptron_q(alpha))) / math.pi
        assert alpha * eps == pytest.approx(sign_bo_limit(), rel=2e-3)


def test_bo_perceptron_reference_values():
    # BO error of the Gaussian teacher–student perceptron (the Bayes curve of Engel & Van den
    # Broeck 2001, Ch. 3); the numbers 0.2544, 0.1745, 0.0839 at α = 1, 2, 5 come from an
    # independent implementation (the project's paper note on 2409.13904), not from this code.
    for alpha, eps in ((1.0, 0.2544), (2.0, 0.1745), (5.0, 0.0839)):
        q = _perceptron_q(alpha)
        assert math.acos(math.sqrt(q)) / math.pi == pytest.approx(eps, abs=2e-4)


@pytest.mark.parametrize("q", [0.05, 0.3, 0.7, 0.95])
def test_stable_sign_integral_equals_the_textbook_one_where_both_are_accurate(q):
    # Σ_y Z g² averaged over ω = √q ξ with a fine Hermite grid (textbook form, accurate away
    # from q → 1) equals the rescaled integral.
    z, w = gauss_hermite(801)
    omega = math.sqrt(q) * z[:, None]
    v = np.array([[1.0 - q]])
    ch = SignChannel()
    total = 0.0
    for y in (-1.0, 1.0):
        yy = np.full(len(z), y)
        total += w @ (ch.partition(yy, omega, v) * ch.gout(yy, omega, v)[0][:, 0] ** 2)
    assert sign_qhat(1.0, q) == pytest.approx(total, rel=1e-7)


def test_stable_integral_avoids_the_spurious_q_equal_one():
    q = _perceptron_q(20.0)
    assert 0.99 < q < 0.999  # ε(α = 20) ≈ 0.022, not 0


def test_rademacher_prior_matches_brute_force_overlap():
    # q = E_{w*, ξ} w* tanh(q̂w* + √q̂ξ), both signs of w* explicitly
    z, w = gauss_hermite(201)
    qh = 1.7
    brute = 0.5 * (w @ np.tanh(qh + math.sqrt(qh) * z) - w @ np.tanh(-qh + math.sqrt(qh) * z))
    assert RademacherPrior().bo_overlap(np.array([[qh]]))[0, 0] == pytest.approx(brute)


@pytest.mark.parametrize(("alpha", "lam"), [(0.5, 0.1), (2.0, 1.0), (5.0, 0.01)])
def test_erm_generic_quadrature_equals_the_square_loss_closed_form(alpha, lam):
    closed = erm_state_evolution(SquareLoss(), SignChannel(), lam, alpha)
    generic = erm_state_evolution(SquareLoss(), _Generic(SignChannel()), lam, alpha, nodes=301)
    assert closed.status.converged and generic.status.converged
    np.testing.assert_allclose(generic.x, closed.x, rtol=2e-5)


def test_generic_bo_hat_equals_the_closed_form_for_the_sign_channel():
    q = np.array([[0.4]])
    generic = bo_hat(_Generic(SignChannel()), 2.0, q, np.eye(1), nodes=201)
    assert generic[0, 0] == pytest.approx(bo_hat(SignChannel(), 2.0, q, np.eye(1))[0, 0],
                                          rel=1e-6)


def test_gaussian_nodes_reproduce_the_covariance_and_collapse_null_directions():
    q = np.array([[0.5, 0.2], [0.2, 0.3]])
    om, w = gaussian_nodes(q, 12)
    np.testing.assert_allclose((w[:, None] * om).T @ om, q, atol=1e-12)
    om, w = gaussian_nodes(np.full((2, 2), 0.3), 12)
    assert len(w) == 12  # rank one: a 1-D grid


def test_se_equals_gamp_overlap_on_a_large_instance():
    # Sec. 4 of arXiv 2409.13904: GAMP's overlap concentrates on the SE fixed point.
    rng = np.random.default_rng(7)
    d, alpha = 1500, 1.5
    x = rng.standard_normal((int(alpha * d), d))
    w_star = rng.standard_normal(d)
    w_star *= math.sqrt(d) / np.linalg.norm(w_star)
    y = np.sign(x @ w_star)
    res = gamp(x, y, GaussianPrior(), SignChannel(), w0=1e-3 * rng.standard_normal(d),
               tol=1e-7)
    assert res.status.converged
    m = res.w[:, 0] @ w_star / d
    assert m == pytest.approx(_perceptron_q(alpha), rel=0.04)  # ≈ 3 standard deviations


def test_committee_reference_values_and_specialisation():
    # Aubin et al., NeurIPS 2018 (arXiv 1806.05451), Sec. 4: for the K = 2 sign–sign committee
    # with Gaussian weights the specialisation is continuous, slightly above α = 2. Q = 0.2399
    # at α = 1 and the transition between α = 2.05 and 2.1 come from an independent
    # implementation (the project's paper note on 2409.13904, SE iterated for 1500 steps).
    prior, ch = GaussianPrior(), CommitteeSignChannel()
    res = bo_state_evolution(prior, ch, 1.0, np.diag([1e-3, 2e-3]), tol=1e-10, nodes=24,
                             method="anderson")
    np.testing.assert_allclose(res.x, 0.23995, atol=1e-4)
    a_spec, status = specialisation_threshold(prior, ch, nodes=24)
    assert status.converged and 2.0 < a_spec < 2.1
    # the iterated SE from an asymmetric start agrees with the stability threshold
    below = bo_state_evolution(prior, ch, a_spec - 0.25, 0.5 * np.eye(2), tol=1e-8, nodes=16)
    above = bo_state_evolution(prior, ch, a_spec + 0.25, 0.5 * np.eye(2), tol=1e-8, nodes=16)
    assert below.status.converged and above.status.converged
    assert below.x[0, 0] - below.x[0, 1] < 1e-4
    assert above.x[0, 0] - above.x[0, 1] > 0.05


def test_committee_error_quadrature_is_converged_to_half_a_percent():
    q = np.array([[0.65315, 0.16125], [0.16125, 0.65315]])
    ch = CommitteeSignChannel()
    e80 = bo_error(ch, q, np.eye(2), nodes=80)
    e160 = bo_error(ch, q, np.eye(2), nodes=120)
    assert e80 == pytest.approx(e160, rel=5e-3)


def test_logistic_erm_gamp_is_the_minimiser_and_follows_its_state_evolution():
    # ERM channel for the logistic loss: GAMP's fixed point minimises the ℓ2-penalised logistic
    # risk (L-BFGS on the same data), and its overlaps follow the ERM SE (generic quadrature).
    from scipy.optimize import minimize

    from theorylab.theory.gamp import L2Penalty, LogisticLoss

    rng = np.random.default_rng(0)
    d, alpha, lam = 800, 2.0, 0.5
    x = rng.standard_normal((int(alpha * d), d))
    w_star = rng.standard_normal(d)
    w_star *= math.sqrt(d) / np.linalg.norm(w_star)
    y = np.sign(x @ w_star)
    res = gamp(x, y, L2Penalty(lam), LogisticLoss(), w0=np.zeros(d), tol=1e-10, max_iter=500)
    assert res.status.converged

    def risk(w):
        z = x @ w / math.sqrt(d)
        grad = x.T @ (-y / (1.0 + np.exp(y * z))) / math.sqrt(d) + lam * w
        return np.logaddexp(0.0, -y * z).sum() + 0.5 * lam * w @ w, grad

    ref = minimize(risk, np.zeros(d), jac=True, method="L-BFGS-B",
                   options={"maxiter": 5000, "gtol": 1e-10, "ftol": 1e-15}).x
    w = res.w[:, 0]
    assert np.max(np.abs(w - ref)) < 1e-6 * np.max(np.abs(ref))
    se = erm_state_evolution(LogisticLoss(), SignChannel(), lam, alpha)
    assert se.status.converged
    m, q, _ = se.x
    assert w @ w_star / d == pytest.approx(m, rel=0.04)  # one draw at d = 800: ≈ 3 std
    assert w @ w / d == pytest.approx(q, rel=0.05)
