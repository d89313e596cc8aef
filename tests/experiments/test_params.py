"""Declarative parameters: coercion, the generic validator, relations, arrays, help text."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated

import numpy as np
import pytest

from theorylab.experiments.params import (
    Activation,
    Array,
    Choice,
    ParamsBase,
    Positive,
    Range,
    Relation,
    coerce_field,
    field_specs,
    is_grid,
    make_params,
    params_to_dict,
)


@dataclass(frozen=True)
class P(ParamsBase):
    alpha: Annotated[tuple[float, ...], Positive(), "ratios"] = (1.0, 2.0)
    lam: Annotated[tuple[float, ...], Range(0.0, 10.0), "penalties"] = (0.1,)
    d: Annotated[int, Range(1, 1000), "dimension"] = 10
    name: Annotated[str, Choice("x", "y"), "a name"] = "x"
    flag: Annotated[bool, "a flag"] = False
    eps: Annotated[float | None, Range(0.0, 1.0), "optional"] = None
    act: Annotated[str, Activation(centred=True), "odd activation"] = "tanh"
    spectrum: Annotated[
        tuple[float, ...] | None, Array(1, entries=Range(0.0, math.inf)), "eigenvalues"
    ] = None

    relations = (Relation("d", lambda p: p.d >= len(p.alpha), "d must be >= len(alpha)"),)


def test_coercion_from_strings_and_lists():
    assert coerce_field(P, "alpha", ["0.5", "2"]) == (0.5, 2.0)
    assert coerce_field(P, "alpha", "3") == (3.0,)
    assert coerce_field(P, "d", "12") == 12
    assert coerce_field(P, "d", 12.0) == 12
    assert coerce_field(P, "flag", "true") is True
    assert coerce_field(P, "eps", None) is None
    assert coerce_field(P, "eps", "none") is None
    assert coerce_field(P, "eps", "0.5") == 0.5
    for name, value, match in [
        ("d", "1.5", "integer"),
        ("alpha", ["x"], "number"),
        ("flag", "maybe", "true or false"),
        ("nope", 1, "unknown parameter"),
        ("d", [1, 2], "one value"),
    ]:
        with pytest.raises(ValueError, match=match):
            coerce_field(P, name, value)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"alpha": (-1.0,)}, r"^alpha must be in \(0, inf\), got -1\.0$"),
        ({"alpha": (math.nan,)}, "^alpha must be in"),
        ({"alpha": (math.inf,)}, "^alpha must be in"),
        ({"alpha": ()}, "^alpha must have at least one value$"),
        ({"lam": (11.0,)}, r"^lam must be in \[0, 10\]"),
        ({"d": 0}, r"^d must be in \[1, 1000\]"),
        ({"d": True}, "^d must be an integer"),
        ({"name": "z"}, "^name must be one of x, y"),
        ({"act": "relu"}, "^act must have zero Gaussian mean"),
        ({"act": "bogus"}, "^act unknown activation"),
        ({"eps": 2.0}, r"^eps must be in \[0, 1\]"),
        ({"d": 1}, "^d: d must be >= len"),
        ({"spectrum": ((1.0,),)}, "^spectrum must be a 1-d array"),
        ({"spectrum": (1.0, -2.0)}, "^spectrum must have entries in"),
        ({"spectrum": (1.0, math.nan)}, "^spectrum must have finite entries"),
    ],
)
def test_the_validator_names_the_field(overrides, message):
    with pytest.raises(ValueError, match=message):
        P(**overrides)


def test_make_params_validates_and_round_trips():
    p = make_params(P, {"alpha": [0.5], "d": "3", "spectrum": [1.0, 0.5]})
    assert p == P(alpha=(0.5,), d=3, spectrum=(1.0, 0.5))
    assert make_params(P, params_to_dict(p)) == p
    hash(p)  # frozen and hashable, arrays included
    with pytest.raises(ValueError, match="alpha"):
        make_params(P, {"alpha": ["-1"]})


def test_arrays_load_from_files(tmp_path):
    np.save(tmp_path / "s.npy", np.array([3.0, 2.0, 1.0]))
    (tmp_path / "s.csv").write_text("1,2,3\n")
    assert coerce_field(P, "spectrum", f"@{tmp_path / 's.npy'}") == (3.0, 2.0, 1.0)
    assert coerce_field(P, "spectrum", f"@{tmp_path / 's.csv'}") == (1.0, 2.0, 3.0)
    with pytest.raises(ValueError, match=r"^spectrum: no such file"):
        coerce_field(P, "spectrum", "@/nonexistent.npy")
    (tmp_path / "bad.csv").write_text("1,a\n")
    with pytest.raises(ValueError, match=r"^spectrum: cannot read"):
        coerce_field(P, "spectrum", f"@{tmp_path / 'bad.csv'}")


def test_specs_describe_every_field_for_the_help():
    specs = field_specs(P)
    assert list(specs) == ["alpha", "lam", "d", "name", "flag", "eps", "act", "spectrum"]
    assert is_grid(P, "alpha") and not is_grid(P, "spectrum") and not is_grid(P, "d")
    assert specs["alpha"].describe() == "grid of float in (0, inf) (default 1,2)"
    assert specs["d"].describe() == "int in [1, 1000] (default 10)"
    assert "or none" in specs["eps"].describe()
    assert specs["spectrum"].array is not None and "@path" in specs["spectrum"].describe()
    assert specs["alpha"].description == "ratios"


def test_validation_imports_no_torch():
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['torch'] = None\n"
        "from theorylab.experiments.params import Activation\n"
        "assert Activation(centred=True).error('relu')\n"
        "assert Activation(centred=True).error('tanh(3x)') is None\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
