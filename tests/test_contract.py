"""The Experiment contract, for every registered experiment (a new paper is covered the day it
is registered): declarations, outputs, catalogue, torch-free theory, and fuzzed bad input
through the CLI (exit 2, one line naming the field, nothing written)."""

from __future__ import annotations

import dataclasses
import math
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from theorylab.experiments.contract import declaration_violations, output_violations
from theorylab.experiments.params import field_specs
from theorylab.experiments.result import DRAWS_KEY
from theorylab.runner.registry import all_experiments, import_errors

EXPERIMENTS = list(all_experiments().values())
IDS = [e.slug for e in EXPERIMENTS]


def test_every_paper_module_imports():
    assert import_errors() == {}


@pytest.mark.parametrize("exp", EXPERIMENTS, ids=IDS)
def test_declarations(exp):
    assert declaration_violations(exp) == []


@pytest.mark.parametrize("exp", EXPERIMENTS, ids=IDS)
def test_theory_returns_what_is_declared(exp):
    p = exp.make_params()
    assert output_violations(exp, p, theory=exp.theory(p)) == []


@pytest.mark.parametrize("exp", EXPERIMENTS, ids=IDS)
def test_smoke_simulation_returns_what_is_declared(exp):
    p = exp.make_params(exp.smoke)
    sim = exp.simulate(p, 0, device="cpu")
    assert output_violations(exp, p, simulation=sim) == []


@pytest.mark.parametrize("exp", EXPERIMENTS, ids=IDS)
def test_the_simulation_honours_its_device_or_says_it_runs_on_the_cpu_only(exp):
    """``device`` reaches torch (DESIGN: ``device=`` honoured), or the experiment declares why
    it cannot (``cpu_only``) and a run on another device is refused. Without CUDA, asking for
    it must fail on CUDA itself, not run silently on the CPU; with CUDA the smoke run runs
    there."""
    import torch

    if exp.cpu_only:
        with pytest.raises(ValueError, match="CPU only"):
            exp.check_device("cuda")
        assert exp.simulation_device("cuda") == "cpu"
        return
    p = exp.make_params(exp.smoke)
    if torch.cuda.is_available():
        assert output_violations(exp, p, simulation=exp.simulate(p, 0, device="cuda")) == []
    else:
        with pytest.raises((AssertionError, RuntimeError), match="CUDA"):
            exp.simulate(p, 0, device="cuda")


def test_a_broken_experiment_is_caught():
    """An observable renamed in simulate, an undeclared axis and an unchecked prediction."""
    exp = all_experiments()["bayes_extensive"]

    def renamed(p, seed, device="cpu"):
        out = exp.simulate(p, seed, device=device)
        out["nmse_ridge_optimal"] = out.pop("nmse_ridge_opt")
        return out

    broken = dataclasses.replace(exp, simulate=renamed)
    p = exp.make_params(exp.smoke)
    found = output_violations(broken, p, simulation=broken.simulate(p, 0))
    assert any("nmse_ridge_optimal" in v for v in found)
    assert any("does not return 'nmse_ridge_opt'" in v for v in found)

    def bad_draws(p, seed, device="cpu"):
        out = exp.simulate(p, seed, device=device)
        value = np.asarray(out["nmse_ridge_opt"], dtype=float)
        out[DRAWS_KEY] = {"nmse_ridge_opt": np.stack([value, value + 1.0]), "nope": value[None]}
        return out

    found = output_violations(dataclasses.replace(exp, simulate=bad_draws), p,
                              simulation=bad_draws(p, 0))
    assert any("'nmse_ridge_opt' is not the mean of its draws" in v for v in found)
    assert any("draws of 'nope' but not the observable" in v for v in found)

    unchecked = dataclasses.replace(exp, theory_only={})
    found = output_violations(unchecked, exp.make_params(), theory=exp.theory(exp.make_params()))
    assert any("'q_bo' is neither checked nor theory-only" in v for v in found)

    no_checks = dataclasses.replace(exp, checks=())
    assert any("no checks" in v for v in declaration_violations(no_checks))

    cites_notes = dataclasses.replace(
        exp, checks=(dataclasses.replace(exp.checks[0], reason="as in the note"),)
    )
    assert any("cite the paper" in v for v in declaration_violations(cites_notes))


def test_params_and_theory_import_no_torch():
    """Validation and theory of every experiment run where importing torch fails."""
    code = textwrap.dedent(
        """
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == "torch" or name.startswith("torch."):
                    raise ImportError("torch is blocked in this test")
        sys.meta_path.insert(0, Block())
        from theorylab.runner.registry import all_experiments, import_errors
        assert import_errors() == {}, import_errors()
        for exp in all_experiments().values():
            p = exp.make_params()
            exp.theory(p)
        assert "torch" not in sys.modules
        print(len(all_experiments()))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=600, check=False
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert int(out.stdout.split()[-1]) == len(EXPERIMENTS)


# --------------------------------------------------------------------------------------------
# Fuzzing every Params field
# --------------------------------------------------------------------------------------------

FIELDS = [(e, name) for e in EXPERIMENTS for name in field_specs(e.params)]
FIELD_IDS = [f"{e.slug}.{name}" for e, name in FIELDS]

ANY_VALUE = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.booleans(),
    st.text(max_size=12),
    st.lists(st.floats(allow_nan=True), max_size=3),
    st.none(),
)


@pytest.mark.parametrize(("exp", "name"), FIELDS, ids=FIELD_IDS)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=ANY_VALUE)
def test_any_value_is_accepted_or_refused_naming_the_field(exp, name, value):
    """Validation never raises anything but a one-line ValueError that names the field."""
    try:
        exp.make_params({name: value})
    except ValueError as exc:
        message = str(exc)
        assert name in message
        assert "\n" not in message


def _bad_values(spec) -> list[str]:
    """CLI strings that no declaration of this field admits."""
    if spec.array is not None:
        return ["nan", "@/nonexistent.npy"]
    bad = {"str": [], "bool": ["maybe"], "int": ["1.5", "abc", "nan"]}.get(
        spec.base.__name__, ["abc", "nan", "inf", "-inf"]
    )
    for c in spec.constraints:
        low = getattr(c, "low", None)
        high = getattr(c, "high", None)
        if low is not None and math.isfinite(low):
            bad.append(repr(low - 1 if spec.base is int else low - 1.0 - abs(low)))
        if high is not None and math.isfinite(high):
            bad.append(repr(int(high * 10 + 10) if spec.base is int else high * 10 + 10))
        if hasattr(c, "values"):
            bad.append("no-such-choice")
        if type(c).__name__ == "Activation":
            bad.append("no_such_activation")
    if spec.grid:
        bad.append("")
    return bad


CLI_CASES = [
    (e, name, value)
    for e, name in FIELDS
    for value in _bad_values(field_specs(e.params)[name])
]


@pytest.mark.parametrize(
    ("exp", "name", "value"),
    CLI_CASES,
    ids=[f"{e.slug}.{n}={v}" for e, n, v in CLI_CASES],
)
def test_cli_refuses_bad_values(exp, name, value, tmp_path, capsys, monkeypatch):
    from theorylab import cli

    store = tmp_path / "store"
    argv = ["theorylab", "sweep", exp.slug, "-g", f"{name}={value}", "--store", str(store)]
    if value == "":
        argv = ["theorylab", "theory", exp.slug, "-p", f"{name}="]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as stop:
        cli.main()
    err = capsys.readouterr().err.strip()
    assert stop.value.code == 2, err
    assert len(err.splitlines()) == 1, err
    assert name in err
    assert "Traceback" not in err
    assert not store.exists() or not any(store.rglob("*.json"))


@pytest.mark.parametrize("exp", EXPERIMENTS, ids=IDS)
def test_cli_refuses_unknown_parameter_and_zero_seeds(exp, capsys, monkeypatch):
    from theorylab import cli

    for argv in (
        ["theorylab", "theory", exp.slug, "-p", "no_such_field=1"],
        ["theorylab", "run", exp.slug, "--seeds", "0"],
    ):
        monkeypatch.setattr(sys, "argv", argv)
        with pytest.raises(SystemExit) as stop:
            cli.main()
        err = capsys.readouterr().err.strip()
        assert stop.value.code == 2, err
        assert len(err.splitlines()) == 1
