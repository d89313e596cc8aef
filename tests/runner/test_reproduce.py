"""The reproduction plan: every run of every experiment, with a variant's own seed count."""

from __future__ import annotations

import dataclasses

import pytest

import theorylab as tl
import theorylab.runner.reproduce as rp
from theorylab.runner.registry import get


def test_plan_lists_main_then_variants_with_their_seeds():
    exp = get("dot_product_attention")
    plan = rp.reproduction_plan([exp])
    assert [(v, s) for _, v, _, s in plan] == [("main", None), ("histogram", 3)]
    assert plan[1][2] == {"task": "histogram"}


def test_reproduce_runs_a_variant_with_its_seeds_at_the_quick_size_only(tmp_path, monkeypatch):
    calls = []

    def fake_run(exp, overrides, *, preset, seeds, variant, **_):
        calls.append((variant, preset, seeds))
        return tl_result(exp, variant)

    theory_only = tl.run("dot_product_attention", {"alpha": "1"}, simulate=False)

    def tl_result(exp, variant):
        return dataclasses.replace(theory_only, variant=variant)

    monkeypatch.setattr(rp, "run", fake_run)
    monkeypatch.setattr(rp, "write_report", lambda out, exps: out / "index.html")
    for preset in ("quick", "full"):
        rp.reproduce(["dot_product_attention"], preset=preset, out=tmp_path / preset)
    assert calls == [
        ("main", "quick", None), ("histogram", "quick", 3),
        ("main", "full", None), ("histogram", "full", None),
    ]
    assert sorted(p.name for p in (tmp_path / "quick" / "dot_product_attention").iterdir()) == [
        "histogram.json", "main.json"
    ]


def test_pooled_reproduction_equals_the_one_by_one(tmp_path):
    """-j 2 queues every seed of every run on one pool and computes the theories meanwhile: the
    runs' statistics and check rows are the ones of the runs made one after the other, each
    run is saved, and its elapsed time is the work it cost (theory + its seeds' times)."""
    from theorylab.runner.executors import ExecutorSpec

    plan = [
        (get(slug), "main", dict(get(slug).smoke), 2)
        for slug in ("linear_mixed_regime", "flow_gmm")
    ]
    serial = rp._one_by_one(plan, "quick", ExecutorSpec(), "cpu", False, tmp_path / "a")
    pooled = rp._pooled(plan, "quick", ExecutorSpec(jobs=2), "cpu", False, tmp_path / "b")
    assert [(r.slug, r.variant) for r in pooled] == [(r.slug, r.variant) for r in serial]
    for a, b in zip(serial, pooled, strict=True):
        assert [(c.observable, c.passed, c.simulation) for c in a.checks] == [
            (c.observable, c.passed, c.simulation) for c in b.checks
        ]
        assert b.elapsed_s == pytest.approx(b.timings["theory_s"] + b.timings["simulation_s"])
        assert (tmp_path / "b" / b.slug / "main.json").is_file()
