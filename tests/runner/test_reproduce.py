"""The reproduction plan: every run of every experiment, with a variant's own seed count."""

from __future__ import annotations

import dataclasses

import theorylab as tl
import theorylab.runner.reproduce as rp
from theorylab.runner.registry import get


def test_plan_lists_main_then_variants_with_their_seeds():
    exp = get("bayes_extensive")
    plan = rp.reproduction_plan([exp])
    assert [(v, s) for _, v, _, s in plan] == [("main", None), ("narrow", 144), ("wide", None)]
    assert plan[1][2] == {"gamma": 0.5, "alpha": (1.0,)}


def test_reproduce_runs_a_variant_with_its_seeds_at_the_quick_size_only(tmp_path, monkeypatch):
    calls = []

    def fake_run(exp, overrides, *, preset, seeds, variant, **_):
        calls.append((variant, preset, seeds))
        return tl_result(exp, variant)

    theory_only = tl.run("bayes_extensive", {"alpha": "1"}, simulate=False)

    def tl_result(exp, variant):
        return dataclasses.replace(theory_only, variant=variant)

    monkeypatch.setattr(rp, "run", fake_run)
    monkeypatch.setattr(rp, "write_report", lambda out, exps: out / "index.html")
    for preset in ("quick", "full"):
        rp.reproduce(["bayes_extensive"], preset=preset, out=tmp_path / preset)
    assert calls == [
        ("main", "quick", None), ("narrow", "quick", 144), ("wide", "quick", None),
        ("main", "full", None), ("narrow", "full", None), ("wide", "full", None),
    ]
    assert sorted(p.name for p in (tmp_path / "quick" / "bayes_extensive").iterdir()) == [
        "main.json", "narrow.json", "wide.json"
    ]
