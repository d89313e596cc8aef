"""Tied rank-one dot-product attention (arXiv 2402.03902): output, training, linear baseline."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from theorylab.models.attention import (  # noqa: E402
    AttentionTask,
    ReducedTask,
    attention_output,
    expected_pair_cost,
    fit_linear_baseline,
    reduced_losses,
    risk,
    train_lbfgs,
)


def _task(n=300, d=50, omega=0.3, seed=0):
    gen = torch.Generator().manual_seed(seed)
    a = torch.tensor([[0.6, 0.4], [0.4, 0.6]], dtype=torch.float64)
    teacher = torch.randn(d, generator=gen, dtype=torch.float64)
    return AttentionTask.draw(n, d, 0.5, omega, a, teacher, gen), a


def test_two_token_softmax_is_the_logistic_form():
    # L = 2: S₁₁ = s(h₁² − h₁h₂), S₂₂ = s(h₂² − h₁h₂) (Sec. 2 of the paper)
    task, _ = _task(n=20)
    q = torch.randn(50, dtype=torch.float64)
    h = task.x @ q / 50**0.5
    s11 = torch.sigmoid(h[:, 0] ** 2 - h[:, 0] * h[:, 1])
    s22 = torch.sigmoid(h[:, 1] ** 2 - h[:, 0] * h[:, 1])
    expected0 = s11[:, None] * task.x[:, 0] + (1 - s11)[:, None] * task.x[:, 1]
    expected1 = (1 - s22)[:, None] * task.x[:, 0] + s22[:, None] * task.x[:, 1]
    out = attention_output(q, task.x)
    torch.testing.assert_close(out[:, 0], expected0)
    torch.testing.assert_close(out[:, 1], expected1)


def test_lbfgs_reaches_a_stationary_point():
    task, _ = _task()
    q, _ = train_lbfgs(0.25 * torch.ones(50, dtype=torch.float64), task, 0.01)
    qq = q.clone().requires_grad_(True)
    risk(qq, task, 0.01).backward()
    assert qq.grad.norm() < 1e-6


def test_linear_baseline_recovers_a_purely_positional_target():
    task, a = _task(omega=1.0)  # y = A z exactly
    torch.testing.assert_close(fit_linear_baseline(task, ridge=1e-10), a, atol=1e-8, rtol=0)


def test_risk_gradient_matches_finite_differences():
    task, _ = _task(n=40, d=20)
    q = 0.3 * torch.randn(20, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    qq = q.clone().requires_grad_(True)
    risk(qq, task, 0.01).backward()
    eps = 1e-6
    fd = torch.stack([(risk(q + eps * e, task, 0.01) - risk(q - eps * e, task, 0.01)) / (2 * eps)
                      for e in torch.eye(20, dtype=torch.float64)])
    torch.testing.assert_close(qq.grad, fd, rtol=1e-6, atol=1e-8)


def test_reduced_task_gives_the_same_risk_and_gradient():
    task, _ = _task(n=60, d=30)
    red = ReducedTask.of(task)
    q = 0.4 * torch.randn(30, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    qa, qb = q.clone().requires_grad_(True), q.clone().requires_grad_(True)
    ra, rb = risk(qa, task, 0.01), risk(qb, red, 0.01)
    ra.backward()
    rb.backward()
    torch.testing.assert_close(rb, ra, rtol=1e-12, atol=0)
    torch.testing.assert_close(qb.grad, qa.grad, rtol=1e-10, atol=1e-12)
    per = ((attention_output(q, task.x[:7]) - task.y[:7]) ** 2).sum((-1, -2)) / 60
    torch.testing.assert_close(reduced_losses(q, red.head(7)), per, rtol=1e-11, atol=0)


@pytest.mark.parametrize(("d", "sigma", "omega"), [(8, 0.5, 0.3), (30, 0.7, 0.1)])
def test_expected_pair_cost_matches_brute_force_sampling(d, sigma, omega):
    # c = ‖x₂ − y₁‖² + ‖x₁ − y₂‖² averaged over 400 000 sequences of one teacher (normalised
    # to ‖Q*‖² = d, with a large overlap 1ᵀQ*/√d the cross term would feel if it were not odd)
    gen = torch.Generator().manual_seed(1)
    a = torch.tensor([[0.6, 0.4], [0.4, 0.6]], dtype=torch.float64)
    teacher = torch.randn(d, generator=gen, dtype=torch.float64) + 1.0
    teacher *= d**0.5 / teacher.norm()
    c = ReducedTask.of(AttentionTask.draw(400_000, d, sigma, omega, a, teacher, gen)).c / d
    expected = expected_pair_cost(d, sigma, omega, 0.6)
    assert abs(float(c.mean()) - expected) < 4 * float(c.std()) / 400_000**0.5
    # and a wrong σ² in the bulk term would be seen
    assert abs(float(c.mean()) - expected_pair_cost(d, sigma * 1.01, omega, 0.6)) > 4 * float(
        c.std()) / 400_000**0.5
